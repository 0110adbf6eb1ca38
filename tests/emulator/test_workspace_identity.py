"""A workspace is known by its id: every answer carries it in `x-databricks-org-id`, and
the SDK's `get_workspace_id()` reads it. Each emulator instance has an id of its own."""

from __future__ import annotations

import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound

from databricks_emulator.__main__ import main
from databricks_emulator.server import EmulatorServer
from tests.emulator._support import EMULATOR_TOKEN, emulator_only

ME = "/api/2.0/preview/scim/v2/Me"


def _org_id_of_me(client: WorkspaceClient) -> int:
    """The header of `GET .../Me`, read as the SDK reads it when the host's metadata gave
    no id."""
    answer = client.api_client.do("GET", ME, response_headers=["X-Databricks-Org-Id"])
    assert isinstance(answer, dict)
    return int(answer["X-Databricks-Org-Id"])


def test_the_sdk_reads_the_workspace_id_its_answers_carry(client: WorkspaceClient) -> None:
    workspace_id = client.get_workspace_id()

    assert workspace_id > 0
    assert _org_id_of_me(client) == workspace_id


@emulator_only("compares with the emulator's own id and reads its control API")
def test_every_answer_carries_the_emulators_id(emulator: EmulatorServer) -> None:
    headers = {"Authorization": f"Bearer {EMULATOR_TOKEN}"}
    answers = [
        httpx.get(f"{emulator.url}{ME}", headers=headers),
        httpx.get(f"{emulator.url}/api/2.1/unity-catalog/shares/absent", headers=headers),
        httpx.get(f"{emulator.url}/api/2.1/unity-catalog/shares"),  # no token: refused
        httpx.get(f"{emulator.url}/_emulator/state"),
    ]

    assert [a.status_code for a in answers] == [200, 404, 403, 200]
    assert {a.headers["x-databricks-org-id"] for a in answers} == {emulator.workspace_id}
    assert answers[-1].json()["workspace_id"] == emulator.workspace_id


@emulator_only("starts emulators of its own")
def test_each_emulator_has_its_own_id_and_keeps_it_across_a_reset() -> None:
    with (
        EmulatorServer(token=EMULATOR_TOKEN) as first,
        EmulatorServer(token=EMULATOR_TOKEN, workspace_id=4242424242424242) as second,
    ):
        ids = []
        for server in (first, second):
            client = WorkspaceClient(host=server.url, token=EMULATOR_TOKEN, auth_type="pat")
            ids.append(str(client.get_workspace_id()))
        first.reset()

        assert ids == [first.workspace_id, "4242424242424242"]
        assert len(first.workspace_id) == 16
        assert first.state()["workspace_id"] == ids[0]
        assert _org_id_of_me(
            WorkspaceClient(host=first.url, token=EMULATOR_TOKEN, auth_type="pat")
        ) == int(ids[0])


@emulator_only("reads the emulator's metastore assignment")
def test_the_metastore_assignment_names_the_same_workspace(
    client: WorkspaceClient, emulator: EmulatorServer
) -> None:
    assignment = client.metastores.current()

    assert str(assignment.workspace_id) == emulator.workspace_id


@emulator_only("reads a share that does not exist")
def test_an_error_answer_still_names_the_workspace(client: WorkspaceClient) -> None:
    with pytest.raises(NotFound):
        client.shares.get("absent_share")

    assert client.get_workspace_id() == _org_id_of_me(client)


@pytest.mark.parametrize("given", ["abc", "0", "-5", "1234567890123456789"])
def test_the_command_refuses_a_workspace_id_that_is_not_one(
    given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--port", "0", "--workspace-id", given])

    assert exited.value.code == 2
    assert "--workspace-id" in capsys.readouterr().err
