"""The workspace factory makes one databricks-sdk client per URL for the process: the
host check and metadata a client costs are paid once, not on each upload or run."""

from __future__ import annotations

import socket

import httpx
import pytest
from pydantic import SecretStr

from databricks_emulator.server import EmulatorServer
from sharepack.runtime import sdk_workspace_factory
from sharepack.settings import Settings
from sharepack.workspace.errors import WorkspaceUnreachableError
from tests.conftest import EMULATOR_TOKEN

HOST_METADATA = "/.well-known/databricks-config"


def settings_for(url: str) -> Settings:
    return Settings(
        _env_file=None,
        sharepack_workspace_urls=[url],
        databricks_token=SecretStr(EMULATOR_TOKEN),
        sharepack_workspace_retry_seconds=1,
    )


def host_lookups(emulator: EmulatorServer) -> int:
    calls = httpx.get(f"{emulator.url}/_emulator/calls").json()
    return sum(1 for call in calls if call["path"] == HOST_METADATA)


def test_a_workspace_is_reached_through_one_client_made_once(emulator: EmulatorServer) -> None:
    workspace_for = sdk_workspace_factory(settings_for(emulator.url))

    first = workspace_for(emulator.url).current_user()
    made = host_lookups(emulator)
    again = workspace_for(emulator.url).current_user()

    assert made > 0
    assert host_lookups(emulator) == made
    assert again == first


def test_each_factory_makes_its_own_clients(emulator: EmulatorServer) -> None:
    sdk_workspace_factory(settings_for(emulator.url))(emulator.url)
    made = host_lookups(emulator)

    sdk_workspace_factory(settings_for(emulator.url))(emulator.url)

    assert host_lookups(emulator) == 2 * made


def test_a_workspace_that_did_not_answer_is_tried_again() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    workspace_for = sdk_workspace_factory(settings_for(url))
    with pytest.raises(WorkspaceUnreachableError):
        workspace_for(url)

    with EmulatorServer(port=port, token=EMULATOR_TOKEN) as emulator:
        assert workspace_for(url).current_user()
        assert host_lookups(emulator) > 0
