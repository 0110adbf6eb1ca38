"""`serve` and `worker` run the scheduled sync jobs beside their work, and the settings
choose which jobs are scheduled and how often."""

from __future__ import annotations

import threading
import time

import pytest

from sharepack.cli.serve import _scheduled_sync_jobs
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.sync.jobs import SUCCEEDED, SyncJob
from sharepack.usecases import sync_jobs


def test_the_settings_give_each_job_its_interval_and_zero_turns_it_off(
    worker_settings: Settings,
) -> None:
    default = {job.name: job.every_seconds for job in sync_jobs.scheduled(worker_settings)}
    only_metrics = worker_settings.model_copy(
        update={
            "sharepack_sync_inventory_minutes": 0,
            "sharepack_sync_metrics_minutes": 5,
            "sharepack_drift_check_minutes": 0,
        }
    )

    assert default == {"inventory": 3600.0, "job_metrics": 900.0, "drift": 86400.0}
    assert [j.name for j in sync_jobs.scheduled(only_metrics)] == ["job_metrics"]
    # Still runnable by hand.
    assert {j.name for j in sync_jobs.all_jobs(only_metrics)} == {
        "inventory",
        "job_metrics",
        "drift",
    }


def test_serve_and_worker_run_the_scheduled_jobs_while_they_run(
    worker_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = threading.Event()

    def heartbeat(runtime: Runtime) -> int:
        ran.set()
        return 1

    monkeypatch.setattr(
        sync_jobs, "scheduled", lambda settings: [SyncJob("heartbeat", 1.0, heartbeat)]
    )
    runtime = build_runtime(worker_settings)
    try:
        with _scheduled_sync_jobs(runtime):
            assert ran.wait(timeout=30)
            deadline = time.monotonic() + 30
            while not _rows(runtime):  # the row follows the run
                assert time.monotonic() < deadline, "no sync_jobs row within 30 s"
                time.sleep(0.02)
        assert _rows(runtime)[0]["sync_status"] == SUCCEEDED
    finally:
        runtime.close()


def _rows(runtime: Runtime) -> list[dict[str, object]]:
    with runtime.database.reading() as uow:
        return [e.values for e in uow.sync_jobs.recent(10, sync_type="heartbeat")]
