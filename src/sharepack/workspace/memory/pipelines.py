"""Pipelines, their updates and the jobs that schedule them, held in memory."""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection
from contextlib import suppress
from dataclasses import replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sharepack.cron import CronError, check_quartz
from sharepack.workspace.errors import (
    InvalidRequestError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
    WorkspaceError,
)
from sharepack.workspace.memory.held import (
    HeldJob,
    HeldPipeline,
    HeldState,
    as_held,
    target_parts,
)
from sharepack.workspace.sdk_pipelines import PIPELINE_TAG, mark_tags
from sharepack.workspace.state import (
    PipelineRun,
    PipelineState,
    ScheduleJobState,
)


class PipelinesPart(HeldState):
    """The pipelines and schedule jobs of `InMemoryWorkspace`."""

    def create_pipeline(self, pipeline: PipelineState) -> PipelineState:
        what = f"Creating pipeline '{pipeline.name}'"
        with self._lock:
            self._check_pipeline(what, pipeline, pipeline_id=None)
            pipeline_id = str(uuid.uuid4())
            self._pipelines[pipeline_id] = HeldPipeline(as_held(pipeline, pipeline_id))
            return replace(pipeline, pipeline_id=pipeline_id)

    def update_pipeline(self, pipeline: PipelineState) -> PipelineState:
        what = f"Updating pipeline '{pipeline.name}'"
        with self._lock:
            pipeline_id = pipeline.pipeline_id or self._find_pipeline_id(pipeline.name)
            if pipeline_id is None:
                raise ResourceNotFoundError(f"{what}: it does not exist")
            held = self._pipeline(what, pipeline_id)
            if pipeline.name != held.state.name:
                self._check_pipeline(what, pipeline, pipeline_id=pipeline_id)
            else:
                target_parts(pipeline)
            held.state = as_held(pipeline, pipeline_id)
            return replace(pipeline, pipeline_id=pipeline_id)

    def _check_pipeline(self, what: str, pipeline: PipelineState, pipeline_id: str | None) -> None:
        target_parts(pipeline)
        if not pipeline.name:
            raise InvalidRequestError(f"{what}: Pipeline name must be provided.")
        if any(
            p.state.name == pipeline.name and i != pipeline_id for i, p in self._pipelines.items()
        ):
            raise ResourceAlreadyExistsError(
                f"{what}: The pipeline name '{pipeline.name}' is already used by another "
                "pipeline; a pipeline of that name exists"
            )

    def delete_pipeline(self, pipeline_id: str) -> None:
        """Deleting a pipeline drops the tables it produced, as Unity Catalog does."""
        with self._lock:
            held = self._pipeline(f"Deleting pipeline {pipeline_id}", pipeline_id)
            for table in held.produced:
                self._tables.pop(table, None)
            del self._pipelines[pipeline_id]

    def run_pipeline_update(
        self,
        pipeline_id: str,
        *,
        timeout_seconds: float,
        continuous: bool = False,
        produces: str | None = None,
    ) -> None:
        """Run an update to its end at once: it fails, or materialises the target table.
        A continuous pipeline's update stays running; the next run joins it."""
        with self._lock:
            held = self._pipeline(f"Starting an update of pipeline {pipeline_id}", pipeline_id)
            update_id = str(uuid.uuid4())
            if not held.running:
                now = round(time.time() * 1000)
                if self._update_failure(held) is not None:
                    held.runs.append(PipelineRun(update_id, "FAILED", now, now))
                    raise WorkspaceError(
                        f"Update {update_id} of pipeline {pipeline_id} ended FAILED"
                    )
                target = held.state.target_asset.lower()
                if target not in self._tables:
                    self._add_table(target, "STREAMING_TABLE")
                    held.produced.add(target)
                held.running = held.state.continuous
                if not held.running:
                    held.runs.append(PipelineRun(update_id, "COMPLETED", now, now))
            if not held.running:
                return  # COMPLETED
            if continuous and (produces is None or produces.lower() in self._tables):
                return
            raise WorkspaceError(
                f"Update {update_id} of pipeline {pipeline_id} did not complete within "
                f"{timeout_seconds:g} s (last state RUNNING)"
            )

    def read_pipeline_runs(
        self, pipeline_id: str, *, known: Collection[str] = ()
    ) -> list[PipelineRun]:
        """The updates run here that ended (they end at once, so `ended` is `created`); no
        rows, as an event log without flow metrics would say."""
        with self._lock:
            held = self._pipelines.get(pipeline_id)
            return [] if held is None else [r for r in held.runs if r.update_id not in known]

    def _update_failure(self, held: HeldPipeline) -> str | None:
        """Why an update of the pipeline ends FAILED, or None when it completes."""
        spec = held.state
        for rule in self._failure_rules:
            if rule.times > 0 and rule.name_regex.search(spec.name):
                rule.times -= 1
                return rule.message
        if not spec.runs_sharepack_notebook:
            return "Its notebook does not exist in the workspace."
        if spec.source_asset and spec.source_asset.lower() not in self._tables:
            return f"Table '{spec.source_asset}' does not exist."
        target = spec.target_asset.lower()
        if target.rsplit(".", 1)[0] not in self._schemas:
            return f"Schema '{target.rsplit('.', 1)[0]}' does not exist."
        if target in self._tables and target not in held.produced:
            return f"Table '{spec.target_asset}' already exists and is not managed by it."
        return None

    def _pipeline(self, what: str, pipeline_id: str) -> HeldPipeline:
        held = self._pipelines.get(pipeline_id)
        if held is None:
            raise ResourceNotFoundError(
                f"{what}: The specified pipeline {pipeline_id} was not found."
            )
        return held

    # --- schedule jobs ------------------------------------------------------------------

    def create_schedule_job(self, job: ScheduleJobState) -> ScheduleJobState:
        """Create the job; the jobs of its name carrying its mark are reconciled to it."""
        with self._lock:
            pipeline_id = self._job_pipeline_id(job)
            try:
                job_id = self._new_job_id()
                self._put_job(f"Creating schedule job '{job.name}'", job_id, job, pipeline_id)
            except WorkspaceError:
                with suppress(WorkspaceError):
                    self._reconcile(job, keep=None)
                raise
            self._reconcile(job, keep=job_id)
            return replace(job, job_id=job_id, pipeline_id=pipeline_id)

    def reconcile_schedule_job(self, job: ScheduleJobState) -> ScheduleJobState | None:
        with self._lock:
            return self._reconcile(job, keep=None)

    def _reconcile(self, job: ScheduleJobState, keep: int | None) -> ScheduleJobState | None:
        if job.created_by is None:
            return None
        wanted = mark_tags(job.created_by)
        ours = [j for j in self._jobs_named(job.name) if mark_tags(j.state().created_by) == wanted]
        if not ours:
            return None
        kept = next((j for j in ours if j.job_id == keep), min(ours, key=lambda j: j.job_id))
        for duplicate in ours:
            if duplicate is not kept:
                del self._jobs[duplicate.job_id]
        return kept.state()

    def update_schedule_job(self, job: ScheduleJobState) -> ScheduleJobState:
        """Reset the job's settings; the mark of the run that created it is kept."""
        with self._lock:
            existing = job if job.job_id is not None else self._read_job(job.name)
            if existing is None or existing.job_id is None:
                raise ResourceNotFoundError(
                    f"Updating schedule job '{job.name}': it does not exist"
                )
            job = replace(job, created_by=job.created_by or existing.created_by)
            pipeline_id = self._job_pipeline_id(job)
            what = f"Updating schedule job '{job.name}'"
            if existing.job_id not in self._jobs:
                raise InvalidRequestError(f"{what}: Job {existing.job_id} does not exist.")
            self._put_job(what, existing.job_id, job, pipeline_id)
            return replace(job, job_id=existing.job_id, pipeline_id=pipeline_id)

    def delete_schedule_job(self, job_id: int) -> None:
        with self._lock:
            if job_id not in self._jobs:
                raise InvalidRequestError(
                    f"Deleting schedule job {job_id}: Job {job_id} does not exist."
                )
            del self._jobs[job_id]

    def _put_job(self, what: str, job_id: int, job: ScheduleJobState, pipeline_id: str) -> None:
        """Store the job's settings once the workspace would accept them."""
        fields = job.quartz_cron.split()
        try:
            if len(fields) not in (6, 7):
                raise CronError(f"expected 6 or 7 fields, got {len(fields)}")
            check_quartz(fields)
        except CronError as exc:
            raise InvalidRequestError(
                f"{what}: Invalid Quartz cron expression '{job.quartz_cron}': {exc}"
            ) from exc
        try:
            ZoneInfo(job.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidRequestError(f"{what}: Invalid timezone_id '{job.timezone}'.") from None
        self._pipeline(what, pipeline_id)
        tags = {PIPELINE_TAG: job.pipeline_name, **mark_tags(job.created_by)}
        self._jobs[job_id] = HeldJob(
            job_id, job.name, pipeline_id, job.quartz_cron, job.timezone, tags
        )

    def _job_pipeline_id(self, job: ScheduleJobState) -> str:
        pipeline_id = job.pipeline_id or self._find_pipeline_id(job.pipeline_name)
        if pipeline_id is None:
            raise ResourceNotFoundError(
                f"Schedule job '{job.name}': pipeline '{job.pipeline_name}' does not exist"
            )
        return pipeline_id

    def _jobs_named(self, name: str) -> list[HeldJob]:
        """Every job called exactly `name`, newest first."""
        return [j for _, j in sorted(self._jobs.items(), reverse=True) if j.name == name]

    def _read_job(self, name: str) -> ScheduleJobState | None:
        return next((j.state() for j in self._jobs_named(name)), None)

    def _new_job_id(self) -> int:
        job_id = self._next_job_id
        self._next_job_id += 1
        return job_id
