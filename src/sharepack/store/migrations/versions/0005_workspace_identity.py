"""Workspace identity: locks keyed on the workspace's own id, history rows carry it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:00:00

`resource_locks` is keyed on `workspace_id` instead of `workspace_url`. Its rows only
live while a run does and cannot be given an id here (only the workspace knows it), so
the table is made again empty: upgrade with no run under way (a run taken over takes
its locks again). `share_packs`, `recipients`, `shares` and `pipelines` get a nullable
`workspace_id` beside `workspace_url`; rows written before keep their URL, and the next
run that reads that workspace fills in its id (`store.workspaces`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_HISTORY_TABLES = ("share_packs", "recipients", "shares", "pipelines")


def _deltashare() -> str | None:
    """The seeds' schema; None on SQLite, where ALTER TABLE is not given the engine's
    schema translation and the tables have their bare names."""
    return None if op.get_bind().dialect.name == "sqlite" else "deltashare"


def upgrade() -> None:
    for table in _HISTORY_TABLES:
        op.add_column(
            table,
            sa.Column("workspace_id", sa.String(length=64), nullable=True),
            schema=_deltashare(),
        )
    _drop_locks()
    _create_locks("workspace_id", sa.String(length=64))


def downgrade() -> None:
    _drop_locks()
    _create_locks("workspace_url", sa.String(length=500))
    for table in _HISTORY_TABLES:
        with op.batch_alter_table(table, schema=_deltashare()) as batch:
            batch.drop_column("workspace_id")


def _drop_locks() -> None:
    op.drop_index("ix_resource_locks_pack", table_name="resource_locks", schema="sharepack")
    op.drop_table("resource_locks", schema="sharepack")


def _create_locks(workspace_column: str, workspace_type: sa.String) -> None:
    op.create_table(
        "resource_locks",
        sa.Column(workspace_column, workspace_type, nullable=False),
        sa.Column("resource", sa.String(length=300), nullable=False),
        sa.Column("share_pack_id", sa.Uuid(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(workspace_column, "resource", name=op.f("pk_resource_locks")),
        schema="sharepack",
    )
    op.create_index(
        "ix_resource_locks_pack",
        "resource_locks",
        ["share_pack_id"],
        unique=False,
        schema="sharepack",
    )
