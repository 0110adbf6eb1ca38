"""Indexes for the queries that scanned whole history tables at scale

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-16 12:00:00

Measured with about a million SCD2 rows (bench/latency.py): each run scanned
`share_packs`, `recipients`, `shares` and `pipelines` whole to give rows of its URL the
workspace's id (`store.workspaces`), and `requests` whole to end the pack's request; a
pack that prunes scanned `share_packs` whole for its project's packs, on upload and in
each run (0.8 s at 500,000 versions); each upload scanned `projects` for the business
line's projects. Each now has an index:

- `ix_<table>_unidentified` on the four tables: `workspace_url` of the rows whose
  `workspace_id` is NULL (partial, so it holds only rows still to identify);
- `ix_requests_share_pack_id`, `ix_projects_tenant_id`;
- `ix_share_packs_project_names`: the project name and business line lowered and
  trimmed, as the query compares them, then `workspace_url` (last, so that a search by
  URL alone takes the partial index above).

Only indexes: no row changes, and downgrade drops them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_IDENTIFIED = ("share_packs", "recipients", "shares", "pipelines")
_PLAIN = (
    ("ix_requests_share_pack_id", "requests", "share_pack_id"),
    ("ix_projects_tenant_id", "projects", "tenant_id"),
)


def upgrade() -> None:
    for table in _IDENTIFIED:
        op.create_index(
            f"ix_{table}_unidentified",
            table,
            ["workspace_url"],
            unique=False,
            schema="deltashare",
            postgresql_where=sa.text("workspace_id IS NULL"),
            sqlite_where=sa.text("workspace_id IS NULL"),
        )
    for name, table, column in _PLAIN:
        op.create_index(name, table, [column], unique=False, schema="deltashare")
    # btrim on PostgreSQL, read back as written (its `trim(x)` reads back as TRIM(BOTH
    # FROM x)); SQLite has only trim. `dialect.trimmed` writes the queries the same way.
    trim = "trim" if op.get_bind().dialect.name == "sqlite" else "btrim"
    op.create_index(
        "ix_share_packs_project_names",
        "share_packs",
        [
            sa.text(f"lower({trim}(project_name))"),
            sa.text(f"lower({trim}(business_line))"),
            "workspace_url",
        ],
        unique=False,
        schema="deltashare",
    )


def downgrade() -> None:
    op.drop_index("ix_share_packs_project_names", table_name="share_packs", schema="deltashare")
    for name, table, _ in reversed(_PLAIN):
        op.drop_index(name, table_name=table, schema="deltashare")
    for table in reversed(_IDENTIFIED):
        op.drop_index(f"ix_{table}_unidentified", table_name=table, schema="deltashare")
