"""`make_client`: the credentials, the timeouts and the host of a workspace, checked when
the client is made, and said in one sentence naming the workspace when they fail."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from sharepack.workspace.errors import (
    WorkspaceAuthenticationError,
    WorkspaceCredentialsMissingError,
    WorkspacePermissionError,
    WorkspaceUnreachableError,
)
from sharepack.workspace.sdk import SdkWorkspace, make_client
from sharepack.workspace.state import AuthenticationType, RecipientState
from tests.conftest import EMULATOR_TOKEN


@pytest.fixture(autouse=True)
def no_sdk_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing the SDK would find by itself: no DATABRICKS_* variable, no config file."""
    for key in list(os.environ):
        if key.startswith("DATABRICKS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no.databrickscfg"))
    monkeypatch.setenv("HOME", str(tmp_path))


def closed_port_url() -> str:
    """A local URL nothing listens on: a port bound, noted, and closed again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_the_client_takes_the_timeouts_it_is_given(emulator: EmulatorServer) -> None:
    client = make_client(
        emulator.url, token=EMULATOR_TOKEN, http_timeout_seconds=2.5, retry_timeout_seconds=7
    )

    assert (client.config.http_timeout_seconds, client.config.retry_timeout_seconds) == (2.5, 7)


def test_without_credentials_the_error_names_the_workspace_and_what_to_set(
    emulator: EmulatorServer,
) -> None:
    with pytest.raises(WorkspaceCredentialsMissingError) as missing:
        make_client(emulator.url)

    assert missing.value.message == (
        f"No credentials for workspace {emulator.url}: "
        "set DATABRICKS_TOKEN, or CLIENT_ID and CLIENT_SECRET"
    )


def test_a_client_id_without_its_secret_is_named(emulator: EmulatorServer) -> None:
    with pytest.raises(WorkspaceCredentialsMissingError, match="CLIENT_SECRET is not set"):
        make_client(emulator.url, client_id="sp-1")


def test_a_refused_token_is_said_of_the_workspace_with_the_setting_to_check(
    emulator: EmulatorServer,
) -> None:
    workspace = SdkWorkspace(make_client(emulator.url, token="dapi-made-up"))

    with pytest.raises(WorkspaceAuthenticationError) as refused:
        workspace.read_state(recipients=["x"], objects=["prod_catalog.sales.transactions"])

    assert refused.value.message == (
        f"Workspace {emulator.url} refused the token in DATABRICKS_TOKEN "
        "(Invalid access token): set a valid one"
    )


def test_a_refused_service_principal_is_said_when_the_client_is_made(
    emulator: EmulatorServer,
) -> None:
    with pytest.raises(WorkspaceAuthenticationError) as refused:
        make_client(emulator.url, client_id="sp-1", client_secret="wrong")

    message = refused.value.message
    assert message.startswith(f"Workspace {emulator.url} refused the service principal ")
    assert "CLIENT_ID and CLIENT_SECRET" in message
    assert "Invalid access token" in message
    assert "Config:" not in message


def test_a_resource_the_caller_may_not_change_is_no_refused_credential(
    emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    workspace = SdkWorkspace(make_client(emulator.url, token=EMULATOR_TOKEN))
    workspace.create_recipient(
        RecipientState(name="theirs", authentication_type=AuthenticationType.TOKEN)
    )
    workspace_client.recipients.update("theirs", owner="someone.else@example.com")

    with pytest.raises(WorkspacePermissionError) as denied:
        workspace.delete_recipient("theirs")

    assert not isinstance(denied.value, WorkspaceAuthenticationError)
    assert "not an owner" in denied.value.message


def test_a_host_that_refuses_connections_is_named_with_the_time_given_up_after() -> None:
    url = closed_port_url()

    with pytest.raises(WorkspaceUnreachableError) as unreachable:
        make_client(url, token=EMULATOR_TOKEN, http_timeout_seconds=1, retry_timeout_seconds=1)

    assert unreachable.value.message == (
        f"Cannot reach workspace {url}: Connection refused (gave up after 1 s)"
    )


def test_a_workspace_gone_after_the_client_was_made_is_named_by_the_call() -> None:
    server = EmulatorServer(token=EMULATOR_TOKEN)
    server.start()
    try:
        workspace = SdkWorkspace(
            make_client(server.url, token=EMULATOR_TOKEN, retry_timeout_seconds=1)
        )
    finally:
        server.stop()

    with pytest.raises(WorkspaceUnreachableError) as unreachable:
        workspace.read_state(shares=["sales"])

    message = unreachable.value.message
    assert message.startswith(f"Reading share 'sales': cannot reach workspace {server.url}: ")
    assert "Connection refused (gave up after " in message
