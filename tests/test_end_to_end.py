"""One share pack from upload to COMPLETED through every real part, over HTTP."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sharing import AuthenticationType, Privilege
from pydantic import SecretStr
from sqlalchemy import Connection, func, select

from databricks_emulator.server import EmulatorServer
from sharepack.packfile.templates import write_template_xlsx
from sharepack.queue.azure import AzureStorageQueue
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.store.tables import share_packs
from tests.api_server import ServedApi, running_api
from tests.conftest import REPO_ROOT
from tests.emulator_helpers import write_calls
from tests.queue.azurite import azurite_connection_string  # noqa: F401 - a fixture

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"
TERMINAL = {"COMPLETED", "FAILED", "VALIDATION_FAILED"}


def _upload(api: ServedApi, workspace_url: str, content: bytes, name: str) -> httpx.Response:
    return httpx.post(
        f"{api}/workflow/sharepack/upload",
        headers={"X-Workspace-URL": workspace_url, **api.headers},
        files={"file": (name, content, "application/x-yaml")},
        timeout=30,
    )


def _wait_for_terminal_status(api: ServedApi, pack_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = httpx.get(
            f"{api}/workflow/sharepack/{pack_id}", headers=api.headers
        ).json()
        if body["Status"] in TERMINAL:
            return body
        assert time.monotonic() < deadline, f"pack still {body['Status']}: {body}"
        time.sleep(0.05)


def test_example_pack_is_provisioned_to_completed(
    runtime: Runtime, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    with running_api(runtime) as api:
        response = _upload(api, emulator.url, EXAMPLE.read_bytes(), "sharepack.yaml")
        assert response.status_code == 202, response.text
        accepted = response.json()
        assert accepted["Status"] == "IN_PROGRESS"
        assert accepted["SharePackName"].startswith("SharePack_john.doe@example.com_")
        assert accepted["ValidationErrors"] == []

        final = _wait_for_terminal_status(api, accepted["SharePackId"])
        health = httpx.get(f"{api}/workflow/health")

    assert final["Status"] == "COMPLETED", final
    assert final["RequestedBy"] == "john.doe@example.com"
    assert final["Strategy"] == "NEW"
    assert final["ErrorMessage"] == ""

    recipient = workspace_client.recipients.get("sales-analyst")
    assert recipient.authentication_type == AuthenticationType.TOKEN
    assert recipient.ip_access_list is not None
    assert set(recipient.ip_access_list.allowed_ip_addresses or ()) == {
        "192.168.1.0/24",
        "198.51.100.50",
    }
    share = workspace_client.shares.get("sales_q1_share", include_shared_data=True)
    assert [o.name for o in share.objects or ()] == ["prod_catalog.sales.transactions"]
    grants = workspace_client.shares.share_permissions("sales_q1_share")
    assert any(
        a.principal == "sales-analyst" and Privilege.SELECT in (a.privileges or ())
        for a in grants.privilege_assignments or ()
    )

    assert health.status_code == 200
    assert health.json()["DatabaseConnected"] is True
    assert health.json()["QueueConnected"] is True
    assert health.json()["TablesCount"] == 16

    with runtime.database.unit_of_work() as uow:
        recipients = uow.recipients.list_for_pack(uuid.UUID(accepted["SharePackId"]))
        shares = uow.shares.list_for_pack(uuid.UUID(accepted["SharePackId"]))
    assert [r.name for r in recipients] == ["sales-analyst"]
    assert [s.name for s in shares] == ["sales_q1_share"]


def test_disallowed_workspace_is_refused_and_nothing_is_stored_or_sent(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    with running_api(runtime, with_worker=False) as api:
        response = _upload(api, "https://adb-attacker.example.net", EXAMPLE.read_bytes(), "p.yaml")

    assert response.status_code == 400
    assert "https://adb-attacker.example.net" in response.json()["Message"]
    assert "not allowed" in response.json()["Message"]
    assert runtime.queue.depth() == 0
    with runtime.database.engine.connect() as connection:
        assert _count_share_packs(connection) == 0
    assert httpx.get(f"{emulator.url}/_emulator/calls").json() == []


def _count_share_packs(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(share_packs)).scalar_one())


def test_reuploaded_pack_switches_to_update_and_changes_nothing(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    with running_api(runtime) as api:
        first = _upload(api, emulator.url, EXAMPLE.read_bytes(), "sharepack.yaml").json()
        assert _wait_for_terminal_status(api, first["SharePackId"])["Status"] == "COMPLETED"
        writes_before = len(write_calls(emulator))

        second = _upload(api, emulator.url, EXAMPLE.read_bytes(), "sharepack.yaml")
        final = _wait_for_terminal_status(api, second.json()["SharePackId"])

    assert second.status_code == 202
    assert any(
        "Auto-switched from NEW to UPDATE: 1 recipient(s) and 1 share(s) already exist. "
        "Existing resources will be updated, new ones will be created." in warning
        for warning in second.json()["ValidationWarnings"]
    )
    assert final["Status"] == "COMPLETED"
    assert final["Strategy"] == "UPDATE"
    assert len(write_calls(emulator)) == writes_before


def test_pack_naming_a_missing_table_is_refused_at_upload(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    content = EXAMPLE.read_bytes().replace(b"sales.transactions", b"sales.no_such_table")
    with running_api(runtime, with_worker=False) as api:
        response = _upload(api, emulator.url, content, "sharepack.yaml")

    assert response.status_code == 400
    assert response.json()["Status"] == "VALIDATION_FAILED"
    assert "prod_catalog.sales.no_such_table" in response.json()["ValidationErrors"][0]
    assert runtime.queue.depth() == 0


def test_failed_grant_rolls_back_the_recipient_and_share(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    state_before = httpx.get(f"{emulator.url}/_emulator/state").json()
    httpx.post(
        f"{emulator.url}/_emulator/faults",
        json={"method": "PATCH", "path_regex": "/permissions$", "status": 500},
    ).raise_for_status()

    with running_api(runtime) as api:
        accepted = _upload(api, emulator.url, EXAMPLE.read_bytes(), "sharepack.yaml").json()
        final = _wait_for_terminal_status(api, accepted["SharePackId"])

    assert final["Status"] == "FAILED"
    assert final["RollbackStatus"] == "ROLLED_BACK"
    assert "sales_q1_share" in final["ErrorMessage"]
    assert httpx.get(f"{emulator.url}/_emulator/state").json() == state_before
    pack_id = uuid.UUID(accepted["SharePackId"])
    with runtime.database.unit_of_work() as uow:
        live = [*uow.recipients.list_for_pack(pack_id), *uow.shares.list_for_pack(pack_id)]
        recipient = uow.recipients.history(emulator.url, "sales-analyst")
        share = uow.shares.history(emulator.url, "sales_q1_share")
    assert live == []
    # The recipient and the share existed while the run lasted; the rollback ended them.
    assert [(v.is_deleted, v.change_reason.split(":")[0]) for v in recipient] == [
        (False, f"Provisioning {final['SharePackName']}"),
        (True, "Rollback"),
    ]
    assert [v.is_deleted for v in share][-1] is True
    assert share[-1].change_reason.startswith("Rollback: ")
    assert all(v.share_pack_id == pack_id for v in [*recipient, *share])


def test_excel_template_uploaded_over_http_is_provisioned(
    runtime: Runtime, emulator: EmulatorServer, tmp_path: Path
) -> None:
    workbook = tmp_path / "pack.xlsx"
    write_template_xlsx(workbook)

    with running_api(runtime) as api:
        response = _upload(api, emulator.url, workbook.read_bytes(), "pack.xlsx")
        assert response.status_code == 202, response.text
        final = _wait_for_terminal_status(api, response.json()["SharePackId"])

    assert final["Status"] == "COMPLETED", final
    state = httpx.get(f"{emulator.url}/_emulator/state").json()
    assert [r["name"] for r in state["recipients"]] == ["internal-team", "sales-analyst"]
    assert [p["spec"]["name"] for p in state["pipelines"]] == ["daily_summary_feed"]


def test_pack_travels_through_the_azure_storage_queue(
    settings: Settings,
    emulator: EmulatorServer,
    workspace_client: WorkspaceClient,
    azurite_connection_string: str,  # noqa: F811 - the fixture imported above
) -> None:
    queue_name = f"sp-e2e-{uuid.uuid4().hex[:12]}"
    azure = settings.model_copy(
        update={
            "azure_queue_connection_string": SecretStr(azurite_connection_string),
            "azure_queue_name": queue_name,
        }
    )
    runtime = build_runtime(azure)
    try:
        assert isinstance(runtime.queue, AzureStorageQueue)
        with running_api(runtime) as api:
            response = _upload(api, emulator.url, EXAMPLE.read_bytes(), "sharepack.yaml")
            assert response.status_code == 202, response.text
            final = _wait_for_terminal_status(api, response.json()["SharePackId"])
            health = httpx.get(f"{api}/workflow/health").json()
        depth = runtime.queue.depth()
    finally:
        runtime.close()

    assert final["Status"] == "COMPLETED", final
    assert health["QueueConnected"] is True
    assert depth == 0
    assert workspace_client.recipients.get("sales-analyst").name == "sales-analyst"
