"""Resource locks: runs whose packs name the same resource take turns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resource_locks",
        sa.Column("workspace_url", sa.String(length=500), nullable=False),
        sa.Column("resource", sa.String(length=300), nullable=False),
        sa.Column("share_pack_id", sa.Uuid(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_url", "resource", name=op.f("pk_resource_locks")),
        schema="sharepack",
    )
    op.create_index(
        "ix_resource_locks_pack",
        "resource_locks",
        ["share_pack_id"],
        unique=False,
        schema="sharepack",
    )


def downgrade() -> None:
    op.drop_index("ix_resource_locks_pack", table_name="resource_locks", schema="sharepack")
    op.drop_table("resource_locks", schema="sharepack")
