"""Sync ticks: which process runs a scheduled sync job in each tick

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 20:30:00

`sharepack.sync_ticks` holds one row per (job name, tick) that a process claimed; the
primary key lets exactly one process claim a tick, so however many workers run the
scheduler, a job runs once per tick.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_ticks",
        sa.Column("job_name", sa.String(length=100), nullable=False),
        sa.Column("tick", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_name", "tick", name=op.f("pk_sync_ticks")),
        schema="sharepack",
    )


def downgrade() -> None:
    op.drop_table("sync_ticks", schema="sharepack")
