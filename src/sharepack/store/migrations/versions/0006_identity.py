"""Identity: API keys, who submitted a pack and under which project, an append-only audit trail

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09 12:00:00

`sharepack.api_keys` holds the keys sharepack issued (a hash of each, never the key), one
active key per name. `share_packs` gets `submitted_by` (the authenticated uploader) and
`project_id` (the project the pack was filed under); rows written before keep NULL.
`audit_trail` gets how the caller authenticated, the outcome, the business line and where
the request came from, an index on `created_at` for searches by time, and triggers that
refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL): the trail is append-only in the
database, not only in sharepack's code. Downgrade drops the triggers before it changes
the table, so a batch copy of it on SQLite is not refused.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_REFUSAL = "audit_trail is append-only"

_AUDIT_COLUMNS = (
    ("auth_method", 20),
    ("outcome", 20),
    ("business_line", 255),
    ("client_address", 100),
    ("user_agent", 500),
)

_SQLITE_TRIGGERS = {
    "audit_trail_no_update": "UPDATE",
    "audit_trail_no_delete": "DELETE",
}

_PG_FUNCTION = "deltashare.audit_trail_append_only"


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _deltashare() -> str | None:
    """The seeds' schema; None on SQLite, where ALTER TABLE is not given the engine's
    schema translation and the tables have their bare names."""
    return None if _is_sqlite() else "deltashare"


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column(
            "business_lines",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("acts_for_others", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("owner_email", sa.String(length=255), nullable=True),
        sa.Column("is_local_admin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=255), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_keys")),
        schema="sharepack",
    )
    op.create_index(
        "uq_api_keys_active_name",
        "api_keys",
        ["name"],
        unique=True,
        schema="sharepack",
        postgresql_where=sa.text("revoked_at IS NULL"),
        sqlite_where=sa.text("revoked_at IS NULL"),
    )

    op.add_column(
        "share_packs", sa.Column("submitted_by", sa.String(length=255)), schema=_deltashare()
    )
    op.add_column("share_packs", sa.Column("project_id", sa.Uuid()), schema=_deltashare())
    op.create_index(
        "ix_share_packs_project_id", "share_packs", ["project_id"], schema=_deltashare()
    )

    for name, length in _AUDIT_COLUMNS:
        op.add_column(
            "audit_trail", sa.Column(name, sa.String(length=length)), schema=_deltashare()
        )
    op.create_index(
        "ix_audit_trail_created_at", "audit_trail", ["created_at"], schema=_deltashare()
    )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_index("ix_audit_trail_created_at", table_name="audit_trail", schema=_deltashare())
    with op.batch_alter_table("audit_trail", schema=_deltashare()) as batch:
        for name, _ in _AUDIT_COLUMNS:
            batch.drop_column(name)

    op.drop_index("ix_share_packs_project_id", table_name="share_packs", schema=_deltashare())
    with op.batch_alter_table("share_packs", schema=_deltashare()) as batch:
        batch.drop_column("project_id")
        batch.drop_column("submitted_by")

    op.drop_index(
        "uq_api_keys_active_name",
        table_name="api_keys",
        schema="sharepack",
        postgresql_where=sa.text("revoked_at IS NULL"),
        sqlite_where=sa.text("revoked_at IS NULL"),
    )
    op.drop_table("api_keys", schema="sharepack")


def _create_triggers() -> None:
    if _is_sqlite():
        for trigger, event in _SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {trigger} BEFORE {event} ON audit_trail "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
            )
        return
    op.execute(
        f"CREATE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  RAISE EXCEPTION '{_REFUSAL}'\n"
        "    USING DETAIL = TG_OP || ' of deltashare.audit_trail refused: its rows are only "
        "ever inserted';\n"
        "END;\n"
        "$$"
    )
    op.execute(
        "CREATE TRIGGER audit_trail_no_update_delete BEFORE UPDATE OR DELETE "
        f"ON deltashare.audit_trail FOR EACH ROW EXECUTE FUNCTION {_PG_FUNCTION}()"
    )
    op.execute(
        "CREATE TRIGGER audit_trail_no_truncate BEFORE TRUNCATE "
        f"ON deltashare.audit_trail FOR EACH STATEMENT EXECUTE FUNCTION {_PG_FUNCTION}()"
    )


def _drop_triggers() -> None:
    if _is_sqlite():
        for trigger in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_trail_no_truncate ON deltashare.audit_trail")
    op.execute("DROP TRIGGER IF EXISTS audit_trail_no_update_delete ON deltashare.audit_trail")
    op.execute(f"DROP FUNCTION IF EXISTS {_PG_FUNCTION}()")
