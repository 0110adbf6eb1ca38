"""`SyncScheduler`: the registered sync jobs on an APScheduler background scheduler, each
run at most once per tick however many processes schedule it.

A job's tick is `floor(epoch seconds / every_seconds)`. Every process fires at the start
of each tick (the intervals are aligned on the epoch), and before running claims
(job, tick) in `sharepack.sync_ticks`: the one whose insert commits runs the job, the
others find the key taken and skip. A holder that crashes after claiming simply misses
that tick; the job runs again at the next one. A job that fails is recorded FAILED and
logged, and the schedule goes on.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from sharepack.runtime import Runtime
from sharepack.sync.jobs import SyncJob, run_job

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    RAN = "ran"
    FAILED = "failed"
    SKIPPED = "skipped"  # another process holds the tick


@dataclass(frozen=True)
class TickResult:
    """What one process did with one tick of one job."""

    job: str
    tick: int
    outcome: Outcome
    records: int = 0


def tick_of(moment: float, every_seconds: float) -> int:
    """The tick `moment` (epoch seconds) falls in, for a job run every `every_seconds`."""
    return math.floor(moment / every_seconds)


def default_holder() -> str:
    """This process, as `sync_ticks.holder` names it: host, pid and a per-instance token."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SyncScheduler:
    """Runs `jobs` on their intervals in a background thread pool from `start` until
    `shutdown`. `clock` (epoch seconds) decides the tick; `on_tick` hears every result."""

    def __init__(
        self,
        runtime: Runtime,
        jobs: Iterable[SyncJob] = (),
        *,
        holder: str | None = None,
        clock: Callable[[], float] = time.time,
        on_tick: Callable[[TickResult], None] | None = None,
    ) -> None:
        self._runtime = runtime
        self._jobs: dict[str, SyncJob] = {}
        self._holder = holder or default_holder()
        self._clock = clock
        self._on_tick = on_tick
        self._scheduler: BackgroundScheduler | None = None
        self._lock = threading.Lock()
        for job in jobs:
            self.add(job)

    @property
    def jobs(self) -> list[SyncJob]:
        return list(self._jobs.values())

    def add(self, job: SyncJob) -> None:
        """Register `job` (before `start`, or while running: it is scheduled at once)."""
        with self._lock:
            if job.name in self._jobs:
                raise ValueError(f"A sync job named '{job.name}' is registered already")
            self._jobs[job.name] = job
            if self._scheduler is not None:
                self._schedule(self._scheduler, job)

    def start(self) -> None:
        """Schedule every job whose interval is positive; the first runs at the next tick."""
        with self._lock:
            if self._scheduler is not None:
                return
            scheduler = BackgroundScheduler(timezone=UTC)
            for job in self._jobs.values():
                self._schedule(scheduler, job)
            scheduler.start()
            self._scheduler = scheduler

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop scheduling; with `wait`, let the runs in hand finish first."""
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=wait)

    def run_tick(self, job: SyncJob) -> TickResult:
        """Claim the present tick of `job` and run it if the claim is ours."""
        tick = tick_of(self._clock(), job.every_seconds)
        with self._runtime.database.unit_of_work() as uow:
            claimed = uow.sync_ticks.claim(job.name, tick, self._holder)
            uow.commit()
        if not claimed:
            return self._heard(TickResult(job.name, tick, Outcome.SKIPPED))
        try:
            records = run_job(self._runtime, job)
        except Exception:  # recorded FAILED; the schedule goes on
            logger.exception("Sync job '%s' failed (tick %d)", job.name, tick)
            return self._heard(TickResult(job.name, tick, Outcome.FAILED))
        logger.info("Sync job '%s' processed %d record(s) (tick %d)", job.name, records, tick)
        return self._heard(TickResult(job.name, tick, Outcome.RAN, records))

    def _scheduled_run(self, job: SyncJob) -> None:
        try:
            self.run_tick(job)
        except Exception:  # the claim itself failed (database down): try next tick
            logger.exception("Sync job '%s' could not claim its tick", job.name)

    def _heard(self, result: TickResult) -> TickResult:
        if self._on_tick is not None:
            self._on_tick(result)
        return result

    def _schedule(self, scheduler: BackgroundScheduler, job: SyncJob) -> None:
        if job.every_seconds <= 0:
            return
        next_tick = tick_of(self._clock(), job.every_seconds) + 1
        first = datetime.fromtimestamp(next_tick * job.every_seconds, UTC)
        scheduler.add_job(
            self._scheduled_run,
            IntervalTrigger(seconds=job.every_seconds, start_date=first, timezone=UTC),
            args=(job,),
            id=job.name,
            name=f"sync:{job.name}",
            max_instances=1,
            coalesce=True,
            # A run started late still belongs to its tick while the tick lasts.
            misfire_grace_time=max(1, int(job.every_seconds)),
        )
