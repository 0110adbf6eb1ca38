"""The `job_metrics` job against the emulator: each ended update of a pack's pipeline is
one `job_metrics` row, written once however often the job runs."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.runtime import Runtime
from sharepack.sync.metrics import run_job_metrics
from sharepack.workspace.errors import WorkspaceError
from sharepack.workspace.sdk_inventory import ends_and_rows, epoch_ms
from sharepack.workspace.state import PipelineState
from sharepack.workspace.urls import normalise_workspace_url
from tests.sync.conftest import record_pipeline

STEP_MS = 30
SOURCE = "raw_catalog.sales.transactions"
TARGET = "prod_catalog.sales.metrics_feed"


def _metrics(runtime: Runtime, pipeline_id: uuid.UUID) -> list[dict[str, object]]:
    """The pipeline's rows, oldest run first."""
    with runtime.database.reading() as uow:
        rows = [e.values for e in uow.job_metrics.recent(1000, pipeline_id=pipeline_id)]
    return sorted(rows, key=lambda row: str(row["started_at"]))


@pytest.fixture
def feed(runtime: Runtime, emulator: EmulatorServer) -> tuple[str, uuid.UUID]:
    """A pipeline in the emulator and the record a pack's run leaves of it: its Databricks
    id and our pipeline_id."""
    emulator.set_pipeline_step_ms(STEP_MS)
    url = normalise_workspace_url(emulator.url)
    created = runtime.workspace_for(url).create_pipeline(
        PipelineState(name="metrics_feed", source_asset=SOURCE, target_asset=TARGET)
    )
    assert created.pipeline_id is not None
    ours = record_pipeline(
        runtime,
        url,
        "metrics_feed",
        databricks_pipeline_id=created.pipeline_id,
        source_table=SOURCE,
        target_table=TARGET,
    )
    return created.pipeline_id, ours


def _run_update(runtime: Runtime, emulator: EmulatorServer, pipeline_id: str) -> None:
    workspace = runtime.workspace_for(normalise_workspace_url(emulator.url))
    workspace.run_pipeline_update(pipeline_id, timeout_seconds=60, produces=TARGET)


def test_a_completed_run_is_one_row_with_its_times(
    runtime: Runtime, emulator: EmulatorServer, feed: tuple[str, uuid.UUID]
) -> None:
    databricks_id, ours = feed
    _run_update(runtime, emulator, databricks_id)

    appended = run_job_metrics(runtime)

    assert appended == 1
    [row] = _metrics(runtime, ours)
    assert row["run_status"] == "COMPLETED"
    assert isinstance(row["job_run_id"], str)
    # QUEUED -> INITIALIZING -> RUNNING -> COMPLETED, one state every STEP_MS.
    assert row["duration_seconds"] == Decimal(3 * STEP_MS) / 1000
    assert row["ended_at"] is not None
    assert row["started_at"] is not None
    assert row["rows_processed"] is None  # the emulator's log reports no flow metrics


def test_a_run_is_recorded_once_and_the_next_run_is_added(
    runtime: Runtime, emulator: EmulatorServer, feed: tuple[str, uuid.UUID]
) -> None:
    databricks_id, ours = feed
    _run_update(runtime, emulator, databricks_id)
    run_job_metrics(runtime)

    again = run_job_metrics(runtime)
    _run_update(runtime, emulator, databricks_id)
    after_second = run_job_metrics(runtime)

    assert (again, after_second) == (0, 1)
    rows = _metrics(runtime, ours)
    assert len(rows) == 2
    assert len({row["job_run_id"] for row in rows}) == 2


def test_a_failed_run_is_recorded_failed(
    runtime: Runtime, emulator: EmulatorServer, feed: tuple[str, uuid.UUID]
) -> None:
    databricks_id, ours = feed
    emulator.control("POST", "pipeline-failures", {"name_regex": "^metrics_feed$"})
    with pytest.raises(WorkspaceError, match="FAILED"):
        _run_update(runtime, emulator, databricks_id)

    run_job_metrics(runtime)

    [row] = _metrics(runtime, ours)
    assert row["run_status"] == "FAILED"
    assert row["duration_seconds"] is not None


def test_a_run_still_going_is_not_recorded_until_it_ends(
    runtime: Runtime, emulator: EmulatorServer, feed: tuple[str, uuid.UUID]
) -> None:
    databricks_id, ours = feed
    emulator.set_pipeline_step_ms(600_000)  # stays QUEUED for the test's length
    workspace = runtime.workspace_for(normalise_workspace_url(emulator.url))
    with pytest.raises(WorkspaceError, match="did not complete"):
        workspace.run_pipeline_update(databricks_id, timeout_seconds=0.3, produces=TARGET)

    assert run_job_metrics(runtime) == 0
    assert _metrics(runtime, ours) == []


def test_rows_and_end_come_from_the_event_log_newest_first() -> None:
    events = [
        _event("u2", "update_progress", "2026-12-03T10:00:09.000Z", state="COMPLETED"),
        _event("u2", "flow_progress", "2026-12-03T10:00:08.000Z", rows=40),
        _event("u2", "flow_progress", "2026-12-03T10:00:07.500Z", rows=2),
        _event("u1", "update_progress", "2026-12-03T10:00:05.000Z", state="CANCELED"),
        _event("u2", "update_progress", "2026-12-03T10:00:04.000Z", state="QUEUED"),
        _event("u0", "update_progress", "2026-12-03T09:00:00.000Z", state="COMPLETED"),
    ]

    ends, rows = ends_and_rows(
        events, {"u1", "u2", "u0"}, since=epoch_ms(events[4]["timestamp"]) or 0
    )

    assert ends == {
        "u2": epoch_ms("2026-12-03T10:00:09.000Z"),
        "u1": epoch_ms("2026-12-03T10:00:05Z"),
    }
    assert rows == {"u2": 42}


def _event(
    update_id: str, kind: str, at: str, *, state: str = "", rows: int = 0
) -> dict[str, object]:
    details = (
        {"update_progress": {"state": state}}
        if kind == "update_progress"
        else {"flow_progress": {"status": "RUNNING", "metrics": {"num_output_rows": rows}}}
    )
    return {
        "origin": {"update_id": update_id},
        "event_type": kind,
        "timestamp": at,
        "details": details,
    }
