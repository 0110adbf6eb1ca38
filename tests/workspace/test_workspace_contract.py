"""The `Workspace` contract: what every workspace sharepack talks to does, shown on each.

Each test runs twice: on `SdkWorkspace` against the emulator over HTTP, and on
`InMemoryWorkspace`. Both start from the emulator's seed catalog. What a test does from
outside sharepack (adding tables, another client's change) goes through `Outside`, which
each side does its own way; everything else goes through the `Workspace` protocol only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Protocol

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.pipelines import NotebookLibrary, PipelineLibrary
from databricks.sdk.service.sharing import SecurablePropertiesKvPairs

from databricks_emulator.catalog import load_seed
from databricks_emulator.emulator import CURRENT_USER
from databricks_emulator.server import EmulatorServer
from sharepack.workspace.errors import (
    InvalidRequestError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
    WorkspaceError,
    WorkspacePermissionError,
)
from sharepack.workspace.memory import InMemoryWorkspace
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.sdk import SdkWorkspace, make_client
from sharepack.workspace.sdk_sharing import CONTACT_EMAIL_PROPERTY
from sharepack.workspace.state import (
    AuthenticationType,
    CreationMark,
    DataObjectType,
    HistoryDataSharingStatus,
    Partition,
    PartitionOp,
    PartitionValue,
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareObjectState,
    WorkspaceState,
)
from tests.conftest import EMULATOR_TOKEN

TABLE = "prod_catalog.sales.transactions"
SOURCE = "raw_catalog.sales.transactions"
TARGET = "prod_catalog.sales.contract_daily"
METASTORE = "aws:us-west-2:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


class Outside(Protocol):
    """What happens to a workspace other than through sharepack's `Workspace`."""

    def add_tables(self, *names: str, table_type: str = "MANAGED") -> None: ...

    def set_recipient_properties(self, name: str, properties: dict[str, str]) -> None: ...

    def create_foreign_pipeline(self, name: str) -> None:
        """A pipeline of that name running someone else's notebook."""
        ...

    def fail_next_update(self, pipeline_name: str) -> None: ...

    def reorder_answers(self, share: str, seed: int) -> None:
        """The server answers the share's objects (and its lists) in another order."""
        ...


@dataclass
class Subject:
    workspace: Workspace
    outside: Outside


class _Emulated:
    def __init__(self, emulator: EmulatorServer) -> None:
        self._emulator = emulator
        self._client = WorkspaceClient(host=emulator.url, token=EMULATOR_TOKEN, auth_type="pat")

    def add_tables(self, *names: str, table_type: str = "MANAGED") -> None:
        self._emulator.add_tables(*({"name": n, "table_type": table_type} for n in names))

    def set_recipient_properties(self, name: str, properties: dict[str, str]) -> None:
        kv = SecurablePropertiesKvPairs(properties=properties)
        self._client.recipients.update(name, properties_kvpairs=kv)

    def create_foreign_pipeline(self, name: str) -> None:
        self._client.pipelines.create(
            name=name,
            catalog="prod_catalog",
            schema="sales",
            libraries=[PipelineLibrary(notebook=NotebookLibrary(path="/Users/someone/etl"))],
        )

    def fail_next_update(self, pipeline_name: str) -> None:
        self._emulator.control("POST", "pipeline-failures", {"name_regex": f"^{pipeline_name}$"})

    def reorder_answers(self, share: str, seed: int) -> None:
        self._emulator.set_paging("realistic", seed=seed)


class _InMemory:
    def __init__(self, workspace: InMemoryWorkspace) -> None:
        self._workspace = workspace

    def add_tables(self, *names: str, table_type: str = "MANAGED") -> None:
        self._workspace.add_tables(names, table_type=table_type)

    def set_recipient_properties(self, name: str, properties: dict[str, str]) -> None:
        current = self._workspace.read_state(recipients=[name]).recipients[name]
        others = {k: v for k, v in properties.items() if k != CONTACT_EMAIL_PROPERTY}
        changed = replace(
            current,
            contact_email=properties.get(CONTACT_EMAIL_PROPERTY),
            properties=tuple(others.items()),
        )
        self._workspace.seed(WorkspaceState(recipients={name: changed}))

    def create_foreign_pipeline(self, name: str) -> None:
        foreign = PipelineState(
            name=name, source_asset="", target_asset="", runs_sharepack_notebook=False
        )
        self._workspace.seed(WorkspaceState(pipelines={name: foreign}))

    def fail_next_update(self, pipeline_name: str) -> None:
        self._workspace.fail_pipeline_updates(f"^{pipeline_name}$", "Injected pipeline failure")

    def reorder_answers(self, share: str, seed: int) -> None:
        held = self._workspace.read_state(shares=[share]).shares[share]
        turn = seed % max(len(held.objects), 1)
        turned = held.objects[turn:] + held.objects[:turn]
        self._workspace.seed(WorkspaceState(shares={share: replace(held, objects=turned)}))


