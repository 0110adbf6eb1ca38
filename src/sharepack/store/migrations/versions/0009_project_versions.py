"""Project versions: each completed run, rollback and recorded drift of a project

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-24 12:00:00

`sharepack.project_versions` holds each version of a project (workspace, business line,
project name) with its number, what it changed and the compressed state of its resources
before and after it. `share_packs.restores_version` names the version a rollback pack puts
back. Packs completed before keep no version: a project's first version is its first run
after this migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _deltashare() -> str | None:
    """The seeds' schema; None on SQLite (see 0008)."""
    return None if op.get_bind().dialect.name == "sqlite" else "deltashare"


def _json() -> sa.types.TypeEngine[object]:
    from sqlalchemy.dialects import postgresql

    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("share_packs", sa.Column("restores_version", sa.Uuid()), schema=_deltashare())
    op.create_table(
        "project_versions",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("project_key", sa.String(length=800), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("workspace_url", sa.String(length=500), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=True),
        sa.Column("business_line", sa.String(length=255), nullable=False),
        sa.Column("project_name", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("share_pack_id", sa.Uuid(), nullable=True),
        sa.Column("restores", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("change_reason", sa.Text(), nullable=False),
        sa.Column("changes", _json(), nullable=False),
        sa.Column("names", _json(), nullable=False),
        sa.Column("before_state", sa.LargeBinary(), nullable=True),
        sa.Column("after_state", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_project_versions")),
        schema="sharepack",
    )
    op.create_index(
        "ix_project_versions_number",
        "project_versions",
        ["project_key", "number"],
        unique=True,
        schema="sharepack",
    )
    op.create_index(
        "ix_project_versions_project_id", "project_versions", ["project_id"], schema="sharepack"
    )
    op.create_index(
        "ix_project_versions_share_pack_id",
        "project_versions",
        ["share_pack_id"],
        schema="sharepack",
    )


def downgrade() -> None:
    for name in (
        "ix_project_versions_share_pack_id",
        "ix_project_versions_project_id",
        "ix_project_versions_number",
    ):
        op.drop_index(name, table_name="project_versions", schema="sharepack")
    op.drop_table("project_versions", schema="sharepack")
    # Plain DROP COLUMN, as 0008 explains.
    op.drop_column("share_packs", "restores_version", schema=_deltashare())
