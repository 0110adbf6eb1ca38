"""Creates the SDK resends: a schedule job or a pipeline made once, whatever the SDK repeats.

The SDK retries a 503 inside one call; when the first POST took effect, the workspace gets
the create twice. Jobs may share a name, so sharepack must find and remove the extra one;
pipelines may not (unless a create asks), so the second create is refused and adopted.
"""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from sharepack.runtime import Runtime
from sharepack.store import SharePackRecord
from sharepack.usecases.plan_apply import apply_file, read_file
from tests.api_server import TEST_OPERATOR
from tests.test_pipelines_end_to_end import CONTINUOUS, PACK

JOB = "daily_summary_feed_schedule"
PIPELINE = "daily_summary_feed"
# The first POST is served and its answer replaced by a 503: the SDK sends it again.
RESENT_JOB_CREATE = {
    "method": "POST",
    "path_regex": "^/api/2.2/jobs/create$",
    "status": 503,
    "applied": True,
}


def _apply(runtime: Runtime, emulator: EmulatorServer, content: bytes) -> SharePackRecord:
    loaded = read_file(runtime, content, "daily.yaml")
    return apply_file(
        runtime, loaded, filename="daily.yaml", workspace_url=emulator.url, caller=TEST_OPERATOR
    )


def _schedule_jobs(client: WorkspaceClient) -> list[int]:
    return [j.job_id or 0 for j in client.jobs.list(name=JOB)]


def test_a_job_create_the_sdk_resent_leaves_one_schedule_job(
    runtime: Runtime, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    emulator.add_fault(**RESENT_JOB_CREATE)

    record = _apply(runtime, emulator, PACK)

    assert record.share_pack_status == "COMPLETED", record.error_message
    creates = [c for c in emulator.calls() if c["path"] == "/api/2.2/jobs/create"]
    assert [c["status"] for c in creates] == [503, 200]  # the SDK did send it twice
    assert len(_schedule_jobs(workspace_client)) == 1


def test_a_resent_job_create_then_a_failure_rolls_back_to_no_job(
    runtime: Runtime, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    emulator.add_fault(**RESENT_JOB_CREATE)
    # Grants come after the pipeline's first update, by then the job create has returned.
    emulator.add_fault(method="PATCH", path_regex="/permissions$", status=500)

    record = _apply(runtime, emulator, PACK)

    assert (record.share_pack_status, record.rollback_status) == ("FAILED", "ROLLED_BACK"), (
        record.error_message
    )
    assert _schedule_jobs(workspace_client) == []
    assert list(workspace_client.pipelines.list_pipelines()) == []


def test_switching_to_continuous_after_a_resent_job_create_leaves_no_schedule_job(
    runtime: Runtime, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    emulator.add_fault(**RESENT_JOB_CREATE)
    assert _apply(runtime, emulator, PACK).share_pack_status == "COMPLETED"
    update = CONTINUOUS.replace(
        b"business_line: Sales Operations", b"business_line: Sales Operations\n  strategy: UPDATE"
    )

    switched = _apply(runtime, emulator, update)

    assert switched.share_pack_status == "COMPLETED", switched.error_message
    assert _schedule_jobs(workspace_client) == []
    assert list(workspace_client.jobs.list()) == []


# No public source gives the code of a workspace's refusal of a taken pipeline name (its
# words: "The pipeline name '<name>' is already used by another pipeline. ..."); the resent
# create is adopted whichever code it comes with.
TAKEN_NAME = {
    "RESOURCE_ALREADY_EXISTS": None,  # the emulator's own answer
    "RESOURCE_CONFLICT": 409,
    "INVALID_PARAMETER_VALUE": 400,
}


@pytest.mark.parametrize("refusal", list(TAKEN_NAME))
def test_a_pipeline_create_the_sdk_resent_leaves_one_pipeline(
    runtime: Runtime, emulator: EmulatorServer, workspace_client: WorkspaceClient, refusal: str
) -> None:
    create = "^/api/2.0/pipelines$"
    emulator.add_fault(method="POST", path_regex=create, status=503, applied=True)
    if (status := TAKEN_NAME[refusal]) is not None:
        emulator.add_fault(
            method="POST",
            path_regex=create,
            nth=2,
            status=status,
            error_code=refusal,
            message=f"The pipeline name '{PIPELINE}' is already used by another pipeline. This "
            "check can be skipped by setting `allow_duplicate_names = true` in the request.",
        )

    record = _apply(runtime, emulator, PACK)

    assert record.share_pack_status == "COMPLETED", record.error_message
    creates = [c for c in emulator.calls() if c["path"] == "/api/2.0/pipelines"]
    assert [c["status"] for c in creates if c["method"] == "POST"] == [503, status or 409]
    assert [p.name for p in workspace_client.pipelines.list_pipelines()] == [PIPELINE]
    assert len(_schedule_jobs(workspace_client)) == 1