@pytest.fixture(params=["sdk", "in-memory"])
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    if request.param == "sdk":
        emulator: EmulatorServer = request.getfixturevalue("emulator")
        emulator.set_pipeline_step_ms(10)
        workspace = SdkWorkspace(make_client(emulator.url, token=EMULATOR_TOKEN))
        yield Subject(workspace, _Emulated(emulator))
        return
    seed = load_seed(None)
    memory = InMemoryWorkspace(tables=[t.name for t in seed.tables], user=CURRENT_USER)
    yield Subject(memory, _InMemory(memory))


@pytest.fixture
def workspace(subject: Subject) -> Workspace:
    return subject.workspace


def _open_recipient(name: str = "analyst") -> RecipientState:
    return RecipientState(
        name=name,
        authentication_type=AuthenticationType.TOKEN,
        comment="External analyst",
        allowed_ips=("10.0.0.0/24", "198.51.100.50"),
        contact_email="analyst@partner.example.com",
    )


def _feed(name: str = "daily_feed", **changes: object) -> PipelineState:
    feed = PipelineState(
        name=name, source_asset=SOURCE, target_asset=TARGET, key_columns=("transaction_id",)
    )
    return replace(feed, **changes)  # type: ignore[arg-type]


# --- identity ------------------------------------------------------------------------------


def test_the_workspace_id_is_a_number_and_stays_the_same(workspace: Workspace) -> None:
    first = workspace.workspace_id

    assert first.isdigit()
    assert int(first) > 0
    assert workspace.workspace_id == first


def test_the_current_user_is_whom_the_credentials_belong_to(workspace: Workspace) -> None:
    """What an operator's audit rows name as the Databricks identity they acted as."""
    assert workspace.current_user() == CURRENT_USER


# --- recipients --------------------------------------------------------------------------


def test_created_recipient_reads_back_equal(workspace: Workspace) -> None:
    created = workspace.create_recipient(_open_recipient())

    state = workspace.read_state(recipients=["analyst", "absent"])

    assert state.recipients == {"analyst": created}
    assert created == replace(_open_recipient(), owner=CURRENT_USER)  # the creator owns it


def test_a_recipient_name_is_kept_in_lower_case(workspace: Workspace) -> None:
    created = workspace.create_recipient(_open_recipient("Analyst"))

    assert created.name == "analyst"
    assert workspace.read_state(recipients=["ANALYST"]).recipients["ANALYST"] == created


def test_updated_recipient_reads_back_with_new_ip_list(workspace: Workspace) -> None:
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


def test_a_recipient_created_with_every_field_reads_back_equal(workspace: Workspace) -> None:
    full = replace(
        _open_recipient(),
        properties=(("country", "PT"), ("partner.tier", "gold")),
        expiration_time=1_900_000_000_000,
        owner=CURRENT_USER,
    )

    created = workspace.create_recipient(full)

    assert created == full
    assert workspace.read_state(recipients=["analyst"]).recipients["analyst"] == full


def test_a_databricks_recipient_reads_back_with_its_metastore(workspace: Workspace) -> None:
    partner = RecipientState(
        name="partner",
        authentication_type=AuthenticationType.DATABRICKS,
        comment="Partner workspace",
        metastore_id=METASTORE,
        contact_email="data@partner.example.com",
    )

    created = workspace.create_recipient(partner)

    assert created == replace(partner, owner=CURRENT_USER)
    assert workspace.read_state(recipients=["partner"]).recipients["partner"] == created


@pytest.mark.parametrize(
    "recipient",
    [
        RecipientState("bad", AuthenticationType.DATABRICKS),
        RecipientState("bad", AuthenticationType.DATABRICKS, metastore_id="not-a-sharing-id"),
        RecipientState("bad", AuthenticationType.TOKEN, metastore_id=METASTORE),
        RecipientState("bad", AuthenticationType.TOKEN, allowed_ips=("300.1.2.3",)),
        RecipientState("bad name", AuthenticationType.TOKEN),
    ],
    ids=["d2d-without-metastore", "d2d-bad-metastore", "token-with-metastore", "bad-ip", "space"],
)
def test_an_invalid_recipient_is_refused_and_not_created(
    workspace: Workspace, recipient: RecipientState
) -> None:
    with pytest.raises(InvalidRequestError):
        workspace.create_recipient(recipient)

    assert workspace.read_state(recipients=[recipient.name]).recipients == {}


