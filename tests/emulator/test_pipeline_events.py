"""A pipeline's event log (`GET /api/2.0/pipelines/{id}/events`) as the SDK reads it:
an `update_progress` event per state an update reaches, newest first by default."""

from __future__ import annotations

from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors.base import DatabricksError

from tests.emulator._support import emulator_only, wait_for_update

pytestmark = [
    emulator_only("checks the emulator's own event log against its update states"),
    pytest.mark.usefixtures("fast_pipelines"),
]


def _pipeline(client: WorkspaceClient, name: str) -> str:
    created = client.pipelines.create(name=name, catalog="prod_catalog", schema="sales")
    assert created.pipeline_id
    return created.pipeline_id


def _raw_events(client: WorkspaceClient, pipeline_id: str, **query: Any) -> dict[str, Any]:
    answer = client.api_client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/events", query=query)
    assert isinstance(answer, dict)
    return answer


def test_a_completed_update_leaves_its_progress_newest_first(
    client: WorkspaceClient, name: str
) -> None:
    pipeline_id = _pipeline(client, name)
    update_id = client.pipelines.start_update(pipeline_id).update_id
    assert update_id
    wait_for_update(client, pipeline_id, update_id)

    events = _raw_events(client, pipeline_id)["events"]

    states = [e["details"]["update_progress"]["state"] for e in events]
    assert states == ["COMPLETED", "RUNNING", "INITIALIZING", "QUEUED"]
    assert {e["origin"]["update_id"] for e in events} == {update_id}
    assert {e["event_type"] for e in events} == {"update_progress"}
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps, reverse=True)


def test_the_sdk_pages_through_the_log_in_ascending_order(
    client: WorkspaceClient, name: str
) -> None:
    pipeline_id = _pipeline(client, name)
    for _ in range(2):
        update_id = client.pipelines.start_update(pipeline_id).update_id
        assert update_id
        wait_for_update(client, pipeline_id, update_id)

    listed = list(
        client.pipelines.list_pipeline_events(
            pipeline_id, max_results=3, order_by=["timestamp asc"]
        )
    )

    assert len(listed) == 8
    numbers = [e.sequence.control_plane_seq_no or 0 for e in listed if e.sequence]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 8


def test_a_stopped_update_ends_with_a_canceled_event(client: WorkspaceClient, name: str) -> None:
    pipeline_id = _pipeline(client, name)
    update_id = client.pipelines.start_update(pipeline_id).update_id
    client.pipelines.stop(pipeline_id)

    newest = _raw_events(client, pipeline_id, max_results=1)

    assert newest["events"][0]["details"]["update_progress"]["state"] == "CANCELED"
    assert newest["events"][0]["origin"]["update_id"] == update_id
    assert "next_page_token" in newest


def test_a_filter_is_refused_rather_than_ignored(client: WorkspaceClient, name: str) -> None:
    pipeline_id = _pipeline(client, name)

    with pytest.raises(DatabricksError, match="filter"):
        _raw_events(client, pipeline_id, filter="level='ERROR'")
