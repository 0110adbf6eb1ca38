"""Every metric a sharepack process records, defined once, and the small helpers that
record them.

Names are `sharepack_*` with the unit in the name; labels take a few values each (an
outcome, a phase, an endpoint family, a route template, a status code) and never a pack's
id or name. Values live in this process, or, in a process whose metrics directory was
joined before `prometheus_client` was imported (`processes.join_metrics_dir`), in files
there that the API process sums at scrape time. What describes shared state (packs by
status, the queue) is not recorded here: the API computes it at scrape time.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from sharepack.workspace.transport import WorkspaceCall

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram

P = ParamSpec("P")
R = TypeVar("R")

#: Runs last from a second (an empty plan) to the pipeline wait (30 min by default).
RUN_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
PHASE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
CALL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LOCK_BUCKETS = (0.01, 0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0)


class Phase(StrEnum):
    """The parts of a pack's way through sharepack that are timed."""

    VALIDATE = "validate"  # reading and checking the file (upload, CLI)
    PLAN = "plan"  # the worker reading the workspace and planning
    APPLY = "apply"  # the plan's calls
    VERIFY = "verify"  # reading the workspace back after a rollback's undo
    ROLLBACK = "rollback"  # undoing a failed run, its verify included


class RunOutcome(StrEnum):
    """How a worker's attempt at a pack ended."""

    COMPLETED = "completed"
    FAILED = "failed"
    ERROR = "error"  # raised: tried again, or given up (then FAILED by the give-up)
    LEASE_LOST = "lease_lost"  # another worker took the run over


class Instruments:
    """The metrics, made on first use (`instruments`): prometheus_client is imported then,
    once a `serve` or `worker` process has joined its metrics directory."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

        # A scrape of one process would carry `_created` series that the sum of a host's
        # processes (multiprocess mode) never has: neither does, whichever serves it.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.runs: Counter = Counter(
            "sharepack_runs",
            "Attempts of workers at share packs, by outcome and (for ended runs) RollbackStatus",
            ["outcome", "rollback"],
        )
        self.run_duration: Histogram = Histogram(
            "sharepack_run_duration_seconds",
            "How long a worker's attempt at a share pack took, by outcome",
            ["outcome"],
            buckets=RUN_BUCKETS,
        )
        self.runs_in_progress: Gauge = Gauge(
            "sharepack_runs_in_progress",
            "Share packs a worker is processing now",
            multiprocess_mode="livesum",
        )
        self.phase_duration: Histogram = Histogram(
            "sharepack_phase_duration_seconds",
            "How long each phase of a share pack took (rollback includes its verify)",
            ["phase"],
            buckets=PHASE_BUCKETS,
        )
        self.workspace_requests: Counter = Counter(
            "sharepack_workspace_requests",
            "HTTP exchanges with Databricks workspaces, by endpoint family and status (no_answer: "
            "none came)",
            ["family", "status"],
        )
        self.workspace_request_duration: Histogram = Histogram(
            "sharepack_workspace_request_duration_seconds",
            "How long one HTTP exchange with a workspace took, by endpoint family",
            ["family"],
            buckets=CALL_BUCKETS,
        )
        self.workspace_retried: Counter = Counter(
            "sharepack_workspace_retried_requests",
            "Exchanges databricks-sdk answers by trying again: throttled (429), unavailable (503), "
            "no_answer",
            ["family", "reason"],
        )
        self.lock_wait: Histogram = Histogram(
            "sharepack_lock_wait_seconds",
            "How long a run waited for its locks, by lock and outcome (acquired, timed_out)",
            ["lock", "outcome"],
            buckets=LOCK_BUCKETS,
        )
        self.http_requests: Counter = Counter(
            "sharepack_http_requests",
            "Requests the API answered, by method, route template and status",
            ["method", "route", "status"],
        )
        self.http_request_duration: Histogram = Histogram(
            "sharepack_http_request_duration_seconds",
            "How long the API took to answer, by method and route template",
            ["method", "route"],
            buckets=CALL_BUCKETS,
        )


_made: Instruments | None = None
_making = threading.Lock()


def instruments() -> Instruments:
    """The process's metrics, made the first time they are needed."""
    global _made
    if _made is None:
        with _making:
            if _made is None:
                _made = Instruments()
    return _made


@contextmanager
def timed_phase(phase: Phase) -> Iterator[None]:
    """Observe the block's duration as `phase`, whether it returns or raises."""
    started = time.perf_counter()
    try:
        yield
    finally:
        instruments().phase_duration.labels(phase.value).observe(time.perf_counter() - started)


def phase(name: Phase) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A decorator form of `timed_phase`, for a function that is one phase."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            with timed_phase(name):
                return function(*args, **kwargs)

        return timed

    return decorate


def lock_waited(lock: str) -> Callable[[Callable[P, bool]], Callable[P, bool]]:
    """Time a function that waits for `lock` and says whether it got it (True) or gave up
    (False): `sharepack_lock_wait_seconds{lock, outcome}`."""

    def decorate(function: Callable[P, bool]) -> Callable[P, bool]:
        @functools.wraps(function)
        def timed(*args: P.args, **kwargs: P.kwargs) -> bool:
            started = time.perf_counter()
            acquired = function(*args, **kwargs)
            outcome = "acquired" if acquired else "timed_out"
            instruments().lock_wait.labels(lock, outcome).observe(time.perf_counter() - started)
            return acquired

        return timed

    return decorate


def record_run(outcome: RunOutcome, rollback: str | None, seconds: float) -> None:
    """One worker attempt at a pack: its outcome, the pack's RollbackStatus when it ended
    (any spelling; `none` otherwise) and how long it took."""
    instruments().runs.labels(outcome.value, (rollback or "none").lower()).inc()
    instruments().run_duration.labels(outcome.value).observe(seconds)


@contextmanager
def run_in_progress() -> Iterator[None]:
    """Count the block as a run going on (`sharepack_runs_in_progress`)."""
    with instruments().runs_in_progress.track_inprogress():
        yield


def record_http_request(method: str, route: str, status: int, seconds: float) -> None:
    """One answered API request; `route` is the route's template, never the raw path."""
    instruments().http_requests.labels(method, route, str(status)).inc()
    instruments().http_request_duration.labels(method, route).observe(seconds)


def _retry_reason(call: WorkspaceCall) -> str | None:
    if call.throttled:
        return "throttled"
    if call.error is not None:
        return "no_answer"
    if call.retried_by_sdk:
        return "unavailable"
    return None


@contextmanager
def workspace_call_metrics(call: WorkspaceCall) -> Iterator[None]:
    """A `workspace.transport.CallListener`: counts and times each exchange with a workspace
    by endpoint family and status, and the ones the SDK retries by reason."""
    started = time.perf_counter()
    try:
        yield
    finally:
        status = str(call.status) if call.status is not None else "no_answer"
        instruments().workspace_requests.labels(call.family, status).inc()
        instruments().workspace_request_duration.labels(call.family).observe(
            time.perf_counter() - started
        )
        reason = _retry_reason(call)
        if reason is not None:
            instruments().workspace_retried.labels(call.family, reason).inc()
