"""The audit trail as the use cases write it: every state-changing act and every refusal.

A row names the principal and how it authenticated, the act, its target, where the
request came from, the database's time and the outcome. Acts are written in the Unit of
Work of the change they record (both or neither); a refusal, which changes nothing, in a
Unit of Work of its own.
"""

from __future__ import annotations

import enum
import logging
import uuid
from datetime import datetime
from typing import Any

from sharepack.errors import StoreError
from sharepack.identity.principal import Caller
from sharepack.runtime import Runtime
from sharepack.store import UnitOfWork
from sharepack.store.logs import AuditEntry

logger = logging.getLogger(__name__)


class Act(enum.StrEnum):
    AUTHENTICATE = "authenticate"
    UPLOAD = "upload"
    APPLY = "apply"
    READ = "read"
    CREATE_API_KEY = "create_api_key"
    REVOKE_API_KEY = "revoke_api_key"
    SYNC_DIRECTORY = "sync_directory"
    RUN_SYNC_JOB = "run_sync_job"
    ROTATE_TOKEN = "rotate_token"
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    ROLLBACK = "rollback"
    RECORD_DRIFT = "record_drift"
    CLEANUP = "cleanup"


class Outcome(enum.StrEnum):
    OK = "ok"
    REFUSED = "refused"
    FAILED = "failed"


#: What an unauthenticated request is recorded as.
ANONYMOUS = "anonymous"


def record(
    uow: UnitOfWork,
    caller: Caller,
    act: Act,
    *,
    entity_type: str,
    entity_id: uuid.UUID | None = None,
    business_line: str | None = None,
    outcome: Outcome = Outcome.OK,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """One row in `uow`, committed with the change it records."""
    return _row(
        uow,
        act,
        caller=caller,
        entity_type=entity_type,
        entity_id=entity_id,
        business_line=business_line,
        outcome=outcome,
        details=details,
    )


def record_refusal(
    runtime: Runtime,
    act: Act,
    reason: str,
    *,
    caller: Caller | None = None,
    client_address: str | None = None,
    user_agent: str | None = None,
    entity_type: str = "request",
    entity_id: uuid.UUID | None = None,
    business_line: str | None = None,
    outcome: Outcome = Outcome.REFUSED,
) -> None:
    """A refused (or failed) request, in its own transaction; without a `caller` (nobody
    authenticated), as `ANONYMOUS` from `client_address`. A database that cannot take the
    row is logged, not raised: the caller is answered with the refusal either way."""
    try:
        with runtime.database.unit_of_work() as uow:
            _row(
                uow,
                act,
                caller=caller,
                client_address=client_address,
                user_agent=user_agent,
                entity_type=entity_type,
                entity_id=entity_id,
                business_line=business_line,
                outcome=outcome,
                details={"reason": _clipped(reason, 2000)},
            )
            uow.commit()
    except StoreError:
        logger.exception("Could not record a refused %s on the audit trail", act)


def _row(
    uow: UnitOfWork,
    act: Act,
    *,
    caller: Caller | None,
    entity_type: str,
    entity_id: uuid.UUID | None,
    business_line: str | None,
    outcome: Outcome,
    details: dict[str, Any] | None,
    client_address: str | None = None,
    user_agent: str | None = None,
) -> AuditEntry:
    """The row: who (the caller, or anonymous from where the request came), what, how."""
    if caller is not None:
        client_address, user_agent = caller.client_address, caller.user_agent
    return uow.audit_trail.record(
        entity_type=entity_type,
        entity_id=entity_id,
        action=str(act),
        performed_by=caller.name if caller is not None else ANONYMOUS,
        details=details,
        auth_method=str(caller.principal.method) if caller is not None else None,
        outcome=str(outcome),
        business_line=business_line,
        client_address=client_address,
        user_agent=_clipped(user_agent, 500),
    )


def search(
    runtime: Runtime,
    *,
    since: datetime | None = None,
    principal: str | None = None,
    business_line: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Audit rows, newest first."""
    with runtime.database.unit_of_work() as uow:
        return uow.audit_trail.search(
            since=since, principal=principal, business_line=business_line, limit=limit
        )


def _clipped(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 3] + "..."
