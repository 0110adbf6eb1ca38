"""The databricks-sdk adapter against the emulator: what it writes reads back the same."""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests
from databricks.sdk import WorkspaceClient

from databricks_emulator.emulator import CURRENT_USER
from databricks_emulator.server import EmulatorServer
from sharepack.workspace.errors import (
    InvalidRequestError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
    WorkspacePermissionError,
    WorkspaceUnavailableError,
)
from sharepack.workspace.sdk import SdkWorkspace, make_client
from sharepack.workspace.state import (
    AuthenticationType,
    DataObjectType,
    HistoryDataSharingStatus,
    Partition,
    PartitionOp,
    PartitionValue,
    PipelineState,
    RecipientState,
    ShareObjectState,
)
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


def test_created_recipient_reads_back_equal(workspace: SdkWorkspace) -> None:
    created = workspace.create_recipient(_open_recipient())

    state = workspace.read_state(recipients=["analyst", "absent"])

    assert state.recipients == {"analyst": created}
    assert created == replace(_open_recipient(), owner=CURRENT_USER)  # the creator owns it


def test_updated_recipient_reads_back_with_new_ip_list(workspace: SdkWorkspace) -> None:
    workspace.create_recipient(_open_recipient())
    changed = RecipientState(
        name="analyst",
        authentication_type=AuthenticationType.TOKEN,
        comment="now internal",
        allowed_ips=("192.168.0.1",),
        contact_email="other@partner.example.com",
        owner=CURRENT_USER,
    )

    workspace.update_recipient(changed)

    assert workspace.read_state(recipients=["analyst"]).recipients["analyst"] == changed


def test_a_recipient_created_with_every_field_reads_back_equal(workspace: SdkWorkspace) -> None:
    full = replace(
        _open_recipient(),
        properties=(("country", "PT"), ("partner.tier", "gold")),
        expiration_time=1_900_000_000_000,
        owner=CURRENT_USER,
    )

    created = workspace.create_recipient(full)

    assert created == full
    assert workspace.read_state(recipients=["analyst"]).recipients["analyst"] == full


def test_updating_a_recipient_keeps_its_expiry_and_other_properties(
    workspace: SdkWorkspace,
) -> None:
    full = replace(
        _open_recipient(),
        properties=(("partner.tier", "gold"),),
        expiration_time=1_900_000_000_000,
        owner=CURRENT_USER,
    )
    workspace.create_recipient(full)

    workspace.update_recipient(replace(full, comment="renamed", contact_email=None))

    read = workspace.read_state(recipients=["analyst"]).recipients["analyst"]
    assert read == replace(full, comment="renamed", contact_email=None)


def test_share_objects_added_with_every_field_read_back_equal(workspace: SdkWorkspace) -> None:
    full = ShareObjectState(
        name=TABLE,
        shared_as="partner.transactions",
        comment="for the partner",
        cdf_enabled=True,
        history_data_sharing_status=HistoryDataSharingStatus.ENABLED,
        start_version=3,
        partitions=(
            Partition(
                values=(
                    PartitionValue(name="region", op=PartitionOp.EQUAL, value="eu"),
                    PartitionValue(name="tier", recipient_property_key="partner.tier"),
                )
            ),
        ),
    )
    schema = ShareObjectState(
        name="prod_catalog.finance",
        data_object_type=DataObjectType.SCHEMA,
        comment="all of finance",
        history_data_sharing_status=HistoryDataSharingStatus.DISABLED,
    )
    workspace.create_share("sales", "")

    workspace.update_share_objects("sales", [full, schema], [])

    assert workspace.read_state(shares=["sales"]).shares["sales"].objects == (full, schema)


def test_creating_a_recipient_twice_raises_already_exists(workspace: SdkWorkspace) -> None:
    workspace.create_recipient(_open_recipient())

    with pytest.raises(ResourceAlreadyExistsError, match="analyst"):
        workspace.create_recipient(_open_recipient())


def test_deleting_an_absent_share_raises_not_found(workspace: SdkWorkspace) -> None:
    with pytest.raises(ResourceNotFoundError, match="nope"):
        workspace.delete_share("nope")


def test_share_objects_and_grants_read_back(workspace: SdkWorkspace) -> None:
    workspace.create_recipient(_open_recipient())
    workspace.create_share("sales", "Sales data")

    workspace.update_share_objects("sales", [ShareObjectState(name=TABLE)], [])
    workspace.update_share_grants("sales", ["analyst"], [])
    share = workspace.read_state(shares=["sales"]).shares["sales"]

    assert share.comment == "Sales data"
    assert share.object_names == {TABLE}
    assert share.objects[0].data_object_type is DataObjectType.TABLE
    assert share.grantees == {"analyst"}


