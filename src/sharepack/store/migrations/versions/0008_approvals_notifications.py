"""Approvals, scheduled and batch uploads, notifications recorded per attempt

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-23 12:00:00

`share_packs` gets `approval_state`, `approval_plan` (the plan put to the approvers, with
its digest), `not_before` (a scheduled pack's earliest start), `batch_id` and `started_at`
(when a worker took the run up: a pack can be cancelled until then).
`sharepack.approval_decisions` holds approvers' decisions and `sharepack.batches` uploads
of several files. `notifications` gets the event, the channel, the attempt, its error and
the delivery the attempt belongs to, an index by pack, and triggers that refuse UPDATE and
DELETE (and TRUNCATE on PostgreSQL), as `audit_trail` has; `approval_decisions` gets the
same. Rows written before keep NULL in the new columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PACK_COLUMNS = ("approval_state", "approval_plan", "not_before", "batch_id", "started_at")
_NOTIFICATION_COLUMNS = ("event", "channel", "attempt", "error", "delivery_id")
#: (schema on PostgreSQL, table): the logs made append-only here.
_APPEND_ONLY = (("deltashare", "notifications"), ("sharepack", "approval_decisions"))


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _deltashare() -> str | None:
    """The seeds' schema; None on SQLite, where ALTER TABLE is not given the engine's
    schema translation and the tables have their bare names."""
    return None if _is_sqlite() else "deltashare"


def _json() -> sa.types.TypeEngine[object]:
    from sqlalchemy.dialects import postgresql

    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column(
        "share_packs", sa.Column("approval_state", sa.String(length=30)), schema=_deltashare()
    )
    op.add_column("share_packs", sa.Column("approval_plan", _json()), schema=_deltashare())
    op.add_column(
        "share_packs", sa.Column("not_before", sa.DateTime(timezone=True)), schema=_deltashare()
    )
    op.add_column("share_packs", sa.Column("batch_id", sa.Uuid()), schema=_deltashare())
    op.add_column(
        "share_packs", sa.Column("started_at", sa.DateTime(timezone=True)), schema=_deltashare()
    )
    op.create_index("ix_share_packs_batch_id", "share_packs", ["batch_id"], schema=_deltashare())

    op.add_column("notifications", sa.Column("event", sa.String(length=40)), schema=_deltashare())
    op.add_column("notifications", sa.Column("channel", sa.String(length=20)), schema=_deltashare())
    op.add_column("notifications", sa.Column("attempt", sa.Integer()), schema=_deltashare())
    op.add_column("notifications", sa.Column("error", sa.Text()), schema=_deltashare())
    op.add_column("notifications", sa.Column("delivery_id", sa.Uuid()), schema=_deltashare())
    op.create_index(
        "ix_notifications_share_pack_id", "notifications", ["share_pack_id"], schema=_deltashare()
    )

    op.create_table(
        "approval_decisions",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("share_pack_id", sa.Uuid(), nullable=False),
        sa.Column("plan_digest", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("group_name", sa.String(length=255), nullable=False),
        sa.Column("approver", sa.String(length=255), nullable=False),
        sa.Column("approver_email", sa.String(length=255), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_approval_decisions")),
        schema="sharepack",
    )
    op.create_index(
        "ix_approval_decisions_share_pack_id",
        "approval_decisions",
        ["share_pack_id"],
        schema="sharepack",
    )
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("submitted_by", sa.String(length=255), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_batches")),
        schema="sharepack",
    )
    for schema, table in _APPEND_ONLY:
        _create_triggers(schema, table)


def downgrade() -> None:
    for schema, table in _APPEND_ONLY:
        _drop_triggers(schema, table)
    op.drop_table("batches", schema="sharepack")
    op.drop_index(
        "ix_approval_decisions_share_pack_id", table_name="approval_decisions", schema="sharepack"
    )
    op.drop_table("approval_decisions", schema="sharepack")
    op.drop_index(
        "ix_notifications_share_pack_id", table_name="notifications", schema=_deltashare()
    )
    # Plain DROP COLUMN (SQLite 3.35+), not a batch copy of the table: a copy on SQLite
    # would lose the expression index 0007 made on `share_packs`.
    for name in _NOTIFICATION_COLUMNS:
        op.drop_column("notifications", name, schema=_deltashare())
    op.drop_index("ix_share_packs_batch_id", table_name="share_packs", schema=_deltashare())
    for name in _PACK_COLUMNS:
        op.drop_column("share_packs", name, schema=_deltashare())


def _create_triggers(schema: str, table: str) -> None:
    refusal = f"{table} is append-only"
    if _is_sqlite():
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{refusal}'); END"
            )
        return
    function = f"{schema}.{table}_append_only"
    op.execute(
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  RAISE EXCEPTION '{refusal}'\n"
        f"    USING DETAIL = TG_OP || ' of {schema}.{table} refused: its rows are only "
        "ever inserted';\n"
        "END;\n"
        "$$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE "
        f"ON {schema}.{table} FOR EACH ROW EXECUTE FUNCTION {function}()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE "
        f"ON {schema}.{table} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )


def _drop_triggers(schema: str, table: str) -> None:
    if _is_sqlite():
        for event in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event.lower()}")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {schema}.{table}")
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {schema}.{table}")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.{table}_append_only()")
