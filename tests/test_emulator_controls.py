"""The emulator's `/_emulator/` controls: faults, latency, call log, state."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InternalError
from databricks.sdk.service import sharing

from databricks_emulator.testing import EmulatorServer


def test_fault_on_the_third_share_patch_fails_that_call_and_no_other(
    emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    workspace_client.shares.create("s")
    httpx.post(
        f"{emulator.url}/_emulator/faults",
        json={"method": "PATCH", "path_regex": "/shares/", "nth": 3, "status": 500},
    ).raise_for_status()

    outcomes = []
    for comment in ["one", "two", "three", "four"]:
        try:
            workspace_client.shares.update("s", comment=comment)
            outcomes.append("ok")
        except InternalError:
            outcomes.append("failed")

    assert outcomes == ["ok", "ok", "failed", "ok"]
    assert workspace_client.shares.get("s").comment == "four"
    statuses = [
        c["status"]
        for c in httpx.get(f"{emulator.url}/_emulator/calls").json()
        if c["method"] == "PATCH"
    ]
    assert statuses == [200, 200, 500, 200]


def test_latency_overlaps_across_concurrent_calls(
    emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    httpx.post(f"{emulator.url}/_emulator/latency", json={"ms": 100}).raise_for_status()
    workspace_client.current_user.me()  # warm the connection pool

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda _: list(workspace_client.shares.list_shares()), range(10)))

    # Served side by side, not one after another: 10 calls at 100 ms each take about
    # 100 ms, not 10 x 100 ms. Counted by the server, not timed: machines are noisy.
    stats = emulator.stats()
    assert len([c for c in emulator.calls() if c["path"].endswith("/shares")]) == 10
    assert stats["peak_in_flight"] >= 5, stats


def test_state_masks_activation_links_and_reset_empties_it(
    emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    workspace_client.recipients.create("r", sharing.AuthenticationType.TOKEN)

    state = httpx.get(f"{emulator.url}/_emulator/state").json()
    httpx.post(f"{emulator.url}/_emulator/reset").raise_for_status()

    assert state["recipients"][0]["tokens"][0]["activation_url"] == "***"
    assert httpx.get(f"{emulator.url}/_emulator/state").json()["recipients"] == []
    assert httpx.get(f"{emulator.url}/_emulator/calls").json() == []


def test_tables_added_at_run_time_can_be_shared(
    emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    httpx.post(
        f"{emulator.url}/_emulator/tables", json={"tables": ["new_cat.new_schema.t1"]}
    ).raise_for_status()

    assert workspace_client.tables.exists("new_cat.new_schema.t1").table_exists


@pytest.mark.parametrize("body", [{"path_regex": "("}, {"nth": "x"}])
def test_malformed_fault_is_refused(emulator: EmulatorServer, body: dict[str, object]) -> None:
    response = httpx.post(f"{emulator.url}/_emulator/faults", json=body)

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