def test_removing_objects_and_grants_empties_the_share(workspace: SdkWorkspace) -> None:
    workspace.create_recipient(_open_recipient())
    workspace.create_share("sales", "")
    workspace.update_share_objects("sales", [ShareObjectState(name=TABLE)], [])
    workspace.update_share_grants("sales", ["analyst"], [])

    workspace.update_share_objects("sales", [], [TABLE])
    workspace.update_share_grants("sales", [], ["analyst"])
    share = workspace.read_state(shares=["sales"]).shares["sales"]

    assert share.objects == ()
    assert share.grantees == frozenset()


def test_adding_a_missing_table_is_rejected(workspace: SdkWorkspace) -> None:
    workspace.create_share("sales", "")

    with pytest.raises((InvalidRequestError, ResourceNotFoundError), match="no_such_table"):
        workspace.update_share_objects(
            "sales", [ShareObjectState(name="prod_catalog.sales.no_such_table")], []
        )


def test_existing_objects_lists_only_what_the_catalog_has(workspace: SdkWorkspace) -> None:
    state = workspace.read_state(objects=[TABLE, "prod_catalog.sales", "prod_catalog.sales.nope"])

    assert state.existing_objects == {TABLE, "prod_catalog.sales"}


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


def test_removing_the_contact_email_clears_it_and_keeps_other_properties(
    workspace: SdkWorkspace, workspace_client: WorkspaceClient
) -> None:
    from databricks.sdk.service.sharing import SecurablePropertiesKvPairs

    workspace.create_recipient(_open_recipient())
    properties = {"sharepack.contact_email": "analyst@partner.example.com", "owner_team": "x"}
    workspace_client.recipients.update(
        "analyst", properties_kvpairs=SecurablePropertiesKvPairs(properties=properties)
    )
    without_email = replace(_open_recipient(), contact_email=None)

    workspace.update_recipient(without_email)

    read = workspace.read_state(recipients=["analyst"]).recipients["analyst"]
    assert read == replace(without_email, properties=(("owner_team", "x"),), owner=CURRENT_USER)
    kept = workspace_client.recipients.get("analyst").properties_kvpairs
    assert kept is not None
    assert kept.properties == {"owner_team": "x"}


def test_setting_the_contact_email_keeps_other_properties(
    workspace: SdkWorkspace, workspace_client: WorkspaceClient
) -> None:
    from databricks.sdk.service.sharing import SecurablePropertiesKvPairs

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


def test_a_view_reads_as_a_view_and_is_shared_as_one(
    workspace: SdkWorkspace, emulator: EmulatorServer
) -> None:
    import httpx

    view = "prod_catalog.sales.recent_view"
    httpx.post(
        f"{emulator.url}/_emulator/tables", json={"tables": [{"name": view, "table_type": "VIEW"}]}
    ).raise_for_status()
    workspace.create_share("sales", "")

    state = workspace.read_state(objects=[view, TABLE])
    workspace.update_share_objects(
        "sales", [ShareObjectState(name=view, data_object_type=DataObjectType.VIEW)], []
    )

    assert state.existing_objects == {view, TABLE}
    assert state.views == {view}
    (shared,) = workspace.read_state(shares=["sales"]).shares["sales"].objects
    assert (shared.name, shared.data_object_type) == (view, DataObjectType.VIEW)


def test_views_are_found_when_a_schema_is_listed(
    workspace: SdkWorkspace, emulator: EmulatorServer
) -> None:
    import httpx

    views = [f"prod_catalog.sales.v{i}" for i in range(5)]
    httpx.post(
        f"{emulator.url}/_emulator/tables",
        json={"tables": [{"name": v, "table_type": "VIEW"} for v in views]},
    ).raise_for_status()

    state = workspace.read_state(objects=[*views, TABLE])

    assert state.existing_objects == {*views, TABLE}
    assert state.views == set(views)


def test_a_pipeline_not_running_the_sharepack_notebook_reads_as_foreign(
    workspace: SdkWorkspace, workspace_client: WorkspaceClient
) -> None:
    from databricks.sdk.service.pipelines import NotebookLibrary, PipelineLibrary

    workspace_client.pipelines.create(
        name="daily_feed",
        catalog="prod_catalog",
        schema="sales",
        libraries=[PipelineLibrary(notebook=NotebookLibrary(path="/Users/someone/etl"))],
    )
    ours = workspace.create_pipeline(
        PipelineState(
            name="ours", source_asset=TABLE, target_asset="prod_catalog.sales.ours_target"
        )
    )

    state = workspace.read_state(pipelines=["daily_feed", "ours"])

    assert state.pipelines["daily_feed"].runs_sharepack_notebook is False
    assert state.pipelines["ours"].runs_sharepack_notebook is True
    assert state.pipelines["ours"] == ours


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
    # A few names are still read one by one, as before.
    assert workspace.read_state(recipients=names[:3]).recipients == {
        name: created[name] for name in names[:3]
    }


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
