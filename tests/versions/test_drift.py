"""Drift: each kind of change made by hand through the SDK is reported (exit 3); after
`--record` (the history takes the workspace as it is) and after `--revert` (the project
is put back to its newest version), `drift` exits 0. The scheduled check records itself
in `sync_jobs` and tells the project's requestor."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.catalog import PermissionsChange, Privilege
from databricks.sdk.service.sharing import (
    AuthenticationType,
    IpAccessList,
    SecurablePropertiesKvPairs,
)

from databricks_emulator.server import EmulatorServer
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from tests.flow.conftest import person
from tests.notify.conftest import SmtpServer
from tests.versions.conftest import V1, Cli, apply_versions, change_objects, versions, view


def _add_object(client: WorkspaceClient) -> None:
    change_objects(client, "s_main", add="prod_catalog.hr.employees")


def _remove_object(client: WorkspaceClient) -> None:
    change_objects(client, "s_main", remove="prod_catalog.sales.customers")


def _grant(client: WorkspaceClient) -> None:
    client.recipients.create("outsider", AuthenticationType.TOKEN)
    change = PermissionsChange(principal="outsider", add=[Privilege.SELECT])
    client.shares.update_permissions("s_main", changes=[change])  # type: ignore[list-item]


def _revoke(client: WorkspaceClient) -> None:
    change = PermissionsChange(principal="r-beta", remove=[Privilege.SELECT])
    client.shares.update_permissions("s_main", changes=[change])  # type: ignore[list-item]


def _ips(client: WorkspaceClient) -> None:
    allowed = IpAccessList(allowed_ip_addresses=["10.0.0.1", "203.0.113.5"])
    client.recipients.update("r-alpha", ip_access_list=allowed)


def _properties(client: WorkspaceClient) -> None:
    held = client.recipients.get("r-alpha").properties_kvpairs
    properties = dict(held.properties or {}) if held else {}
    properties["tier"] = "silver"
    kv = SecurablePropertiesKvPairs(properties=properties)
    client.recipients.update("r-alpha", properties_kvpairs=kv)


def _delete_recipient(client: WorkspaceClient) -> None:
    client.recipients.delete("r-beta")


def _delete_share(client: WorkspaceClient) -> None:
    client.shares.delete("s_main")


#: Each change made by hand, and a line `drift` reports for it.
CHANGES: dict[str, tuple[Callable[[WorkspaceClient], None], str]] = {
    "object added": (_add_object, "share 's_main': objects +['prod_catalog.hr.employees'] -[]"),
    "object removed": (
        _remove_object,
        "share 's_main': objects +[] -['prod_catalog.sales.customers']",
    ),
    "grant added": (_grant, "share 's_main': grants +['outsider'] -[]"),
    "grant revoked": (_revoke, "share 's_main': grants +[] -['r-beta']"),
    "IP list changed": (_ips, "recipient 'r-alpha': allowed_ips is ('10.0.0.1', '203.0.113.5')"),
    "properties changed": (_properties, "recipient 'r-alpha': properties is"),
    "recipient deleted": (_delete_recipient, "recipient 'r-beta' is missing"),
    "share deleted": (_delete_share, "share 's_main' is missing"),
}


@pytest.mark.parametrize("then", ["record", "revert"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_each_manual_change_is_drift_until_recorded_or_reverted(
    cli: Cli,
    emulator: EmulatorServer,
    workspace_client: WorkspaceClient,
    change: str,
    then: str,
) -> None:
    apply_versions(cli, emulator, V1)
    at_v1 = view(workspace_client)
    code, output = cli("drift", "--json")
    assert code == 0, output
    assert json.loads(output)[0]["drifted"] is False

    make, reported = CHANGES[change]
    make(workspace_client)
    changed = view(workspace_client)

    code, output = cli("drift")
    assert code == 3, output
    assert "drift from version 1" in output
    assert reported in output

    code, output = cli("drift", f"--{then}", "--yes")
    assert code == 0, output
    code, output = cli("drift")
    assert code == 0, output
    assert "no drift from version 2" in output
    newest = versions(cli)[0]
    if then == "record":
        assert newest["kind"] == "RECORDED"
        assert newest["change_reason"].startswith("Drift recorded by cli:")
        assert any(reported in line for line in newest["changes"])
        assert view(workspace_client) == changed  # recording changes nothing in the workspace
    else:
        assert newest["kind"] == "ROLLBACK"
        assert _same_but_outsiders(view(workspace_client), at_v1)


def _same_but_outsiders(now: dict[str, object], then: dict[str, object]) -> bool:
    """Equal, less a recipient made by hand that the project never had (revert removes
    its grant on the project's share, not the recipient: it is not the project's)."""
    recipients = dict(now["recipients"])  # type: ignore[call-overload]
    recipients.pop("outsider", None)
    return {**now, "recipients": recipients} == then


def test_recording_writes_history_versions_naming_who_recorded(
    cli: Cli, emulator: EmulatorServer, workspace_client: WorkspaceClient, runtime: Runtime
) -> None:
    apply_versions(cli, emulator, V1)
    _ips(workspace_client)
    _delete_share(workspace_client)

    assert cli("drift", "--record")[0] == 0

    with runtime.database.reading() as uow:
        alpha = uow.recipients.history(emulator.url, "r-alpha")
        share = uow.shares.history(emulator.url, "s_main")
    assert alpha[-1].change_reason.startswith("Drift recorded by cli:")
    assert alpha[-1].fields["ip_access_list"] == ["10.0.0.1", "203.0.113.5"]
    assert share[-1].is_deleted
    assert share[-1].change_reason.startswith("Drift recorded by cli:")


def test_a_project_filter_and_an_unknown_project(cli: Cli, emulator: EmulatorServer) -> None:
    apply_versions(cli, emulator, V1)
    _ = cli("drift", "--project", "VERSIONS TRIAL")
    assert _[0] == 0
    code, output = cli("drift", "--project", "Nothing Like It")
    assert code == 0
    assert "No projects with versions" in output


@pytest.fixture
def mailing(settings: Settings, smtp_server: SmtpServer) -> Iterator[Runtime]:
    runtime = build_runtime(
        settings.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_server.port,
                "notification_from_email": "sharepack@example.com",
            }
        )
    )
    yield runtime
    runtime.close()


def test_the_scheduled_check_is_a_sync_job_and_tells_the_requestor(
    cli: Cli,
    emulator: EmulatorServer,
    workspace_client: WorkspaceClient,
    mailing: Runtime,
    smtp_server: SmtpServer,
) -> None:
    from sharepack.notify.outbox import NotificationDispatcher
    from sharepack.usecases.sync_jobs import recent_runs, run_sync_job_now

    apply_versions(cli, emulator, V1)
    operator = person("ops@example.com")
    assert run_sync_job_now(mailing, operator, "drift") == 1
    NotificationDispatcher(mailing.database, mailing.settings).drain(30)
    assert not [m for _, m in smtp_server.mailbox.messages() if "Drift" in str(m["Subject"])]

    _add_object(workspace_client)
    assert run_sync_job_now(mailing, operator, "drift") == 1
    NotificationDispatcher(mailing.database, mailing.settings).drain(30)

    runs = recent_runs(mailing, name="drift")
    assert [r.values["sync_status"] for r in runs] == ["SUCCEEDED", "SUCCEEDED"]
    told = [(e, m) for e, m in smtp_server.mailbox.messages() if "Drift" in str(m["Subject"])]
    assert len(told) == 1
    envelope, message = told[0]
    assert [a.lower() for a in envelope.rcpt_tos] == ["john.doe@example.com"]
    body = message.get_body(("plain",))
    assert body is not None
    assert "prod_catalog.hr.employees" in body.get_content()
    assert "sharepack drift --revert" in body.get_content()
