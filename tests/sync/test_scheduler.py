"""The sync scheduler: a job runs once per tick however many workers schedule it, each run
is a `sync_jobs` row, and a job that fails is recorded FAILED while the schedule goes on."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable

import pytest

from sharepack.runtime import Runtime
from sharepack.sync.jobs import FAILED, SUCCEEDED, SyncJob, run_job
from sharepack.sync.scheduler import Outcome, SyncScheduler, TickResult, tick_of

EVERY = 10.0


class Clock:
    """Epoch seconds a test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingJob:
    """A job's `run` that counts its calls (safe across threads) and processes 3 records."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, runtime: Runtime) -> int:
        with self._lock:
            self.calls += 1
        return 3


def _sync_rows(runtime: Runtime, name: str) -> list[dict[str, object]]:
    with runtime.database.reading() as uow:
        return [entry.values for entry in uow.sync_jobs.recent(1000, sync_type=name)]


def _at_once(*calls: Callable[[], TickResult]) -> list[TickResult]:
    """Run the calls on threads released together; their results in call order."""
    start = threading.Barrier(len(calls))
    results: list[TickResult | None] = [None] * len(calls)

    def run(index: int) -> None:
        start.wait(timeout=30)
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def test_two_workers_run_a_job_once_per_tick(two_workers: tuple[Runtime, Runtime]) -> None:
    counting = CountingJob()
    job = SyncJob("counted", EVERY, counting)
    clock = Clock(1_000_000.0)
    workers = [
        SyncScheduler(r, [job], holder=f"w{i}", clock=clock) for i, r in enumerate(two_workers)
    ]

    outcomes: dict[int, list[Outcome]] = {}
    for tick in range(5):
        clock.now = (100_000 + tick) * EVERY + 0.5
        results = _at_once(*(lambda w=w: w.run_tick(job) for w in workers))
        outcomes[100_000 + tick] = sorted(r.outcome for r in results)

    assert all(found == [Outcome.RAN, Outcome.SKIPPED] for found in outcomes.values())
    assert counting.calls == 5
    rows = _sync_rows(two_workers[0], "counted")
    assert len(rows) == 5
    assert {row["sync_status"] for row in rows} == {SUCCEEDED}
    assert {row["records_processed"] for row in rows} == {3}


def test_scheduled_workers_run_each_tick_once(two_workers: tuple[Runtime, Runtime]) -> None:
    """The real schedule, one-second ticks: the workers fire at each tick's start."""
    counting = CountingJob()
    job = SyncJob("every-second", 1.0, counting)
    heard: dict[int, list[Outcome]] = defaultdict(list)
    lock = threading.Lock()
    both_heard_three = threading.Event()

    def on_tick(result: TickResult) -> None:
        with lock:
            heard[result.tick].append(result.outcome)
            if sum(len(o) == 2 for o in heard.values()) >= 3:
                both_heard_three.set()

    workers = [SyncScheduler(r, [job], on_tick=on_tick) for r in two_workers]
    for worker in workers:
        worker.start()
    try:
        assert both_heard_three.wait(timeout=60)
    finally:
        for worker in workers:
            worker.shutdown()

    ran = Counter(tick for tick, found in heard.items() for o in found if o == Outcome.RAN)
    assert set(ran.values()) == {1}
    assert all(found.count(Outcome.RAN) <= 1 for found in heard.values())
    assert counting.calls == len(ran)
    assert len(_sync_rows(two_workers[0], "every-second")) == len(ran)


def test_a_failing_job_leaves_a_failed_row_and_runs_again_next_tick(
    two_workers: tuple[Runtime, Runtime],
) -> None:
    calls = []

    def fails_first(runtime: Runtime) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("catalog unreachable")
        return 7

    job = SyncJob("flaky", EVERY, fails_first)
    clock = Clock(50 * EVERY + 1)
    scheduler = SyncScheduler(two_workers[0], [job], clock=clock)

    first = scheduler.run_tick(job)
    clock.now += EVERY
    second = scheduler.run_tick(job)

    assert (first.outcome, second.outcome, second.records) == (Outcome.FAILED, Outcome.RAN, 7)
    newest, oldest = _sync_rows(two_workers[0], "flaky")
    assert oldest["sync_status"] == FAILED
    assert oldest["error_message"] == "RuntimeError: catalog unreachable"
    assert oldest["records_processed"] == 0
    assert (newest["sync_status"], newest["records_processed"]) == (SUCCEEDED, 7)


def test_the_schedule_goes_on_after_a_job_fails(two_workers: tuple[Runtime, Runtime]) -> None:
    heard: list[Outcome] = []
    failed_then_ran = threading.Event()

    def fails_every_other(runtime: Runtime) -> int:
        if len(heard) % 2 == 0:
            raise RuntimeError("every other run fails")
        return 1

    def on_tick(result: TickResult) -> None:
        heard.append(result.outcome)
        if Outcome.FAILED in heard and heard[-1] == Outcome.RAN:
            failed_then_ran.set()

    job = SyncJob("alternating", 1.0, fails_every_other)
    scheduler = SyncScheduler(two_workers[0], [job], on_tick=on_tick)
    scheduler.start()
    try:
        assert failed_then_ran.wait(timeout=60)
    finally:
        scheduler.shutdown()

    statuses = {row["sync_status"] for row in _sync_rows(two_workers[0], "alternating")}
    assert statuses == {FAILED, SUCCEEDED}


def test_a_tick_claimed_by_a_holder_that_crashed_is_missed_and_the_next_runs(
    two_workers: tuple[Runtime, Runtime],
) -> None:
    counting = CountingJob()
    job = SyncJob("after-crash", EVERY, counting)
    clock = Clock(70 * EVERY + 2)
    with two_workers[0].database.unit_of_work() as uow:
        assert uow.sync_ticks.claim("after-crash", 70, "crashed-worker")
        uow.commit()
    scheduler = SyncScheduler(two_workers[1], [job], holder="alive", clock=clock)

    missed = scheduler.run_tick(job)
    clock.now += EVERY
    next_one = scheduler.run_tick(job)

    assert (missed.outcome, next_one.outcome) == (Outcome.SKIPPED, Outcome.RAN)
    assert counting.calls == 1
    with two_workers[0].database.reading() as uow:
        assert uow.sync_ticks.holder("after-crash", 71) == "alive"


def test_a_job_without_an_interval_is_not_scheduled_but_runs_by_hand(
    two_workers: tuple[Runtime, Runtime],
) -> None:
    counting = CountingJob()
    job = SyncJob("by-hand", 0, counting)
    scheduler = SyncScheduler(two_workers[0], [job])
    scheduler.start()
    scheduler.shutdown()

    processed = run_job(two_workers[0], job)

    assert (processed, counting.calls) == (3, 1)
    assert [r["sync_status"] for r in _sync_rows(two_workers[0], "by-hand")] == [SUCCEEDED]


def test_a_job_name_is_registered_once(two_workers: tuple[Runtime, Runtime]) -> None:
    scheduler = SyncScheduler(two_workers[0], [SyncJob("once", EVERY, CountingJob())])

    with pytest.raises(ValueError, match="once"):
        scheduler.add(SyncJob("once", EVERY, CountingJob()))


def test_a_tick_is_the_interval_the_moment_falls_in() -> None:
    assert [tick_of(t, 60) for t in (0, 59.999, 60, 3599)] == [0, 0, 1, 59]
