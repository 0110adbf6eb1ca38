"""A sync job, and one run of it recorded as a `sync_jobs` row.

A job is a name, an interval and a function of the `Runtime` that returns how many
records it processed. Every run leaves one `sync_jobs` row (`sync_type` is the job's
name): SUCCEEDED with that count once the job has returned, or FAILED with the error, in
a transaction of its own, after which the error is raised again. A job writes its own
records in its own transactions; a failed job may have written some (each consistent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sharepack.runtime import Runtime
from sharepack.store import Database

SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"


@dataclass(frozen=True)
class SyncJob:
    """What the scheduler runs every `every_seconds` (0 or less: not scheduled, still
    runnable by hand); `run` returns the number of records it processed."""

    name: str
    every_seconds: float
    run: Callable[[Runtime], int]


def run_job(runtime: Runtime, job: SyncJob) -> int:
    """Run `job` now and record the run; the records it processed. Raises what made it
    fail, after its FAILED row."""
    started = datetime.now(UTC)
    try:
        processed = job.run(runtime)
        with runtime.database.unit_of_work() as uow:
            uow.sync_jobs.append(
                sync_type=job.name,
                sync_status=SUCCEEDED,
                started_at=started,
                finished_at=datetime.now(UTC),
                records_processed=processed,
            )
            uow.commit()
    except Exception as exc:
        _record_failure(runtime.database, job.name, started, exc)
        raise
    return processed


def _record_failure(database: Database, name: str, started: datetime, exc: Exception) -> None:
    """The FAILED row, in its own transaction; if even that fails, the original error is
    what the caller sees, with a note saying the row is missing and why."""
    try:
        with database.unit_of_work() as uow:
            uow.sync_jobs.append(
                sync_type=name,
                sync_status=FAILED,
                started_at=started,
                finished_at=datetime.now(UTC),
                records_processed=0,
                error_message=f"{type(exc).__name__}: {exc}"[:4000],
            )
            uow.commit()
    except Exception as recording:
        exc.add_note(f"The FAILED sync_jobs row could not be written either: {recording}")
