"""A pack whose shared table its own scheduled pipeline produces, through the real SDK."""

from __future__ import annotations

import httpx
from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from sharepack.runtime import Runtime
from sharepack.store import SharePackRecord
from sharepack.usecases.plan_apply import apply_file, read_file
from tests.api_server import TEST_OPERATOR
from tests.emulator_helpers import emulator_state

TARGET = "prod_catalog.sales.daily_summary"
PACK = f"""
metadata:
  requestor: ops@example.com
  project_name: Daily sales
  business_line: Sales Operations
recipient:
  - name: sales-analyst
    type: D2O
    email: analyst@partner.example.com
share:
  - name: daily_share
    recipients: [sales-analyst]
    data_objects: [{TARGET}]
    pipelines:
      - name: daily_summary_feed
        source_asset: raw_catalog.sales.transactions
        target_asset: {TARGET}
        scd_type: "2"
        key_columns: [transaction_id]
        schedule: {{cron: "0 2 * * *", timezone: Europe/London}}
        tags: {{cost_center: "123"}}
        notification: [owner@example.com]
""".encode()


def _apply(runtime: Runtime, emulator: EmulatorServer) -> SharePackRecord:
    loaded = read_file(runtime, PACK, "daily.yaml")
    return apply_file(
        runtime, loaded, filename="daily.yaml", workspace_url=emulator.url, caller=TEST_OPERATOR
    )


def test_pipeline_produces_the_table_before_it_is_shared_on_a_schedule(
    runtime: Runtime, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    record = _apply(runtime, emulator)

    assert record.share_pack_status == "COMPLETED", record.error_message
    share = workspace_client.shares.get("daily_share", include_shared_data=True)
    assert [o.name for o in share.objects or ()] == [TARGET]
    (pipeline,) = list(workspace_client.pipelines.list_pipelines())
    spec = workspace_client.pipelines.get(pipeline.pipeline_id or "").spec
    assert spec is not None
    assert spec.configuration is not None
    assert spec.configuration["sharepack.source_asset"] == "raw_catalog.sales.transactions"
    assert spec.configuration["sharepack.key_columns"] == "transaction_id"
    (job,) = list(workspace_client.jobs.list(expand_tasks=True))
    assert job.settings is not None
    assert job.settings.schedule is not None
    assert job.settings.schedule.quartz_cron_expression == "0 0 2 * * ?"
    assert job.settings.schedule.timezone_id == "Europe/London"
    with runtime.database.unit_of_work() as uow:
        (tracked,) = uow.pipelines.list_for_pack(record.share_pack_id)
    assert tracked.fields["databricks_pipeline_id"] == pipeline.pipeline_id
    assert tracked.fields["schedule_type"] == "CRON"


def test_reapplying_the_pipeline_pack_writes_nothing(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    assert _apply(runtime, emulator).share_pack_status == "COMPLETED"
    calls_before = len(httpx.get(f"{emulator.url}/_emulator/calls").json())

    again = _apply(runtime, emulator)

    calls = httpx.get(f"{emulator.url}/_emulator/calls").json()[calls_before:]
    assert again.share_pack_status == "COMPLETED"
    assert [c for c in calls if c["method"] in ("POST", "PATCH", "PUT", "DELETE")] == []


def test_failure_after_the_pipeline_ran_removes_pipeline_job_and_table(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    before = emulator_state(emulator)
    httpx.post(
        f"{emulator.url}/_emulator/faults",
        json={"method": "PATCH", "path_regex": "/permissions$", "status": 500},
    ).raise_for_status()

    record = _apply(runtime, emulator)

    assert record.share_pack_status == "FAILED"
    assert record.rollback_status == "ROLLED_BACK", record.error_message
    after = emulator_state(emulator)
    # The generic pipeline notebook is sharepack's shared installation, kept for every pack.
    assert after.pop("workspace_files") == ["/Shared/sharepack/sharepack_cdc"]
    before.pop("workspace_files")
    assert after == before


CONTINUOUS = PACK.replace(
    b'schedule: {cron: "0 2 * * *", timezone: Europe/London}', b"schedule: CONTINUOUS"
)


def test_continuous_pipeline_is_shared_once_its_running_update_has_made_the_table(
    runtime: Runtime, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    loaded = read_file(runtime, CONTINUOUS, "continuous.yaml")

    record = apply_file(
        runtime,
        loaded,
        filename="continuous.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )

    assert record.share_pack_status == "COMPLETED", record.error_message
    (pipeline,) = list(workspace_client.pipelines.list_pipelines())
    assert pipeline.state is not None
    assert pipeline.state.value == "RUNNING"
    assert list(workspace_client.jobs.list()) == []
    share = workspace_client.shares.get("daily_share", include_shared_data=True)
    assert [o.name for o in share.objects or ()] == [TARGET]


def test_failure_after_a_continuous_pipeline_started_stops_and_removes_it(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    before = emulator_state(emulator)
    emulator.add_fault(method="PATCH", path_regex="/permissions$", status=500)
    loaded = read_file(runtime, CONTINUOUS, "continuous.yaml")

    record = apply_file(
        runtime,
        loaded,
        filename="continuous.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )

    assert record.share_pack_status == "FAILED"
    assert record.rollback_status == "ROLLED_BACK", record.error_message
    after = emulator_state(emulator)
    after.pop("workspace_files")
    before.pop("workspace_files")
    assert after == before


def test_switching_to_continuous_removes_the_schedule_job_and_a_failure_restores_it(
    runtime: Runtime, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    assert _apply(runtime, emulator).share_pack_status == "COMPLETED"

    def schedule_jobs() -> list[object]:
        return [
            (j.settings.name, j.settings.schedule, j.settings.tasks)
            for j in workspace_client.jobs.list(expand_tasks=True)
            if j.settings
        ]

    scheduled = schedule_jobs()
    update = CONTINUOUS.replace(
        b"business_line: Sales Operations", b"business_line: Sales Operations\n  strategy: UPDATE"
    )

    def apply_update() -> SharePackRecord:
        loaded = read_file(runtime, update, "continuous.yaml")
        return apply_file(
            runtime,
            loaded,
            filename="continuous.yaml",
            workspace_url=emulator.url,
            caller=TEST_OPERATOR,
        )

    # The job is deleted, then the answer is lost: the run fails and must bring it back.
    emulator.add_fault(method="POST", path_regex="^/api/2.2/jobs/delete$", status=500, applied=True)
    failed = apply_update()
    assert (failed.share_pack_status, failed.rollback_status) == ("FAILED", "ROLLED_BACK")
    assert schedule_jobs() == scheduled
    emulator.clear_faults()

    switched = apply_update()

    assert switched.share_pack_status == "COMPLETED", switched.error_message
    assert schedule_jobs() == []
    (pipeline,) = list(workspace_client.pipelines.list_pipelines())
    spec = workspace_client.pipelines.get(pipeline.pipeline_id or "").spec
    assert spec is not None
    assert spec.continuous is True
