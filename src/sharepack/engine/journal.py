"""The journal: each action is recorded PENDING before its call, then DONE or FAILED.

A run can be resumed or undone from its journal alone: it holds every action with its
before-state, so the inverse is known before anything changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sharepack.engine.actions import PlanAction


class ActionStatus(StrEnum):
    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"
    COMPENSATED = "COMPENSATED"
    COMPENSATION_FAILED = "COMPENSATION_FAILED"
    #: Not undone: another changed the resource since, and that change was kept.
    KEPT = "KEPT"


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    action: PlanAction
    status: ActionStatus
    error: str | None = None


class Journal(Protocol):
    def started(self, action: PlanAction) -> None: ...

    def finished(
        self, action: PlanAction, status: ActionStatus, error: str | None = None
    ) -> None: ...

    def entries(self) -> list[JournalEntry]: ...


class InMemoryJournal:
    """A journal kept in memory: for plans applied without a database, and for tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, JournalEntry] = {}

    def started(self, action: PlanAction) -> None:
        with self._lock:
            seq = len(self._entries) + 1
            self._entries[action.action_id] = JournalEntry(seq, action, ActionStatus.PENDING)

    def finished(self, action: PlanAction, status: ActionStatus, error: str | None = None) -> None:
        with self._lock:
            seq = self._entries[action.action_id].seq
            self._entries[action.action_id] = JournalEntry(seq, action, status, error)

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return sorted(self._entries.values(), key=lambda e: e.seq)
