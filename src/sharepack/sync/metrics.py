"""The `job_metrics` job: each ended update of the packs' pipelines, as one `job_metrics`
row (append-only).

For every current pipeline record with a Databricks pipeline id, the updates that have
reached a final state (COMPLETED, FAILED, CANCELED) and are not yet recorded for it
(`job_run_id` is the update's id) are appended: state, start, end and duration, and the
rows its flows wrote when the pipeline's event log reports them (else NULL). The
workspaces are read outside any transaction; the rows are written in one, which checks
again what is recorded, so two runs at once write each update once.

A pipeline whose workspace cannot be read is skipped and named in the `SyncJobError` the
run ends with, after the others are written.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from sharepack.errors import SharePackError, SyncJobError
from sharepack.runtime import Runtime
from sharepack.store.dialect import lock_key
from sharepack.store.tables import job_metrics
from sharepack.workspace.state import PipelineRun

NAME = "job_metrics"


@dataclass(frozen=True)
class _Pipeline:
    pipeline_id: uuid.UUID  # our record's business key
    databricks_id: str
    workspace_url: str


def run_job_metrics(runtime: Runtime) -> int:
    """Append the ended, unrecorded runs of the packs' pipelines; how many were appended."""
    pipelines = _current_pipelines(runtime)
    recorded = _recorded(runtime, [p.pipeline_id for p in pipelines])
    runs: dict[uuid.UUID, list[PipelineRun]] = {}
    failures: list[str] = []
    for pipeline in pipelines:
        try:
            workspace = runtime.workspace_for(pipeline.workspace_url)
            runs[pipeline.pipeline_id] = workspace.read_pipeline_runs(
                pipeline.databricks_id, known=recorded[pipeline.pipeline_id]
            )
        except SharePackError as exc:
            failures.append(f"{pipeline.databricks_id} ({pipeline.workspace_url}): {exc.message}")
    appended = _append(runtime, runs)
    if failures:
        raise SyncJobError(
            f"The runs of {len(failures)} pipeline(s) could not be read: " + "; ".join(failures)
        )
    return appended


def _current_pipelines(runtime: Runtime) -> list[_Pipeline]:
    with runtime.database.reading() as uow:
        return [
            _Pipeline(record.entity_id, str(databricks_id), record.workspace_url)
            for record in uow.pipelines.live()
            if (databricks_id := record.fields.get("databricks_pipeline_id"))
        ]


def _recorded(runtime: Runtime, pipeline_ids: list[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """The update ids recorded so far, by pipeline."""
    found: dict[uuid.UUID, set[str]] = defaultdict(set)
    if not pipeline_ids:
        return found
    with runtime.database.reading() as uow:
        query = select(job_metrics.c.pipeline_id, job_metrics.c.job_run_id).where(
            job_metrics.c.pipeline_id.in_(pipeline_ids)
        )
        for pipeline_id, run_id in uow.session.execute(query):
            found[pipeline_id].add(run_id)
    return found


def _append(runtime: Runtime, runs: dict[uuid.UUID, list[PipelineRun]]) -> int:
    if not any(runs.values()):
        return 0
    appended = 0
    with runtime.database.unit_of_work() as uow:
        lock_key(uow.session, "sync_jobs", NAME)
        query = select(job_metrics.c.pipeline_id, job_metrics.c.job_run_id).where(
            job_metrics.c.pipeline_id.in_(list(runs))
        )
        known = {(p, r) for p, r in uow.session.execute(query)}
        for pipeline_id, pipeline_runs in runs.items():
            for run in pipeline_runs:
                if (pipeline_id, run.update_id) in known:
                    continue
                uow.job_metrics.append(pipeline_id=pipeline_id, **_row(run))
                appended += 1
        uow.commit()
    return appended


def _row(run: PipelineRun) -> dict[str, object]:
    duration = Decimal(run.ended - run.created) / 1000 if run.ended is not None else None
    return {
        "job_run_id": run.update_id,
        "run_status": run.state,
        "started_at": _moment(run.created),
        "ended_at": _moment(run.ended) if run.ended is not None else None,
        "duration_seconds": duration,
        "rows_processed": run.rows_processed,
    }


def _moment(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)
