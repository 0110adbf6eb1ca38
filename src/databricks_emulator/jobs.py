"""Jobs with Quartz schedules and pipeline tasks, and their runs.

`run-now` of a job whose task is a `pipeline_task` starts an update of that pipeline (cause
`JOB_TASK`); the run follows it, PENDING while it is queued, RUNNING while it runs, and
TERMINATED with the update's outcome. Other tasks finish after one pipeline step.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from databricks_emulator.catalog import now_ms
from databricks_emulator.errors import ApiError, invalid
from databricks_emulator.pipelines import Pipelines
from databricks_emulator.quartz import check_quartz, check_timezone

_KEYED_ARRAYS = {
    "tasks": "task_key",
    "job_clusters": "job_cluster_key",
    "environments": "environment_key",
}
_RESULT = {"COMPLETED": "SUCCESS", "FAILED": "FAILED", "CANCELED": "CANCELED"}


def job_missing(job_id: object) -> ApiError:
    """400 INVALID_PARAMETER_VALUE; the SDK turns it into `ResourceDoesNotExist` on jobs/get."""
    return invalid(f"Job {job_id} does not exist.")


@dataclass
class JobRun:
    run_id: int
    job_id: int
    number_in_job: int
    start_time: int
    run_name: str
    tasks: list[dict[str, Any]]
    updates: dict[str, tuple[str, str]] = field(default_factory=dict)  # task -> (pipeline, update)
    failures: dict[str, str] = field(default_factory=dict)  # task -> why it could not start


class Jobs:
    def __init__(self, pipelines: Pipelines, user: str) -> None:
        self.pipelines = pipelines
        self.user = user
        self.jobs: dict[int, dict[str, Any]] = {}
        self.runs: dict[int, JobRun] = {}
        self.next_job = 1001
        self.next_run = 5001

    def _check_settings(self, settings: dict[str, Any]) -> None:
        schedule = settings.get("schedule")
        if schedule:
            check_quartz(str(schedule.get("quartz_cron_expression", "")))
            check_timezone(str(schedule.get("timezone_id", "")))
            if schedule.get("pause_status", "UNPAUSED") not in ("PAUSED", "UNPAUSED"):
                raise invalid(f"Invalid pause_status '{schedule['pause_status']}'.")
        if schedule and settings.get("continuous"):
            raise invalid("A job may have a schedule or be continuous, not both.")
        keys: set[str] = set()
        for task in settings.get("tasks") or []:
            key = task.get("task_key")
            if not key:
                raise invalid("Every task must have a task_key.")
            if key in keys:
                raise invalid(f"Task key '{key}' is used by more than one task.")
            keys.add(key)
            pipeline_task = task.get("pipeline_task")
            if pipeline_task:
                self.pipelines.pipeline(str(pipeline_task.get("pipeline_id")))

    def create(self, body: dict[str, Any]) -> int:
        settings = copy.deepcopy(body)
        settings.setdefault("name", "Untitled")
        self._check_settings(settings)
        job_id = self.next_job
        self.next_job += 1
        self.jobs[job_id] = {
            "job_id": job_id,
            "creator_user_name": self.user,
            "run_as_user_name": self.user,
            "created_time": now_ms(),
            "settings": settings,
        }
        return job_id

    def job(self, job_id: object) -> dict[str, Any]:
        if not isinstance(job_id, int) or job_id not in self.jobs:
            raise job_missing(job_id)
        return self.jobs[job_id]

    def listed(self, name: str | None, expand_tasks: bool) -> list[dict[str, Any]]:
        """Newest first; `name` matches exactly, ignoring case, as the Jobs API filters."""
        found = [
            j
            for _, j in sorted(self.jobs.items(), reverse=True)
            if name is None or str(j["settings"].get("name", "")).lower() == name.lower()
        ]
        answer = []
        for job in found:
            base = {k: copy.deepcopy(v) for k, v in job.items() if k != "run_as_user_name"}
            if not expand_tasks:
                base["settings"].pop("tasks", None)
                base["settings"].pop("job_clusters", None)
            answer.append(base)
        return answer

    def reset(self, job_id: object, settings: dict[str, Any]) -> None:
        job = self.job(job_id)
        if not settings:
            raise invalid("new_settings must be provided.")
        fresh = copy.deepcopy(settings)
        fresh.setdefault("name", "Untitled")
        self._check_settings(fresh)
        job["settings"] = fresh

    def update(self, job_id: object, partial: dict[str, Any], remove: list[str]) -> None:
        """Top-level fields replace; tasks and job clusters merge by key; `remove` drops."""
        job = self.job(job_id)
        merged = copy.deepcopy(job["settings"])
        for key, value in partial.items():
            if key in _KEYED_ARRAYS and isinstance(value, list):
                merged[key] = _merge_keyed(merged.get(key) or [], value, _KEYED_ARRAYS[key])
            else:
                merged[key] = copy.deepcopy(value)
        for path in remove:
            top, _, item = path.partition("/")
            if item and top in _KEYED_ARRAYS:
                merged[top] = [
                    e for e in merged.get(top) or [] if e.get(_KEYED_ARRAYS[top]) != item
                ]
            else:
                merged.pop(top, None)
        self._check_settings(merged)
        job["settings"] = merged

    def delete(self, job_id: object) -> None:
        self.job(job_id)
        del self.jobs[job_id]  # type: ignore[arg-type]

    def run_now(self, job_id: object) -> dict[str, Any]:
        job = self.job(job_id)
        settings = job["settings"]
        run_id = self.next_run
        self.next_run += 1
        number = 1 + sum(1 for r in self.runs.values() if r.job_id == job["job_id"])
        tasks = copy.deepcopy(settings.get("tasks") or [])
        run = JobRun(run_id, job["job_id"], number, now_ms(), str(settings.get("name")), tasks)
        for task in tasks:
            pipeline_id = (task.get("pipeline_task") or {}).get("pipeline_id")
            if pipeline_id:
                body = {"full_refresh": bool(task["pipeline_task"].get("full_refresh"))}
                try:
                    update_id = self.pipelines.start_update(pipeline_id, body, cause="JOB_TASK")
                except ApiError as exc:
                    run.failures[task["task_key"]] = exc.message
                else:
                    run.updates[task["task_key"]] = (pipeline_id, update_id)
        self.runs[run_id] = run
        return {"run_id": run_id, "number_in_job": number}

    def run(self, run_id: object) -> dict[str, Any]:
        if not isinstance(run_id, int) or run_id not in self.runs:
            raise invalid(f"Run {run_id} does not exist.")
        run = self.runs[run_id]
        task_states = [self._task_state(run, t) for t in run.tasks]
        overall = _combine(task_states or [self._plain_state(run)])
        return {
            "run_id": run.run_id,
            "job_id": run.job_id,
            "number_in_job": run.number_in_job,
            "run_name": run.run_name,
            "creator_user_name": self.user,
            "start_time": run.start_time,
            "run_type": "JOB_RUN",
            "trigger": "ONE_TIME",
            "state": overall,
            "tasks": [
                {**copy.deepcopy(t), "run_id": run.run_id * 1000 + i, "state": s}
                for i, (t, s) in enumerate(zip(run.tasks, task_states, strict=True))
            ],
        }

    def _plain_state(self, run: JobRun) -> dict[str, Any]:
        if now_ms() - run.start_time < self.pipelines.step_ms:
            return {"life_cycle_state": "RUNNING", "state_message": ""}
        return {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS", "state_message": ""}

    def _task_state(self, run: JobRun, task: dict[str, Any]) -> dict[str, Any]:
        if task["task_key"] in run.failures:
            return {
                "life_cycle_state": "TERMINATED",
                "result_state": "FAILED",
                "state_message": run.failures[task["task_key"]],
            }
        if task["task_key"] not in run.updates:
            return self._plain_state(run)
        pipeline_id, update_id = run.updates[task["task_key"]]
        if pipeline_id not in self.pipelines.pipelines:
            return {
                "life_cycle_state": "TERMINATED",
                "result_state": "FAILED",
                "state_message": f"The specified pipeline {pipeline_id} was not found.",
            }
        update = self.pipelines.update(pipeline_id, update_id)
        if update.state == "QUEUED":
            return {"life_cycle_state": "PENDING", "state_message": ""}
        if update.state not in _RESULT:
            return {"life_cycle_state": "RUNNING", "state_message": ""}
        return {
            "life_cycle_state": "TERMINATED",
            "result_state": _RESULT[update.state],
            "state_message": update.error or "",
        }

    def snapshot(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(j["settings"]) for _, j in sorted(self.jobs.items())]


def _merge_keyed(current: list[Any], changes: list[Any], key: str) -> list[Any]:
    merged = {entry.get(key): copy.deepcopy(entry) for entry in current}
    for entry in changes:
        merged[entry.get(key)] = copy.deepcopy(entry)
    return list(merged.values())


def _combine(states: list[dict[str, Any]]) -> dict[str, Any]:
    for phase in ("PENDING", "RUNNING"):
        if any(s["life_cycle_state"] == phase for s in states):
            return {"life_cycle_state": phase, "state_message": ""}
    failed = next((s for s in states if s.get("result_state") != "SUCCESS"), None)
    return copy.deepcopy(failed or states[0])