def test_updating_a_recipient_keeps_its_expiry_and_other_properties(workspace: Workspace) -> None:
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


def test_removing_the_contact_email_clears_it_and_keeps_other_properties(
    subject: Subject,
) -> None:
    workspace = subject.workspace
    workspace.create_recipient(_open_recipient())
    subject.outside.set_recipient_properties(
        "analyst", {CONTACT_EMAIL_PROPERTY: "analyst@partner.example.com", "owner_team": "x"}
    )
    without_email = replace(_open_recipient(), contact_email=None)

    workspace.update_recipient(without_email)

    read = workspace.read_state(recipients=["analyst"]).recipients["analyst"]
    assert read == replace(without_email, properties=(("owner_team", "x"),), owner=CURRENT_USER)


def test_setting_the_contact_email_keeps_other_properties(subject: Subject) -> None:
    workspace = subject.workspace
    workspace.create_recipient(replace(_open_recipient(), contact_email=None))
    subject.outside.set_recipient_properties("analyst", {"owner_team": "x"})

    workspace.update_recipient(_open_recipient())

    read = workspace.read_state(recipients=["analyst"]).recipients["analyst"]
    assert read.properties == (("owner_team", "x"),)
    assert read.contact_email == "analyst@partner.example.com"


def test_creating_a_recipient_twice_raises_already_exists(workspace: Workspace) -> None:
    workspace.create_recipient(_open_recipient())

    with pytest.raises(ResourceAlreadyExistsError, match="analyst"):
        workspace.create_recipient(_open_recipient())


def test_changing_or_deleting_an_absent_recipient_raises_not_found(workspace: Workspace) -> None:
    with pytest.raises(ResourceNotFoundError, match="nobody"):
        workspace.update_recipient(_open_recipient("nobody"))
    with pytest.raises(ResourceNotFoundError, match="nobody"):
        workspace.delete_recipient("nobody")


def test_a_recipient_another_user_owns_cannot_be_changed(workspace: Workspace) -> None:
    theirs = replace(_open_recipient(), owner="someone-else@example.com")
    workspace.create_recipient(theirs)

    with pytest.raises(WorkspacePermissionError, match="not an owner"):
        workspace.update_recipient(replace(theirs, comment="mine now"))
    with pytest.raises(WorkspacePermissionError, match="not an owner"):
        workspace.delete_recipient("analyst")

    assert workspace.read_state(recipients=["analyst"]).recipients["analyst"] == theirs


def test_a_deleted_recipient_is_recreated_whole_from_the_state_read_before(
    workspace: Workspace,
) -> None:
    workspace.create_recipient(replace(_open_recipient(), properties=(("tier", "gold"),)))
    before = workspace.read_state(recipients=["analyst"]).recipients["analyst"]
    workspace.delete_recipient("analyst")
    assert workspace.read_state(recipients=["analyst"]).recipients == {}

    workspace.create_recipient(before)

    assert workspace.read_state(recipients=["analyst"]).recipients["analyst"] == before


def test_many_recipients_read_at_once_are_the_ones_that_exist(workspace: Workspace) -> None:
    names = [f"partner_{i:03d}" for i in range(40)]
    created = {name: workspace.create_recipient(_open_recipient(name)) for name in names[:30]}

    assert workspace.read_state(recipients=names).recipients == created
    assert workspace.read_state(recipients=names[:3]).recipients == {
        name: created[name] for name in names[:3]
    }


# --- shares ------------------------------------------------------------------------------


def test_share_objects_and_grants_read_back(workspace: Workspace) -> None:
    workspace.create_recipient(_open_recipient())
    created = workspace.create_share("sales", "Sales data")

    workspace.update_share_objects("sales", [ShareObjectState(name=TABLE)], [])
    workspace.update_share_grants("sales", ["analyst"], [])
    share = workspace.read_state(shares=["sales"]).shares["sales"]

    assert (created.name, created.comment) == ("sales", "Sales data")
    assert share.comment == "Sales data"
    assert share.object_names == {TABLE}
    assert share.grantees == {"analyst"}


