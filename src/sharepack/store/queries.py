"""Questions auditors ask of the history, answered from the SCD2 versions in effect."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, func, select, true
from sqlalchemy.orm import Session

from sharepack.errors import StoreError
from sharepack.store import tables
from sharepack.store.dialect import json_array_elements
from sharepack.store.records import PackResources, Reader
from sharepack.store.resources import PipelineRepository, RecipientRepository, ShareRepository
from sharepack.store.scd2 import in_effect


def readable_as(table_name: str) -> list[str]:
    """The share objects that expose `catalog.schema.table`: the table or its schema."""
    parts = table_name.strip().lower().split(".")
    if len(parts) != 3 or not all(parts):
        raise StoreError(f"'{table_name}' is not a full table name catalog.schema.table")
    return [".".join(parts), ".".join(parts[:2])]


class AuditQueries:
    """Read-only questions across share packs, recipients, shares and their grants."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def created_by_pack(self, share_pack_id: uuid.UUID) -> PackResources:
        """What a pack created: the resources whose first version it wrote, whatever
        happened to them since, each in its current state (by name)."""
        return PackResources(
            recipients=RecipientRepository(self._session).created_by_pack(share_pack_id),
            shares=ShareRepository(self._session).created_by_pack(share_pack_id),
            pipelines=PipelineRepository(self._session).created_by_pack(share_pack_id),
        )

    def held_by_project(
        self, workspace_url: str, business_line: str, project_name: str
    ) -> PackResources:
        """What a project's packs provisioned and still hold in a workspace: the live
        resources whose current version one of its packs wrote (a later pack of another
        project that took one over holds it instead)."""
        where = (workspace_url, business_line, project_name)
        return PackResources(
            recipients=RecipientRepository(self._session).held_by_project(*where),
            shares=ShareRepository(self._session).held_by_project(*where),
            pipelines=PipelineRepository(self._session).held_by_project(*where),
        )

    def recipients_with_access(
        self, table: str, at: datetime, *, workspace_url: str | None = None
    ) -> list[str]:
        """The names of the `readers` of `table` at `at`, each once, in order."""
        return sorted(
            {
                reader.recipient_name
                for reader in self.readers(table, at, workspace_url=workspace_url)
            }
        )

    def readers(
        self, table: str, at: datetime, *, workspace_url: str | None = None
    ) -> list[Reader]:
        """Recipients that could read `table` at `at`, each with its workspace, by name
        and then workspace URL.

        A recipient could read it when, in the versions in effect at `at`, a live share
        held the table (or its whole schema) and named the recipient among its recipients,
        and the recipient itself was live in the same workspace. The workspace's id is the
        recipient's, or its share's, where a run recorded one.
        """
        share = tables.shares.alias("share")
        recipient = tables.recipients.alias("recipient")
        asset = json_array_elements(self._session, share.c.share_assets).table_valued("value")
        asset = asset.alias("asset")
        grantee = json_array_elements(self._session, share.c.recipients_attached).table_valued(
            "value"
        )
        grantee = grantee.alias("grantee")
        workspace_id = func.max(func.coalesce(recipient.c.workspace_id, share.c.workspace_id))
        query = (
            select(recipient.c.recipient_name, recipient.c.workspace_url, workspace_id)
            .select_from(share)
            .join(asset, true())
            .join(grantee, true())
            .join(
                recipient,
                and_(
                    recipient.c.workspace_url == share.c.workspace_url,
                    recipient.c.recipient_name == grantee.c.value,
                ),
            )
            .where(
                *in_effect(share, at),
                share.c.is_deleted.is_(False),
                func.lower(asset.c.value).in_(readable_as(table)),
                *in_effect(recipient, at),
                recipient.c.is_deleted.is_(False),
            )
            .group_by(recipient.c.recipient_name, recipient.c.workspace_url)
            .order_by(recipient.c.recipient_name, recipient.c.workspace_url)
        )
        if workspace_url is not None:
            query = query.where(share.c.workspace_url == workspace_url)
        return [Reader(*row) for row in self._session.execute(query)]
