"""Approvers' decisions on packs (append-only), and the directory's group members that
decide who may approve and whom to tell."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from sharepack.store import tables
from sharepack.store.dialect import as_utc, database_now
from sharepack.store.own_tables import approval_decisions
from sharepack.store.scd2 import is_current


@dataclass(frozen=True)
class DecisionRecord:
    decision_id: uuid.UUID
    share_pack_id: uuid.UUID
    plan_digest: str
    level: int
    group_name: str
    approver: str
    approver_email: str | None
    decision: str  # APPROVED | REJECTED
    comment: str | None
    created_at: datetime


class ApprovalDecisionRepository:
    """Decisions by pack; rows are only ever inserted (triggers refuse the rest)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def record(
        self,
        *,
        share_pack_id: uuid.UUID,
        plan_digest: str,
        level: int,
        group_name: str,
        approver: str,
        approver_email: str | None,
        decision: str,
        comment: str | None,
    ) -> DecisionRecord:
        """One decision, timed by the database clock."""
        entry = DecisionRecord(
            decision_id=uuid.uuid4(),
            share_pack_id=share_pack_id,
            plan_digest=plan_digest,
            level=level,
            group_name=group_name,
            approver=approver,
            approver_email=approver_email,
            decision=decision,
            comment=comment,
            created_at=database_now(self._session),
        )
        self._session.execute(insert(approval_decisions).values(**entry.__dict__))
        return entry

    def for_pack(self, share_pack_id: uuid.UUID) -> list[DecisionRecord]:
        """The pack's decisions, oldest first, whatever plan they were given for."""
        query = (
            select(approval_decisions)
            .where(approval_decisions.c.share_pack_id == share_pack_id)
            .order_by(approval_decisions.c.created_at, approval_decisions.c.decision_id)
        )
        return [
            DecisionRecord(**{**row, "created_at": as_utc(row["created_at"])})
            for row in self._session.execute(query).mappings()
        ]

    def group_members(self, group_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Each directory group id (as the last sync wrote `ad_groups`) -> its members'
        addresses; a group the sync has not seen is left out."""
        wanted = {group_id.casefold() for group_id in group_ids}
        if not wanted:
            return {}
        table = tables.ad_groups
        query = select(table.c.ad_object_id, table.c.members).where(
            is_current(table), table.c.is_deleted.is_(False)
        )
        members: dict[str, tuple[str, ...]] = {}
        for object_id, listed in self._session.execute(query):
            if object_id and object_id.casefold() in wanted:
                members[object_id.casefold()] = tuple(str(m) for m in listed or ())
        return members