def test_a_share_read_under_another_server_order_compares_equal(subject: Subject) -> None:
    workspace = subject.workspace
    tables = [f"prod_catalog.sales.ordered_{i:02d}" for i in range(12)]
    subject.outside.add_tables(*tables)
    workspace.create_share("sales", "")
    workspace.update_share_objects("sales", [ShareObjectState(name=t) for t in tables], [])

    reads = []
    for seed in (1, 2, 3):
        subject.outside.reorder_answers("sales", seed)
        reads.append(workspace.read_state(shares=["sales"]).shares["sales"])

    assert reads[0] == reads[1] == reads[2]
    assert [o.name for o in reads[0].objects] == sorted(tables)


def test_the_server_fills_an_added_object_s_alias_and_history_status(
    workspace: Workspace,
) -> None:
    workspace.create_share("sales", "")

    workspace.update_share_objects("sales", [ShareObjectState(name=TABLE)], [])

    (shared,) = workspace.read_state(shares=["sales"]).shares["sales"].objects
    assert shared == ShareObjectState(
        name=TABLE,
        data_object_type=DataObjectType.TABLE,
        shared_as="sales.transactions",
        history_data_sharing_status=HistoryDataSharingStatus.DISABLED,
    )


def test_share_objects_added_with_every_field_read_back_equal(workspace: Workspace) -> None:
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

    # read back sorted by name, whatever the order the server answers them in
    assert workspace.read_state(shares=["sales"]).shares["sales"].objects == (schema, full)


def test_removing_objects_and_grants_empties_the_share(workspace: Workspace) -> None:
    workspace.create_recipient(_open_recipient())
    workspace.create_share("sales", "")
    workspace.update_share_objects("sales", [ShareObjectState(name=TABLE)], [])
    workspace.update_share_grants("sales", ["analyst"], [])

    workspace.update_share_objects("sales", [], [TABLE])
    workspace.update_share_grants("sales", [], ["analyst"])
    share = workspace.read_state(shares=["sales"]).shares["sales"]

    assert share.objects == ()
    assert share.grantees == frozenset()


def test_a_share_comment_changes_and_a_deleted_share_is_gone(workspace: Workspace) -> None:
    workspace.create_share("sales", "old")

    workspace.update_share_comment("sales", "new")
    assert workspace.read_state(shares=["sales"]).shares["sales"].comment == "new"

    workspace.delete_share("sales")
    assert workspace.read_state(shares=["sales"]).shares == {}


def test_creating_a_share_twice_raises_already_exists(workspace: Workspace) -> None:
    workspace.create_share("sales", "")

    with pytest.raises(ResourceAlreadyExistsError, match="sales"):
        workspace.create_share("Sales", "")


def test_deleting_an_absent_share_raises_not_found(workspace: Workspace) -> None:
    with pytest.raises(ResourceNotFoundError, match="nope"):
        workspace.delete_share("nope")


def test_adding_a_missing_table_raises_not_found(workspace: Workspace) -> None:
    workspace.create_share("sales", "")

    with pytest.raises(ResourceNotFoundError, match="no_such_table"):
        workspace.update_share_objects(
            "sales", [ShareObjectState(name="prod_catalog.sales.no_such_table")], []
        )


def test_more_than_100_object_updates_in_one_call_are_refused_whole(
    workspace: Workspace,
) -> None:
    workspace.create_share("bench", "")
    tables = [ShareObjectState(name=f"bench_catalog.bench.t{i:04d}") for i in range(101)]

    with pytest.raises(InvalidRequestError, match="exceeds limit 100"):
        workspace.update_share_objects("bench", tables, [])

    workspace.update_share_objects("bench", tables[:100], [])  # 100 is the most
    assert len(workspace.read_state(shares=["bench"]).shares["bench"].objects) == 100


def test_the_same_object_twice_in_one_call_is_refused_whole(workspace: Workspace) -> None:
    workspace.create_share("sales", "")
    workspace.update_share_objects("sales", [ShareObjectState(name=TABLE)], [])

    with pytest.raises(InvalidRequestError, match="duplicate"):
        workspace.update_share_objects("sales", [ShareObjectState(name=TABLE)], [TABLE])

    assert workspace.read_state(shares=["sales"]).shares["sales"].object_names == {TABLE}


def test_adding_an_object_already_shared_raises_already_exists(workspace: Workspace) -> None:
    workspace.create_share("sales", "")
    workspace.update_share_objects("sales", [ShareObjectState(name=TABLE)], [])

    with pytest.raises(ResourceAlreadyExistsError, match="transactions"):
        workspace.update_share_objects("sales", [ShareObjectState(name=TABLE)], [])


def test_removing_an_object_not_shared_raises_not_found(workspace: Workspace) -> None:
    workspace.create_share("sales", "")

    with pytest.raises(ResourceNotFoundError, match="transactions"):
        workspace.update_share_objects("sales", [], [TABLE])


