"""What engine tests observe of a run: the journal's events in the order they happened, and
the workspace calls in flight at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

from sharepack.engine import InMemoryJournal
from sharepack.engine.actions import PlanAction
from sharepack.engine.journal import ActionStatus
from sharepack.workspace.protocol import Workspace

#: The calls that change a workspace.
WRITES = frozenset(
    {
        "create_recipient",
        "update_recipient",
        "delete_recipient",
        "create_share",
        "update_share_comment",
        "delete_share",
        "update_share_objects",
        "update_share_grants",
        "create_pipeline",
        "update_pipeline",
        "delete_pipeline",
        "run_pipeline_update",
        "create_schedule_job",
        "update_schedule_job",
        "delete_schedule_job",
    }
)


class RecordingJournal(InMemoryJournal):
    """An in-memory journal that also keeps each action's start and end in the order they
    happened (an action starts after `started` returns and ends before `finished`)."""

    def __init__(self) -> None:
        super().__init__()
        self._order = threading.Lock()
        self.events: list[tuple[str, ActionStatus]] = []

    def started(self, action: PlanAction) -> None:
        with self._order:
            super().started(action)
            self.events.append((action.action_id, ActionStatus.PENDING))

    def finished(self, action: PlanAction, status: ActionStatus, error: str | None = None) -> None:
        with self._order:
            super().finished(action, status, error)
            self.events.append((action.action_id, status))


class InFlight:
    """Counts the writes in flight on a workspace and keeps the order they began in.

    With `until_overlap`, the first write waits (at most `patience` seconds) until a second
    one is in flight, so that writes that may overlap are seen to; once two have been in
    flight together, no write waits."""

    def __init__(
        self, inner: Workspace, *, until_overlap: bool = False, patience: float = 10.0
    ) -> None:
        self._inner = inner
        self._until_overlap = until_overlap
        self._patience = patience
        self._changed = threading.Condition()
        self._in_flight = 0
        self.peak = 0
        self.calls: list[str] = []

    @property
    def workspace(self) -> Workspace:
        return cast(Workspace, _Observed(self._inner, self))

    def call(self, name: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._changed:
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
            self.calls.append(name)
            self._changed.notify_all()
            if self._until_overlap:
                self._changed.wait_for(lambda: self.peak >= 2, timeout=self._patience)
        try:
            return method(*args, **kwargs)
        finally:
            with self._changed:
                self._in_flight -= 1


class _Observed:
    def __init__(self, inner: Workspace, observer: InFlight) -> None:
        self._inner = inner
        self._observer = observer

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name not in WRITES:
            return attribute

        def observed(*args: Any, **kwargs: Any) -> Any:
            return self._observer.call(name, attribute, *args, **kwargs)

        return observed
