"""Pipelines as the SDK sees them: update history, stopping, failing, deleting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.errors.base import DatabricksError
from databricks.sdk.service import pipelines

from tests.emulator._support import emulator_only, wait_for_update

pytestmark = [
    emulator_only("a real pipeline needs the sharepack notebook and source data"),
    pytest.mark.usefixtures("fast_pipelines"),
]
State = pipelines.UpdateInfoState


def _pipeline(
    client: WorkspaceClient,
    name: str,
    *,
    continuous: bool | None = None,
    configuration: dict[str, str] | None = None,
) -> str:
    created = client.pipelines.create(
        name=name,
        catalog="prod_catalog",
        schema="sales",
        continuous=continuous,
        configuration=configuration,
    )
    assert created.pipeline_id
    return created.pipeline_id


def _run(client: WorkspaceClient, pipeline_id: str) -> tuple[str, pipelines.UpdateInfoState]:
    update_id = client.pipelines.start_update(pipeline_id).update_id
    assert update_id
    return update_id, wait_for_update(client, pipeline_id, update_id)


def test_list_updates_is_newest_first(client: WorkspaceClient, name: str) -> None:
    pipeline_id = _pipeline(client, name)
    first, first_state = _run(client, pipeline_id)
    second, second_state = _run(client, pipeline_id)

    listed = client.pipelines.list_updates(pipeline_id).updates or []

    assert (first_state, second_state) == (State.COMPLETED, State.COMPLETED)
    assert [u.update_id for u in listed] == [second, first]
    assert [u.creation_time or 0 for u in listed] == sorted(
        (u.creation_time or 0 for u in listed), reverse=True
    )


def test_stopping_a_continuous_pipeline_cancels_its_running_update(
    client: WorkspaceClient, name: str
) -> None:
    pipeline_id = _pipeline(client, name, continuous=True)
    update_id = client.pipelines.start_update(pipeline_id).update_id or ""
    wait_for_update(client, pipeline_id, update_id, lambda s: s == State.RUNNING)

    idle = client.pipelines.stop(pipeline_id).result(timeout=timedelta(seconds=30))

    assert idle.state == pipelines.PipelineState.IDLE
    update = client.pipelines.get_update(pipeline_id, update_id).update
    assert update is not None
    assert update.state == State.CANCELED


def test_pipeline_whose_source_table_is_missing_fails(client: WorkspaceClient, name: str) -> None:
    source = "prod_catalog.sales.no_such_table"
    pipeline_id = _pipeline(
        client,
        name,
        configuration={
            "sharepack.source_asset": source,
            "sharepack.target_asset": f"prod_catalog.sales.{name}",
        },
    )

    _, state = _run(client, pipeline_id)

    assert state == State.FAILED
    fetched = client.pipelines.get(pipeline_id)
    assert fetched.state == pipelines.PipelineState.FAILED
    assert not client.tables.exists(f"prod_catalog.sales.{name}").table_exists


def test_deleted_pipeline_is_not_found(client: WorkspaceClient, name: str) -> None:
    pipeline_id = _pipeline(client, name)

    client.pipelines.delete(pipeline_id)

    with pytest.raises(NotFound, match=f"^The specified pipeline {pipeline_id} was not found\\."):
        client.pipelines.get(pipeline_id)


def test_deleting_a_pipeline_drops_the_table_it_materialised(
    client: WorkspaceClient, name: str
) -> None:
    target = f"prod_catalog.sales.{name}"
    pipeline_id = _pipeline(client, name, configuration={"sharepack.target_asset": target})
    _, state = _run(client, pipeline_id)
    assert state == State.COMPLETED
    assert client.tables.get(target).full_name == target

    client.pipelines.delete(pipeline_id)

    assert not client.tables.exists(target).table_exists
    with pytest.raises(NotFound, match=f"Table '{target}' does not exist"):
        client.tables.get(target)


def test_a_second_pipeline_of_the_same_name_is_refused(client: WorkspaceClient, name: str) -> None:
    # A workspace answers: "The pipeline name '<name>' is already used by another pipeline.
    # This check can be skipped by setting `allow_duplicate_names = true` in the request."
    # (databricks/cli pull request 5261, an acceptance test run against a workspace).
    first = _pipeline(client, name)

    with pytest.raises(DatabricksError, match="is already used by another pipeline") as refused:
        _pipeline(client, name)

    assert "allow_duplicate_names" in str(refused.value)
    assert [p.pipeline_id for p in client.pipelines.list_pipelines()] == [first]


def test_a_pipeline_create_asking_for_it_may_reuse_a_name(
    client: WorkspaceClient, name: str
) -> None:
    first = _pipeline(client, name)

    second = client.pipelines.create(
        name=name, catalog="prod_catalog", schema="sales", allow_duplicate_names=True
    ).pipeline_id

    assert second not in (None, first)
    assert sorted(p.pipeline_id or "" for p in client.pipelines.list_pipelines()) == sorted(
        [first, second or ""]
    )


def test_an_edit_that_keeps_a_shared_name_is_accepted_and_one_taking_a_name_is_refused(
    client: WorkspaceClient, name: str
) -> None:
    # "If false, deployment will fail if name has changed and conflicts the name of another
    # pipeline." (databricks-sdk 0.156, `PipelinesAPI.update`)
    first = _pipeline(client, name)
    client.pipelines.create(
        name=name, catalog="prod_catalog", schema="sales", allow_duplicate_names=True
    )
    other = _pipeline(client, f"{name}_other")

    client.pipelines.update(first, name=name, catalog="prod_catalog", schema="sales")
    with pytest.raises(DatabricksError, match="is already used by another pipeline"):
        client.pipelines.update(other, name=name, catalog="prod_catalog", schema="sales")
