"""The databricks-sdk adapter over HTTP: what only it has (tokens, listings instead of a
GET each, joining a running update, the id its answers carry). What every workspace does
is in `test_workspace_contract.py`."""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sharing import SecurablePropertiesKvPairs

from databricks_emulator.server import EmulatorServer
from sharepack.workspace.errors import WorkspacePermissionError, WorkspaceUnavailableError
from sharepack.workspace.sdk import SdkWorkspace, make_client
from sharepack.workspace.state import AuthenticationType, PipelineState, RecipientState
from tests.conftest import EMULATOR_TOKEN
from tests.emulator_helpers import emulator_calls

TABLE = "prod_catalog.sales.transactions"


@pytest.fixture
def workspace(emulator: EmulatorServer) -> SdkWorkspace:
    return SdkWorkspace(make_client(emulator.url, token=EMULATOR_TOKEN))


def _open_recipient(name: str = "analyst") -> RecipientState:
    return RecipientState(
        name=name,
        authentication_type=AuthenticationType.TOKEN,
        comment="External analyst",
        allowed_ips=("10.0.0.0/24", "198.51.100.50"),
        contact_email="analyst@partner.example.com",
    )


def test_sdk_client_carries_the_token(emulator: EmulatorServer) -> None:
    client: WorkspaceClient = make_client(emulator.url, token="wrong-token")

    with pytest.raises(WorkspacePermissionError, match="Invalid access token"):
        SdkWorkspace(client).read_state(recipients=["x"])


def test_running_an_update_joins_one_already_running_instead_of_failing(
    workspace: SdkWorkspace, workspace_client: WorkspaceClient
) -> None:
    # A run taken over after it had started the pipeline's update meets that update still
    # running; the workspace refuses a second one (409), so the run waits for the first.
    target = "prod_catalog.sales.daily_summary"
    created = workspace.create_pipeline(
        PipelineState(
            name="daily_feed",
            source_asset=TABLE,
            target_asset=target,
            key_columns=("transaction_id",),
        )
    )
    assert created.pipeline_id is not None
    workspace_client.pipelines.start_update(created.pipeline_id)

    workspace.run_pipeline_update(created.pipeline_id, timeout_seconds=60, produces=target)

    updates = workspace_client.pipelines.list_updates(created.pipeline_id).updates or []
    assert [u.state.value for u in updates if u.state] == ["COMPLETED"]
    assert workspace_client.tables.exists(target).table_exists


def test_an_update_keeps_the_properties_map_whole_on_the_server(
    workspace: SdkWorkspace, workspace_client: WorkspaceClient
) -> None:
    # The API replaces the properties map as a whole: the adapter sends it read-modify-write.
    workspace.create_recipient(replace(_open_recipient(), contact_email=None))
    workspace_client.recipients.update(
        "analyst", properties_kvpairs=SecurablePropertiesKvPairs(properties={"owner_team": "x"})
    )

    workspace.update_recipient(_open_recipient())

    kept = workspace_client.recipients.get("analyst").properties_kvpairs
    assert kept is not None
    assert kept.properties == {
        "owner_team": "x",
        "sharepack.contact_email": "analyst@partner.example.com",
    }


def test_many_recipients_are_read_from_a_listing_not_one_get_each(
    workspace: SdkWorkspace, emulator: EmulatorServer
) -> None:
    names = [f"partner_{i:03d}" for i in range(40)]
    created = {name: workspace.create_recipient(_open_recipient(name)) for name in names[:30]}
    calls_before = len(emulator_calls(emulator))

    found = workspace.read_state(recipients=names).recipients

    assert found == created  # the ten absent ones are simply missing
    calls = emulator_calls(emulator)[calls_before:]
    gets = [c["path"] for c in calls if c["method"] == "GET"]
    assert all(path.endswith("/unity-catalog/recipients") for path in gets), gets
    assert len(gets) < 5


def test_the_workspace_id_is_the_one_its_answers_carry_read_once(
    workspace: SdkWorkspace, emulator: EmulatorServer
) -> None:
    first = workspace.workspace_id
    calls = len(emulator.calls())

    assert first == emulator.workspace_id
    assert workspace.workspace_id == first
    assert len(emulator.calls()) == calls


def test_two_urls_of_one_workspace_answer_with_one_id(emulator: EmulatorServer) -> None:
    by_address = SdkWorkspace(make_client(emulator.url, token=EMULATOR_TOKEN))
    by_name = SdkWorkspace(make_client(f"http://localhost:{emulator.port}", token=EMULATOR_TOKEN))

    assert by_address.url != by_name.url
    assert by_address.workspace_id == by_name.workspace_id == emulator.workspace_id


@pytest.mark.parametrize(
    "failure",
    [requests.ConnectionError("refused"), KeyError("X-Databricks-Org-Id")],
    ids=["unreachable", "no header"],
)
def test_a_workspace_that_does_not_say_its_id_raises_unavailable(
    emulator: EmulatorServer, failure: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(emulator.url, token=EMULATOR_TOKEN)

    def get_workspace_id() -> int:
        raise failure

    monkeypatch.setattr(client, "get_workspace_id", get_workspace_id)

    with pytest.raises(WorkspaceUnavailableError, match="Reading the id of workspace"):
        _ = SdkWorkspace(client).workspace_id
