"""The append-only logs sharepack writes: the audit trail and notifications sent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from sharepack.errors import StoreError
from sharepack.store import tables
from sharepack.store.dialect import as_utc, database_now, lowered, statement_clock


@dataclass(frozen=True)
class AuditEntry:
    """One audit row. The fields after `created_at` say how the caller authenticated,
    how the request ended ("ok", "refused", "failed"), which business line it concerned
    and where it came from; None on rows written before they were recorded."""

    audit_id: uuid.UUID
    entity_type: str
    entity_id: uuid.UUID | None
    action: str
    performed_by: str
    details: dict[str, Any] | None
    created_at: datetime
    auth_method: str | None = None
    outcome: str | None = None
    business_line: str | None = None
    client_address: str | None = None
    user_agent: str | None = None


class AuditTrailRepository:
    """Who did what to which entity; rows are only ever inserted (the database refuses
    UPDATE and DELETE of them)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._table = tables.audit_trail

    def record(
        self,
        *,
        entity_type: str,
        entity_id: uuid.UUID | None,
        action: str,
        performed_by: str,
        details: dict[str, Any] | None = None,
        auth_method: str | None = None,
        outcome: str | None = None,
        business_line: str | None = None,
        client_address: str | None = None,
        user_agent: str | None = None,
    ) -> AuditEntry:
        values: dict[str, Any] = {
            "audit_id": uuid.uuid4(),
            "entity_type": entity_type,
            "entity_id": entity_id,
            "action": action,
            "performed_by": performed_by,
            "details": details,
            "created_at": statement_clock(self._session).at(),
            "auth_method": auth_method,
            "outcome": outcome,
            "business_line": business_line,
            "client_address": client_address,
            "user_agent": user_agent,
        }
        # The database's clock, read as the row is written and handed back with it.
        statement = insert(self._table).values(**values).returning(self._table.c.created_at)
        created_at = self._session.execute(statement).scalar_one()
        return AuditEntry(**{**values, "created_at": as_utc(created_at)})

    def for_entity(self, entity_id: uuid.UUID) -> list[AuditEntry]:
        """Everything recorded about one entity, oldest first."""
        table = self._table
        query = select(table).where(table.c.entity_id == entity_id).order_by(table.c.created_at)
        return self._entries(query)

    def search(
        self,
        *,
        since: datetime | None = None,
        principal: str | None = None,
        business_line: str | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """The newest `limit` entries first, from `since` on (inclusive), of one principal
        (`performed_by`, whole and ignoring case) and one business line (ignoring case
        and surrounding spaces); a filter left None selects everything."""
        if limit < 1:
            raise StoreError(f"An audit search's limit must be at least 1, not {limit}")
        table = self._table
        query = select(table)
        if since is not None:
            query = query.where(table.c.created_at >= as_utc(since))
        session = self._session
        if principal is not None:
            who = lowered(session, table.c.performed_by)
            query = query.where(who == principal.strip().lower())
        if business_line is not None:
            line = lowered(session, func.trim(table.c.business_line))
            query = query.where(line == business_line.strip().lower())
        query = query.order_by(table.c.created_at.desc(), table.c.audit_id).limit(limit)
        return self._entries(query)

    def _entries(self, query: Select[Any]) -> list[AuditEntry]:
        return [
            AuditEntry(**{**row, "created_at": as_utc(row["created_at"])})
            for row in self._session.execute(query).mappings()
        ]


@dataclass(frozen=True)
class NotificationEntry:
    notification_id: uuid.UUID
    share_pack_id: uuid.UUID | None
    recipient_email: str
    subject: str
    body: str | None
    delivery_status: str
    sent_at: datetime | None
    created_at: datetime
    event: str | None = None
    channel: str | None = None
    attempt: int | None = None
    error: str | None = None
    delivery_id: uuid.UUID | None = None


class NotificationRepository:
    """Emails sharepack sent or tried to send; rows are only ever inserted."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._table = tables.notifications

    def record(
        self,
        *,
        share_pack_id: uuid.UUID | None,
        recipient_email: str,
        subject: str,
        body: str | None,
        delivery_status: str,
        sent_at: datetime | None = None,
        event: str | None = None,
        channel: str | None = None,
        attempt: int | None = None,
        error: str | None = None,
        delivery_id: uuid.UUID | None = None,
    ) -> NotificationEntry:
        """One attempt to deliver a notice and its outcome."""
        entry = NotificationEntry(
            notification_id=uuid.uuid4(),
            share_pack_id=share_pack_id,
            recipient_email=recipient_email,
            subject=subject,
            body=body,
            delivery_status=delivery_status,
            sent_at=sent_at,
            created_at=database_now(self._session),
            event=event,
            channel=channel,
            attempt=attempt,
            error=error,
            delivery_id=delivery_id,
        )
        self._session.execute(insert(self._table).values(**entry.__dict__))
        return entry

    def for_pack(self, share_pack_id: uuid.UUID) -> list[NotificationEntry]:
        """The notifications about one pack, oldest first."""
        table = self._table
        query = (
            select(table).where(table.c.share_pack_id == share_pack_id).order_by(table.c.created_at)
        )
        entries = []
        for row in self._session.execute(query).mappings():
            sent = row["sent_at"]
            values = {**row, "created_at": as_utc(row["created_at"])}
            values["sent_at"] = as_utc(sent) if sent is not None else None
            entries.append(NotificationEntry(**values))
        return entries