def test_two_objects_may_not_share_one_alias(workspace: Workspace) -> None:
    workspace.create_share("sales", "")
    orders = ShareObjectState(name="prod_catalog.sales.orders", shared_as="sales.transactions")

    with pytest.raises(InvalidRequestError, match="already shared as"):
        workspace.update_share_objects("sales", [ShareObjectState(name=TABLE), orders], [])

    assert workspace.read_state(shares=["sales"]).shares["sales"].objects == ()


@pytest.mark.parametrize("alias", ["partner-sales.transactions", "prod.sales.transactions"])
def test_an_alias_must_be_schema_dot_table_of_letters_digits_and_underscores(
    workspace: Workspace, alias: str
) -> None:
    workspace.create_share("sales", "")

    with pytest.raises(InvalidRequestError, match="Invalid shared_as name"):
        workspace.update_share_objects("sales", [ShareObjectState(name=TABLE, shared_as=alias)], [])

    assert workspace.read_state(shares=["sales"]).shares["sales"].objects == ()


def test_a_schema_may_not_be_shared_with_partitions(workspace: Workspace) -> None:
    workspace.create_share("sales", "")
    region = PartitionValue(name="region", value="eu")
    schema = ShareObjectState(
        name="prod_catalog.sales",
        data_object_type=DataObjectType.SCHEMA,
        partitions=(Partition(values=(region,)),),
    )

    with pytest.raises(InvalidRequestError, match="Partitions are only supported on tables"):
        workspace.update_share_objects("sales", [schema], [])

    assert workspace.read_state(shares=["sales"]).shares["sales"].objects == ()


def test_a_partition_value_may_not_set_both_a_value_and_a_property(workspace: Workspace) -> None:
    workspace.create_share("sales", "")
    both = PartitionValue(name="region", value="eu", recipient_property_key="region")
    obj = ShareObjectState(name=TABLE, partitions=(Partition(values=(both,)),))

    with pytest.raises(InvalidRequestError, match="set one"):
        workspace.update_share_objects("sales", [obj], [])


def test_granting_an_absent_recipient_raises_not_found(workspace: Workspace) -> None:
    workspace.create_share("sales", "")

    with pytest.raises(ResourceNotFoundError, match="nobody"):
        workspace.update_share_grants("sales", ["nobody"], [])


def test_a_view_reads_as_a_view_and_is_shared_as_one(subject: Subject) -> None:
    workspace = subject.workspace
    view = "prod_catalog.sales.recent_view"
    subject.outside.add_tables(view, table_type="VIEW")
    workspace.create_share("sales", "")

    state = workspace.read_state(objects=[view, TABLE])
    workspace.update_share_objects(
        "sales", [ShareObjectState(name=view, data_object_type=DataObjectType.VIEW)], []
    )

    assert state.existing_objects == {view, TABLE}
    assert state.views == {view}
    (shared,) = workspace.read_state(shares=["sales"]).shares["sales"].objects
    assert (shared.name, shared.data_object_type) == (view, DataObjectType.VIEW)


def test_a_view_shared_as_a_table_is_refused(subject: Subject) -> None:
    view = "prod_catalog.sales.recent_view"
    subject.outside.add_tables(view, table_type="VIEW")
    subject.workspace.create_share("sales", "")

    with pytest.raises(InvalidRequestError, match="recent_view"):
        subject.workspace.update_share_objects("sales", [ShareObjectState(name=view)], [])


def test_views_are_found_among_many_tables_of_one_schema(subject: Subject) -> None:
    views = [f"prod_catalog.sales.v{i}" for i in range(5)]
    subject.outside.add_tables(*views, table_type="VIEW")

    state = subject.workspace.read_state(objects=[*views, TABLE])

    assert state.existing_objects == {*views, TABLE}
    assert state.views == set(views)


def test_existing_objects_lists_only_what_the_catalog_has(workspace: Workspace) -> None:
    state = workspace.read_state(objects=[TABLE, "prod_catalog.sales", "prod_catalog.sales.nope"])

    assert state.existing_objects == {TABLE, "prod_catalog.sales"}


# --- grants of a recipient -----------------------------------------------------------------


def test_the_shares_granting_a_recipient_are_read_whoever_made_them(workspace: Workspace) -> None:
    workspace.create_recipient(_open_recipient())
    for share in ("grants_a", "grants_b", "grants_c"):
        workspace.create_share(share, "")
    workspace.update_share_grants("grants_a", ["analyst"], [])
    workspace.update_share_grants("grants_c", ["analyst"], [])

    state = workspace.read_state(recipient_grants=["analyst"])

    assert state.recipient_grants == {"analyst": frozenset({"grants_a", "grants_c"})}


