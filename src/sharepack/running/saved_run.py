"""A pack's run, kept in the database so that a worker killed mid-run can be taken over.

The run of a pack has id = the pack's id. Its first attempt snapshots the before-state of
everything the pack names; every attempt journals each action before calling it, under
`<attempt>:<action id>`, and commits that at once, so a crash loses nothing.
"""

from __future__ import annotations

import json
import threading
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from sharepack.engine.actions import PlanAction
from sharepack.engine.journal import ActionStatus, JournalEntry
from sharepack.engine.plan import ResourceNames
from sharepack.engine.serialise import (
    action_from_dict,
    action_to_dict,
    before_state_to_dict,
    state_from_dict,
    state_to_dict,
)
from sharepack.store import Database
from sharepack.workspace.state import WorkspaceState


class StoreJournal:
    """The `Journal` protocol over the run_journal table; each write commits at once.

    `on_done` is told of each action once its DONE is committed (the pack's history
    records what it changed)."""

    def __init__(
        self,
        database: Database,
        run_id: uuid.UUID,
        attempt: int,
        *,
        on_done: Callable[[PlanAction], None] | None = None,
    ) -> None:
        self._database = database
        self._run_id = run_id
        self._attempt = attempt
        self._on_done = on_done
        self._lock = threading.Lock()
        self._stored_ids: dict[str, str] = {}

    @property
    def run_id(self) -> str:
        return str(self._run_id)

    def adopt(self, stored_id: str, action: PlanAction) -> None:
        """Let this journal record the outcome of an action an earlier attempt started."""
        self._stored_ids[action.action_id] = stored_id

    def started(self, action: PlanAction) -> None:
        stored_id = f"{self._attempt}:{action.action_id}"
        undo = action.inverse()
        with self._lock, self._database.unit_of_work() as uow:
            uow.run_journal.started(
                run_id=self._run_id,
                share_pack_id=self._run_id,
                action_id=stored_id,
                action_kind=action.kind.value,
                resource=action.resource,
                payload=action_to_dict(action),
                before_state=before_state_to_dict(action),
                inverse=action_to_dict(undo) if undo else None,
            )
            uow.commit()
            self._stored_ids[action.action_id] = stored_id

    def finished(self, action: PlanAction, status: ActionStatus, error: str | None = None) -> None:
        with self._lock, self._database.unit_of_work() as uow:
            uow.run_journal.finished(
                run_id=self._run_id,
                action_id=self._stored_ids[action.action_id],
                status=status.value,
                error=error,
            )
            uow.commit()
        if status is ActionStatus.DONE and self._on_done is not None:
            self._on_done(action)

    def done_again(self, action: PlanAction) -> None:
        """Tell `on_done` of an action an earlier attempt finished: its killed worker may
        not have recorded what it changed."""
        if self._on_done is not None:
            self._on_done(action)

    def entries(self) -> list[JournalEntry]:
        with self._database.unit_of_work() as uow:
            rows = uow.run_journal.entries(self._run_id)
        return [
            JournalEntry(
                row.seq, action_from_dict(row.payload), ActionStatus(row.status), row.error
            )
            for row in rows
        ]


@dataclass(frozen=True)
class EarlierAttempts:
    """What a killed worker left: the before-state and the actions it started."""

    attempt: int
    before: WorkspaceState | None
    started: tuple[tuple[str, PlanAction, ActionStatus], ...]


def earlier_attempts(database: Database, run_id: uuid.UUID) -> EarlierAttempts:
    with database.unit_of_work() as uow:
        rows = uow.run_journal.entries(run_id)
        snapshots = uow.snapshots.list(run_id=run_id)
    attempts = {int(row.action_id.split(":", 1)[0]) for row in rows}
    before = _load_state(snapshots[-1].content) if snapshots else None
    started = tuple(
        (row.action_id, action_from_dict(row.payload), ActionStatus(row.status)) for row in rows
    )
    return EarlierAttempts(max(attempts, default=0) + 1 if snapshots else 1, before, started)


def save_before_state(
    database: Database,
    run_id: uuid.UUID,
    workspace_url: str,
    names: ResourceNames,
    before: WorkspaceState,
) -> None:
    content = zlib.compress(json.dumps(state_to_dict(before), sort_keys=True).encode("utf-8"))
    with database.unit_of_work() as uow:
        uow.snapshots.save(
            workspace_url=workspace_url,
            resources=[*names.recipients, *names.shares],
            content=content,
            compressed=True,
            run_id=run_id,
            share_pack_id=run_id,
            label="Before-state of the run",
        )
        uow.commit()


def _load_state(content: bytes) -> WorkspaceState:
    return state_from_dict(json.loads(zlib.decompress(content).decode("utf-8")))
