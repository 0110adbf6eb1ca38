"""Use cases that only read: a pack's status and history, who could read a table when,
the health of the parts, and the state every process shares (for metrics)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sharepack.errors import NotFoundError, QueueError, StoreError
from sharepack.identity.principal import Caller
from sharepack.runtime import Runtime
from sharepack.store import Reader
from sharepack.store import SharePackRecord as SharePackRecord  # what its callers get
from sharepack.usecases.audit import Act, record_refusal

log = logging.getLogger(__name__)


def get_share_pack(runtime: Runtime, share_pack_id: uuid.UUID, caller: Caller) -> SharePackRecord:
    """The current version of a pack; raises `NotFoundError` for an unknown id, and for a
    pack of a business line `caller` may not read (the refusal is audited; the answer does
    not tell it from an unknown id)."""
    with runtime.database.reading() as uow:
        found = uow.share_packs.get_current(share_pack_id)
    if not caller.principal.may_read(found.business_line):
        record_refusal(
            runtime,
            Act.READ,
            f"{caller.name} may not read share packs of business line '{found.business_line}'",
            caller=caller,
            entity_type="share_pack",
            entity_id=share_pack_id,
            business_line=found.business_line,
        )
        raise NotFoundError(unknown_pack(share_pack_id))
    return found


def unknown_pack(share_pack_id: object) -> str:
    """The same words as the store's, so a refused read cannot be told from an unknown id."""
    return f"No share pack with id '{share_pack_id}'"


def share_pack_history(runtime: Runtime, share_pack_id: uuid.UUID) -> list[SharePackRecord]:
    """Every version of a pack, oldest first; raises `NotFoundError` for an unknown id."""
    with runtime.database.unit_of_work() as uow:
        uow.share_packs.get_current(share_pack_id)
        return uow.share_packs.history(share_pack_id)


def who_could_read(
    runtime: Runtime, table: str, at: datetime, *, workspace_url: str | None = None
) -> list[Reader]:
    """The recipients that could read `table` (catalog.schema.table) at `at`, each with its
    workspace, from the recorded history of shares, their objects and grants."""
    with runtime.database.unit_of_work() as uow:
        return uow.queries.readers(table, at, workspace_url=workspace_url)


@dataclass(frozen=True)
class Health:
    database_connected: bool
    queue_connected: bool
    tables_count: int

    @property
    def healthy(self) -> bool:
        return self.database_connected and self.queue_connected


def check_health(runtime: Runtime) -> Health:
    database_connected = runtime.database.ping()
    return Health(
        database_connected=database_connected,
        queue_connected=runtime.queue.ping(),
        tables_count=runtime.database.table_count() if database_connected else 0,
    )


@dataclass(frozen=True)
class SharedState:
    """What every process sees alike, read at once; None where the source did not answer."""

    #: Live packs by (Status, RollbackStatus).
    packs: dict[tuple[str, str | None], int] | None
    queue_depth: int | None
    oldest_message_age_seconds: float | None


def read_shared_state(runtime: Runtime) -> SharedState:
    """Packs by status and the queue's depth and oldest waiting message, from the database
    and the queue themselves: right whatever number of workers there are."""
    try:
        with runtime.database.unit_of_work() as uow:
            packs: dict[tuple[str, str | None], int] | None = uow.share_packs.count_current()
    except StoreError as exc:
        log.warning("Packs by status could not be counted: %s", exc.message)
        packs = None
    try:
        depth: int | None = runtime.queue.depth()
        age: float | None = runtime.queue.oldest_age_seconds()
    except QueueError as exc:
        log.warning("The queue could not be measured: %s", exc.message)
        depth, age = None, None
    return SharedState(packs, depth, age)
