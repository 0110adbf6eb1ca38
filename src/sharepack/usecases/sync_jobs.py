"""The scheduled sync jobs asked for by an operator: one run now (on the audit trail),
and the recent runs as `sync_jobs` records them."""

from __future__ import annotations

from sharepack.errors import NotFoundError
from sharepack.identity.principal import Caller
from sharepack.runtime import Runtime
from sharepack.settings import Settings
from sharepack.store.entities import LogEntry
from sharepack.sync.jobs import SyncJob, run_job
from sharepack.sync.registry import known_jobs
from sharepack.usecases.audit import Act, Outcome, record
from sharepack.usecases.drift import drift_job


def all_jobs(settings: Settings) -> list[SyncJob]:
    """The sync package's jobs and the drift check (a use case above it)."""
    return [*known_jobs(settings), drift_job(settings)]


def scheduled(settings: Settings) -> list[SyncJob]:
    """The jobs `serve` and `worker` run on their schedule: those with an interval."""
    return [job for job in all_jobs(settings) if job.every_seconds > 0]


def job_names(runtime: Runtime) -> list[str]:
    return [job.name for job in all_jobs(runtime.settings)]


def run_sync_job_now(runtime: Runtime, caller: Caller, name: str) -> int:
    """Run the job `name` once now, whatever its schedule, for `caller`; the records it
    processed. `NotFoundError` for an unknown name; what made it fail otherwise (after its
    FAILED `sync_jobs` row and a FAILED act on the audit trail)."""
    job = next((j for j in all_jobs(runtime.settings) if j.name == name), None)
    if job is None:
        known = ", ".join(job_names(runtime))
        raise NotFoundError(f"No sync job named '{name}' (known: {known})")
    try:
        processed = run_job(runtime, job)
    except Exception as exc:
        _audit(runtime, caller, name, Outcome.FAILED, {"error": f"{type(exc).__name__}: {exc}"})
        raise
    _audit(runtime, caller, name, Outcome.OK, {"records_processed": processed})
    return processed


def _audit(
    runtime: Runtime, caller: Caller, name: str, outcome: Outcome, details: dict[str, object]
) -> None:
    with runtime.database.unit_of_work() as uow:
        record(
            uow,
            caller,
            Act.RUN_SYNC_JOB,
            entity_type="sync_job",
            outcome=outcome,
            details={"job": name, **details},
        )
        uow.commit()


def recent_runs(runtime: Runtime, limit: int = 20, name: str | None = None) -> list[LogEntry]:
    """The newest `sync_jobs` rows first, of every sync (directory included) or of `name`."""
    equal = {"sync_type": name} if name else {}
    with runtime.database.reading() as uow:
        return uow.sync_jobs.recent(limit, **equal)
