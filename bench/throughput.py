"""Throughput at the workspace's rate limit, and packs per minute as workers are added.

(a) A large pack planned and applied against the emulator limiting every endpoint family
to 15 requests a second (20 ms a call): with the adaptive rate limit, then with a fixed
concurrency and no limit, for contrast; then adaptive again at 5 and 40 a second, limits
the start rate (10) is above and below. Prints the share of calls answered 429 (goal: at
most 5%) and, per family, the requests a second the workspace accepted while the family
had calls to make (asked for, waiting for the limit, or retried after a 429), against
its limit (goal: at least 90%). The emulator's token bucket lets one second's worth
through at once, so a family may briefly get more than its limit.

(b) Many small packs submitted first, then provisioned by 1, 2 and 4 `sharepack worker`
processes on PostgreSQL at 100 ms a call; prints packs per minute and the ratio to one
worker (goal: near linear).

Every figure comes from one run of this script: `make bench`, or
`python bench/throughput.py [--quick] [--skip-workers]`.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

from apply import large_pack
from worker_scaling import DATABASE, bench_workers

from databricks_emulator.server import EmulatorServer
from sharepack.engine import InMemoryJournal, apply, names_of, plan, read_names
from sharepack.engine.apply import Concurrency
from sharepack.packfile.models import SharePackConfig
from sharepack.settings import Settings
from sharepack.workspace.rate_limit import AdaptiveRateLimit
from sharepack.workspace.sdk import SdkWorkspace, make_client
from sharepack.workspace.transport import CallListener, WorkspaceCall

LIMIT_PER_SECOND = 15
LATENCY_MS = 20
FIXED_CONCURRENCY = 8
#: Families with fewer calls are not reported: too few for a rate; the goal is judged on
#: families with at least `LEARNT_CALLS` (a family of a dozen reads ends at the start rate).
MIN_CALLS = 10
LEARNT_CALLS = 50
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/"


@dataclass
class Exchange:
    family: str
    thread: int
    #: When the call was to be sent: before any wait for the rate limit.
    asked: float
    answered: float
    status: int | None


@dataclass
class CallLog:
    """A `CallListener`, told first: each exchange from when it is asked for to its answer."""

    exchanges: list[Exchange] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def __call__(self, call: WorkspaceCall) -> Iterator[None]:
        asked = time.monotonic()
        try:
            yield
        finally:
            exchange = Exchange(
                call.family, threading.get_ident(), asked, time.monotonic(), call.status
            )
            with self._lock:
                self.exchanges.append(exchange)


def busy_seconds(exchanges: list[Exchange]) -> float:
    """How long the family had a call to make: the union of its calls' spans, a call
    running from when it was first asked for (its 429s and the SDK's waits after them
    included) to its answer."""
    spans: list[tuple[float, float]] = []
    pending: dict[int, float] = {}  # thread -> when its throttled call was first asked
    for e in sorted(exchanges, key=lambda e: e.asked):
        start = pending.pop(e.thread, e.asked)
        if e.status == 429:
            pending[e.thread] = start  # the SDK sends it again from this thread
        else:
            spans.append((start, e.answered))
    busy, reached = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reached:
            busy += end - max(start, reached)
            reached = end
    return busy


@dataclass(frozen=True)
class FamilyFigures:
    family: str
    calls: int
    throttled: int
    accepted_per_second: float


@dataclass(frozen=True)
class RunFigures:
    label: str
    limit: int
    seconds: float
    calls: int
    throttled: int
    families: tuple[FamilyFigures, ...]

    @property
    def throttled_share(self) -> float:
        return 100 * self.throttled / self.calls


def family_figures(log: CallLog) -> tuple[FamilyFigures, ...]:
    """Per family: calls, 429s, and accepted calls a second while it had calls to make."""
    by_family: dict[str, list[Exchange]] = defaultdict(list)
    for exchange in log.exchanges:
        by_family[exchange.family].append(exchange)
    figures = []
    for family, exchanges in sorted(by_family.items()):
        span = busy_seconds(exchanges)
        throttled = sum(1 for e in exchanges if e.status == 429)
        accepted = len(exchanges) - throttled
        figures.append(FamilyFigures(family, len(exchanges), throttled, accepted / span))
    return tuple(figures)


def run_pack(
    server: EmulatorServer,
    config: SharePackConfig,
    limit: int,
    concurrency: Concurrency,
    limiter: AdaptiveRateLimit | None,
) -> RunFigures:
    """Plan and apply `config` on a reset emulator limiting every family to `limit`/s."""
    server.reset()
    server.set_latency(LATENCY_MS)
    server.set_rate_limits({}, default=limit)
    log = CallLog()
    listeners: list[CallListener] = [log, limiter] if limiter is not None else [log]
    workspace = SdkWorkspace(make_client(server.url, token="bench", listeners=listeners))
    started = time.monotonic()
    the_plan = plan(config, read_names(workspace, names_of(config)))
    result = apply(the_plan, workspace, InMemoryJournal(), concurrency=concurrency)
    seconds = time.monotonic() - started
    label = "adaptive" if limiter is not None else f"fixed concurrency {concurrency}, no limit"
    if not result.ok:
        raise SystemExit(f"{label}: apply failed: {result.error}")
    throttled = sum(1 for e in log.exchanges if e.status == 429)
    figures = family_figures(log)
    return RunFigures(label, limit, seconds, len(log.exchanges), throttled, figures)


def print_run(run: RunFigures) -> None:
    busy = [f for f in run.families if f.calls >= MIN_CALLS]
    learnt = [f for f in busy if f.calls >= LEARNT_CALLS] or busy
    worst = min(100 * f.accepted_per_second / run.limit for f in learnt)
    print(
        f"  {run.label} at {run.limit}/s: {run.seconds:.1f} s, {run.calls} calls, "
        f"{run.throttled_share:.1f}% answered 429 (goal <= 5%), slowest family of "
        f">= {LEARNT_CALLS} calls at {worst:.0f}% of the limit (goal >= 90%)"
    )
    for f in busy:
        print(
            f"    {f.family}: {f.calls} calls, {f.throttled} x 429, "
            f"{f.accepted_per_second:.1f}/s accepted while busy"
        )


def bench_rate_limit(recipients: int, shares: int, objects: int, others: Sequence[int]) -> None:
    """The pack at `LIMIT_PER_SECOND`, adaptive then fixed; then adaptive at `others`."""
    config = large_pack(recipients, shares, objects)
    settings = Settings(_env_file=None)
    ceiling = settings.sharepack_apply_concurrency
    print(f"(a) pack: {recipients} recipients, {shares} shares, {objects} objects")
    print(
        f"    every family rate-limited; {LATENCY_MS} ms a call; families of >= {MIN_CALLS} calls"
    )
    with EmulatorServer() as server:
        for limit in (LIMIT_PER_SECOND, *others):
            # A new limit each time: what a worker process learnt is not carried over.
            limiter = AdaptiveRateLimit(start_rate=settings.sharepack_workspace_start_rate)
            adaptive = partial(limiter.concurrency, ceiling)
            print_run(run_pack(server, config, limit, adaptive, limiter))
            if limit == LIMIT_PER_SECOND:
                print_run(run_pack(server, config, LIMIT_PER_SECOND, FIXED_CONCURRENCY, None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small packs: a smoke test")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SHAREPACK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help=f"a server where the user may CREATE DATABASE (default {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--database", default=DATABASE, help="the database made, then dropped, for (b)"
    )
    args = parser.parse_args()
    if args.quick:
        bench_rate_limit(12, 4, 40, others=(5, 40))
        bench_workers(args.postgres_url, packs=4, database=args.database)
    else:
        bench_rate_limit(240, 80, 600, others=(5, 40))
        bench_workers(args.postgres_url, packs=32, database=args.database)


if __name__ == "__main__":
    main()