def test_a_recipient_granted_nothing_reads_as_no_shares_and_an_absent_one_is_missing(
    workspace: Workspace,
) -> None:
    workspace.create_recipient(_open_recipient())

    state = workspace.read_state(recipient_grants=["analyst", "nobody"])

    assert state.recipient_grants == {"analyst": frozenset()}


def test_every_share_granting_a_recipient_is_read_however_many(workspace: Workspace) -> None:
    """More shares than one page of a listing (50)."""
    workspace.create_recipient(_open_recipient())
    shares = {f"grants_page_{i:03d}" for i in range(60)}
    for share in sorted(shares):
        workspace.create_share(share, "")
        workspace.update_share_grants(share, ["analyst"], [])

    state = workspace.read_state(recipient_grants=["analyst"])

    assert state.recipient_grants["analyst"] == shares


def test_deleting_a_recipient_revokes_its_grants(workspace: Workspace) -> None:
    workspace.create_recipient(_open_recipient())
    workspace.create_share("sales", "")
    workspace.update_share_grants("sales", ["analyst"], [])

    workspace.delete_recipient("analyst")

    assert workspace.read_state(shares=["sales"]).shares["sales"].grantees == frozenset()


# --- pipelines ---------------------------------------------------------------------------


def test_a_created_pipeline_reads_back_equal(workspace: Workspace) -> None:
    wanted = _feed(tags={"cost_center": "123"}, notification=("ops@example.com",), serverless=False)

    created = workspace.create_pipeline(wanted)

    assert created == replace(wanted, pipeline_id=created.pipeline_id)
    assert created.pipeline_id
    assert workspace.read_state(pipelines=["daily_feed"]).pipelines["daily_feed"] == created


def test_an_updated_pipeline_reads_back_with_its_new_settings(workspace: Workspace) -> None:
    created = workspace.create_pipeline(_feed())

    updated = workspace.update_pipeline(_feed(scd_type="1", continuous=True))

    assert updated.pipeline_id == created.pipeline_id
    assert workspace.read_state(pipelines=["daily_feed"]).pipelines["daily_feed"] == updated


def test_creating_a_pipeline_whose_name_is_taken_raises_already_exists(
    workspace: Workspace,
) -> None:
    workspace.create_pipeline(_feed())

    with pytest.raises(ResourceAlreadyExistsError, match="daily_feed"):
        workspace.create_pipeline(_feed())


def test_updating_or_deleting_an_absent_pipeline_raises_not_found(workspace: Workspace) -> None:
    with pytest.raises(ResourceNotFoundError):
        workspace.update_pipeline(_feed("nothing_here"))
    with pytest.raises(ResourceNotFoundError):
        workspace.delete_pipeline("00000000-0000-4000-8000-000000000000")


def test_a_pipeline_not_running_the_sharepack_notebook_reads_as_foreign(
    subject: Subject,
) -> None:
    workspace = subject.workspace
    subject.outside.create_foreign_pipeline("their_feed")
    ours = workspace.create_pipeline(_feed("ours"))

    state = workspace.read_state(pipelines=["their_feed", "ours"])

    assert state.pipelines["their_feed"].runs_sharepack_notebook is False
    assert state.pipelines["ours"].runs_sharepack_notebook is True
    assert state.pipelines["ours"] == ours


def test_an_update_materialises_the_target_and_deleting_the_pipeline_drops_it(
    workspace: Workspace,
) -> None:
    created = workspace.create_pipeline(_feed())
    assert created.pipeline_id is not None
    assert workspace.read_state(objects=[TARGET]).existing_objects == frozenset()

    workspace.run_pipeline_update(created.pipeline_id, timeout_seconds=60, produces=TARGET)
    assert workspace.read_state(objects=[TARGET]).existing_objects == {TARGET}

    workspace.delete_pipeline(created.pipeline_id)
    after = workspace.read_state(pipelines=["daily_feed"], objects=[TARGET])
    assert after.pipelines == {}
    assert after.existing_objects == frozenset()


def test_a_continuous_pipeline_is_done_once_running_with_its_table(workspace: Workspace) -> None:
    created = workspace.create_pipeline(_feed(continuous=True))
    assert created.pipeline_id is not None

    workspace.run_pipeline_update(
        created.pipeline_id, timeout_seconds=60, continuous=True, produces=TARGET
    )
    # Its update keeps running: running it again joins that update.
    workspace.run_pipeline_update(
        created.pipeline_id, timeout_seconds=60, continuous=True, produces=TARGET
    )

    assert workspace.read_state(objects=[TARGET]).existing_objects == {TARGET}


