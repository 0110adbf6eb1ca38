"""`sharepack sync run NAME` and `sharepack sync jobs` as an operator uses them."""

from __future__ import annotations

import json
from collections.abc import Callable

from databricks_emulator.server import EmulatorServer
from sharepack.runtime import Runtime
from sharepack.workspace.urls import normalise_workspace_url
from tests.sync.conftest import record_share

Cli = Callable[..., tuple[int, str]]


def test_a_job_run_by_hand_is_listed_and_on_the_audit_trail(
    sharepack_cli: Cli, runtime: Runtime, emulator: EmulatorServer
) -> None:
    url = normalise_workspace_url(emulator.url)
    record_share(runtime, url, "sales_share", ["prod_catalog.sales.orders"])

    code, out = sharepack_cli("sync", "run", "inventory", workspace=False)
    listed_code, listed = sharepack_cli("sync", "jobs", "--json", workspace=False)

    assert (code, out.strip()) == (0, "Sync job inventory processed 3 record(s)")
    assert listed_code == 0
    [row] = json.loads(listed)
    assert (row["sync_type"], row["sync_status"], row["records_processed"]) == (
        "inventory",
        "SUCCEEDED",
        3,
    )
    with runtime.database.reading() as uow:
        [act] = [e for e in uow.audit_trail.search() if e.action == "run_sync_job"]
    assert act.details == {"job": "inventory", "records_processed": 3}
    assert act.performed_by.startswith("cli:")


def test_an_unknown_job_is_a_usage_error_naming_the_jobs(sharepack_cli: Cli) -> None:
    code, _ = sharepack_cli("sync", "run", "nightly", workspace=False)

    assert code == 2


def test_no_runs_yet_says_so(sharepack_cli: Cli, runtime: Runtime) -> None:
    code, out = sharepack_cli("sync", "jobs", workspace=False)

    assert (code, out.strip()) == (0, "No sync runs recorded.")
