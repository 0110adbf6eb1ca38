"""Which workspace a URL reached: its own id, written beside the URL on history rows.

Rows written before a run read the id of their URL's workspace (before the column
existed, or by a run that could not read it) hold NULL; the next run that reads it fills
them in. That is the one update in place to versioned rows, and it is not a change of
business data: the id is the identity of the workspace the row's URL named when it was
written, a fact then unknown and now learnt. It only ever fills a NULL, never replaces
an id, so no version's meaning changes and a point-in-time query answers as before.
"""

from __future__ import annotations

from sqlalchemy import Table, update
from sqlalchemy.orm import Session

from sharepack.store import tables

#: The history tables that carry `workspace_id` beside `workspace_url`.
IDENTIFIED_TABLES: tuple[Table, ...] = (
    tables.share_packs,
    tables.recipients,
    tables.shares,
    tables.pipelines,
)


class WorkspaceIdentities:
    def __init__(self, session: Session) -> None:
        self._session = session

    def identify(self, workspace_url: str, workspace_id: str) -> int:
        """Give `workspace_id` to every row of `workspace_url` that has none; how many.

        Rows that already carry an id keep it, even another one: a URL that now answers
        as another workspace does not rewrite what was recorded of the one before."""
        filled = 0
        for table in IDENTIFIED_TABLES:
            result = self._session.execute(
                update(table)
                .where(table.c.workspace_url == workspace_url, table.c.workspace_id.is_(None))
                .values(workspace_id=workspace_id)
            )
            filled += int(result.rowcount)  # type: ignore[attr-defined]
        return filled