def test_an_update_whose_source_is_missing_fails(workspace: Workspace) -> None:
    created = workspace.create_pipeline(_feed(source_asset="raw_catalog.sales.nothing"))
    assert created.pipeline_id is not None

    with pytest.raises(WorkspaceError, match="FAILED"):
        workspace.run_pipeline_update(created.pipeline_id, timeout_seconds=60, produces=TARGET)

    assert workspace.read_state(objects=[TARGET]).existing_objects == frozenset()


def test_an_update_that_fails_raises_and_the_next_one_may_succeed(subject: Subject) -> None:
    workspace = subject.workspace
    created = workspace.create_pipeline(_feed())
    assert created.pipeline_id is not None
    subject.outside.fail_next_update("daily_feed")

    with pytest.raises(WorkspaceError, match="FAILED"):
        workspace.run_pipeline_update(created.pipeline_id, timeout_seconds=60, produces=TARGET)
    workspace.run_pipeline_update(created.pipeline_id, timeout_seconds=60, produces=TARGET)

    assert workspace.read_state(objects=[TARGET]).existing_objects == {TARGET}


def test_an_update_of_an_absent_pipeline_raises_not_found(workspace: Workspace) -> None:
    with pytest.raises(ResourceNotFoundError):
        workspace.run_pipeline_update(
            "00000000-0000-4000-8000-000000000000", timeout_seconds=1, produces=TARGET
        )


# --- schedule jobs -----------------------------------------------------------------------

MARK = CreationMark(run="run-1", action="create-job:daily_feed_schedule")
JOB = ScheduleJobState(
    name="daily_feed_schedule",
    pipeline_name="daily_feed",
    quartz_cron="0 0 2 * * ?",
    timezone="Europe/Lisbon",
    created_by=MARK,
)


def test_a_created_job_reads_back_with_its_pipeline_and_mark(workspace: Workspace) -> None:
    pipeline = workspace.create_pipeline(_feed())

    created = workspace.create_schedule_job(JOB)

    assert created == replace(JOB, job_id=created.job_id, pipeline_id=pipeline.pipeline_id)
    assert workspace.read_state(jobs=[JOB.name]).jobs[JOB.name] == created


def test_a_job_created_twice_under_one_mark_is_there_once(workspace: Workspace) -> None:
    workspace.create_pipeline(_feed())
    first = workspace.create_schedule_job(JOB)

    second = workspace.create_schedule_job(JOB)  # as if the SDK had sent the create again

    assert second.job_id != first.job_id
    assert (
        workspace.reconcile_schedule_job(JOB)
        == workspace.read_state(jobs=[JOB.name]).jobs[JOB.name]
    )
    assert workspace.read_state(jobs=[JOB.name]).jobs[JOB.name].job_id == second.job_id
    with pytest.raises(InvalidRequestError):  # the first one is gone
        workspace.delete_schedule_job(first.job_id or 0)


def test_reconciling_finds_only_the_job_its_mark_made(workspace: Workspace) -> None:
    workspace.create_pipeline(_feed())
    workspace.create_schedule_job(JOB)
    other_run = replace(JOB, created_by=CreationMark(run="run-2", action=MARK.action))

    assert workspace.reconcile_schedule_job(other_run) is None
    assert workspace.reconcile_schedule_job(replace(JOB, created_by=None)) is None
    found = workspace.reconcile_schedule_job(JOB)
    assert found is not None
    assert found.created_by == MARK


def test_an_updated_job_keeps_the_mark_of_the_run_that_made_it(workspace: Workspace) -> None:
    workspace.create_pipeline(_feed())
    created = workspace.create_schedule_job(JOB)

    updated = workspace.update_schedule_job(
        replace(JOB, quartz_cron="0 30 3 * * ?", created_by=None)
    )

    read = workspace.read_state(jobs=[JOB.name]).jobs[JOB.name]
    assert updated == read
    assert (read.job_id, read.quartz_cron, read.created_by) == (
        created.job_id,
        "0 30 3 * * ?",
        MARK,
    )


@pytest.mark.parametrize(
    "job",
    [replace(JOB, quartz_cron="0 2 * * *"), replace(JOB, timezone="Mars/Olympus_Mons")],
    ids=["unix-cron", "unknown-timezone"],
)
def test_an_invalid_schedule_is_refused_and_no_job_made(
    workspace: Workspace, job: ScheduleJobState
) -> None:
    workspace.create_pipeline(_feed())

    with pytest.raises(InvalidRequestError):
        workspace.create_schedule_job(job)

    assert workspace.read_state(jobs=[JOB.name]).jobs == {}


