"""The emulator's `/_emulator/` controls: faults, latency, call log, state."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InternalError
from databricks.sdk.service import catalog, sharing

from databricks_emulator.server import EmulatorServer
from tests.conftest import EMULATOR_TOKEN

LATENCY_MS = 100
CONCURRENT_CALLS = 10


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


def test_latency_delays_every_call_and_concurrent_calls_overlap(
    emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    httpx.post(f"{emulator.url}/_emulator/latency", json={"ms": LATENCY_MS}).raise_for_status()
    workspace_client.current_user.me()  # warm the connection pool
    start_together = threading.Barrier(CONCURRENT_CALLS)

    def timed_call(_: int) -> float:
        start_together.wait(timeout=30)
        started = time.monotonic()
        list(workspace_client.shares.list_shares())
        return time.monotonic() - started

    with ThreadPoolExecutor(max_workers=CONCURRENT_CALLS) as pool:
        durations = list(pool.map(timed_call, range(CONCURRENT_CALLS)))

    # 10 calls at 100 ms each finish in well under 10 x 100 ms because they are served side
    # by side. Shown without timing the whole (machines are noisy): each call was delayed
    # its full 100 ms (a lower bound; asyncio may wake within its clock resolution, hence
    # the millisecond), and the server held all 10 in flight at once.
    shares_calls = [c for c in emulator.calls() if c["path"].endswith("/shares")]
    assert len(shares_calls) == CONCURRENT_CALLS
    assert all(d >= LATENCY_MS / 1000 - 0.001 for d in durations), durations
    # All 10 start together; allow a straggler or two on a loaded machine.
    assert emulator.stats()["peak_in_flight"] >= CONCURRENT_CALLS - 2, emulator.stats()


def test_clearing_faults_lets_the_next_calls_through(
    emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    emulator.add_fault(method="GET", path_regex="/shares$", nth=1, times=5, status=500)
    with pytest.raises(InternalError):
        list(workspace_client.shares.list_shares())

    response = httpx.delete(f"{emulator.url}/_emulator/faults")

    assert response.status_code == 200
    assert httpx.get(f"{emulator.url}/_emulator/faults").json() == []
    assert list(workspace_client.shares.list_shares()) == []
    statuses = [c["status"] for c in emulator.calls() if c["path"].endswith("/shares")]
    assert statuses == [500, 200]


def test_server_started_with_a_seed_holds_its_objects_and_resets_to_them(
    tmp_path: Path,
) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "tables": ["seeded.sales.orders", {"name": "seeded.sales.v", "table_type": "VIEW"}],
                "schemas": ["seeded.empty"],
                "shares": [{"name": "seeded_share", "objects": ["seeded.sales.orders"]}],
            }
        ),
        encoding="utf-8",
    )

    with EmulatorServer(seed=seed, token="seed-token") as server:
        client = WorkspaceClient(host=server.url, token="seed-token", auth_type="pat")
        client.shares.create("made_after_start")
        before_reset = server.state()
        server.reset()
        after_reset = server.state()
        catalogs = [c.name for c in client.catalogs.list()]
        schemas = sorted(s.name or "" for s in client.schemas.list("seeded"))
        view = client.tables.get("seeded.sales.v")
        seeded_share = client.shares.get("seeded_share", include_shared_data=True)

    assert catalogs == ["seeded"]
    assert schemas == ["empty", "sales"]
    assert view.table_type == catalog.TableType.VIEW
    assert [o.name for o in seeded_share.objects or []] == ["seeded.sales.orders"]
    assert after_reset["tables"] == ["seeded.sales.orders", "seeded.sales.v"]
    assert [s["name"] for s in before_reset["shares"]] == ["made_after_start", "seeded_share"]
    assert [s["name"] for s in after_reset["shares"]] == ["seeded_share"]


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


@pytest.mark.parametrize("applied", [False, True], ids=["served-after-delay", "applied-first"])
def test_a_call_in_flight_across_a_reset_leaves_nothing_after_it(
    emulator: EmulatorServer, applied: bool
) -> None:
    # A call delayed past the end of one test must not show in the next one's call log or
    # state (a worker's resent create did, and a later test counted it as its own write).
    # Whichever way the race goes, after the reset the log is empty and the state the seed.
    emulator.add_fault(
        method="POST",
        path_regex="/shares$",
        status=503 if applied else 0,
        applied=applied,
        delay_ms=1500,
    )
    late = threading.Thread(
        target=lambda: httpx.post(
            f"{emulator.url}/api/2.1/unity-catalog/shares",
            json={"name": "late_share"},
            headers={"Authorization": f"Bearer {EMULATOR_TOKEN}"},
            timeout=30,
        ),
        daemon=True,
    )
    late.start()
    deadline = time.monotonic() + 30
    while emulator.stats()["in_flight"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    emulator.reset()
    late.join(timeout=30)

    assert emulator.calls() == []
    assert [s["name"] for s in emulator.state()["shares"]] == []