def test_a_job_for_an_absent_pipeline_raises_not_found(workspace: Workspace) -> None:
    with pytest.raises(ResourceNotFoundError, match="daily_feed"):
        workspace.create_schedule_job(JOB)


def test_a_deleted_job_is_gone_and_deleting_it_again_is_refused(workspace: Workspace) -> None:
    workspace.create_pipeline(_feed())
    created = workspace.create_schedule_job(JOB)
    assert created.job_id is not None

    workspace.delete_schedule_job(created.job_id)

    assert workspace.read_state(jobs=[JOB.name]).jobs == {}
    # The Jobs API answers a missing job with INVALID_PARAMETER_VALUE, not NOT_FOUND.
    with pytest.raises(InvalidRequestError, match=str(created.job_id)):
        workspace.delete_schedule_job(created.job_id)


# --- an UPDATE of a share's objects: options in place, never an alias ----------------------


def test_an_update_changes_history_feed_partitions_and_comment_in_place(
    workspace: Workspace,
) -> None:
    workspace.create_share("sales", "")
    workspace.update_share_objects("sales", [ShareObjectState(name=TABLE)], [])
    held = workspace.read_state(shares=["sales"]).shares["sales"].objects[0]
    by_region = Partition(values=(PartitionValue(name="region", value="eu"),))
    changed = replace(
        held,
        comment="eu only",
        cdf_enabled=True,
        history_data_sharing_status=HistoryDataSharingStatus.ENABLED,
        partitions=(by_region,),
    )

    workspace.update_share_objects("sales", [], [], [changed])

    (now,) = workspace.read_state(shares=["sales"]).shares["sales"].objects
    assert now == changed


def test_an_update_of_an_alias_is_refused_and_changes_nothing(workspace: Workspace) -> None:
    workspace.create_share("sales", "")
    workspace.update_share_objects("sales", [ShareObjectState(name=TABLE)], [])
    held = workspace.read_state(shares=["sales"]).shares["sales"].objects[0]

    with pytest.raises(InvalidRequestError, match="shared_as"):
        workspace.update_share_objects(
            "sales", [], [], [replace(held, shared_as="partner.tx", cdf_enabled=True)]
        )

    assert workspace.read_state(shares=["sales"]).shares["sales"].objects == (held,)


def test_an_update_of_an_object_the_share_lacks_is_not_found(workspace: Workspace) -> None:
    workspace.create_share("sales", "")

    with pytest.raises(ResourceNotFoundError, match="does not exist in share"):
        workspace.update_share_objects("sales", [], [], [ShareObjectState(name=TABLE)])


# --- reads of the sync jobs --------------------------------------------------------------


def test_catalog_objects_read_by_full_name_with_their_type_and_owner(
    workspace: Workspace,
) -> None:
    found = workspace.read_catalog_objects(
        ["prod_catalog", "prod_catalog.sales", TABLE, "prod_catalog.nothing", "no_catalog"]
    )

    assert {name: o.object_type for name, o in found.items()} == {
        "prod_catalog": "CATALOG",
        "prod_catalog.sales": "SCHEMA",
        TABLE: "MANAGED",
    }
    assert {o.full_name for o in found.values()} == set(found)
    assert {o.owner for o in found.values()} == {CURRENT_USER}


def test_ended_updates_read_back_oldest_first_less_those_known(subject: Subject) -> None:
    workspace = subject.workspace
    created = workspace.create_pipeline(_feed())
    assert created.pipeline_id is not None
    subject.outside.fail_next_update("daily_feed")
    with pytest.raises(WorkspaceError, match="FAILED"):
        workspace.run_pipeline_update(created.pipeline_id, timeout_seconds=60, produces=TARGET)
    workspace.run_pipeline_update(created.pipeline_id, timeout_seconds=60, produces=TARGET)

    runs = workspace.read_pipeline_runs(created.pipeline_id)
    later = workspace.read_pipeline_runs(created.pipeline_id, known={runs[0].update_id})

    assert [r.state for r in runs] == ["FAILED", "COMPLETED"]
    assert runs[0].created <= runs[1].created
    assert all(r.ended is not None and r.ended >= r.created for r in runs)
    assert [r.update_id for r in later] == [runs[1].update_id]
    assert workspace.read_pipeline_runs("00000000-0000-4000-8000-000000000000") == []
