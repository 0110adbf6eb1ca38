"""What the SDK sees of a workspace, checked on the emulator (or a real one).

With DATABRICKS_HOST and DATABRICKS_TOKEN set, these run against that workspace instead,
so the emulator's fidelity can be checked for real; they clean up what they create. The
tables they share must then exist there (set SHAREPACK_CONTRACT_TABLES, comma-separated;
the 100-object limit needs at least 101 of them, and skips saying so with fewer). The
pipeline test imports a one-table DLT notebook and runs it on serverless compute.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from collections.abc import Iterator

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    InvalidParameterValue,
    NotFound,
    ResourceAlreadyExists,
)
from databricks.sdk.service import jobs, pipelines, sharing, workspace

from databricks_emulator.server import EmulatorServer
from tests.emulator._support import REAL, ApiSpy, emulator_only

SEEDED = [f"bench_catalog.bench.t{i:04d}" for i in range(101)]
SHARES = "/api/2.1/unity-catalog/shares"
UPDATE_ORDER = [
    pipelines.UpdateInfoState.QUEUED,
    pipelines.UpdateInfoState.INITIALIZING,
    pipelines.UpdateInfoState.RUNNING,
    pipelines.UpdateInfoState.COMPLETED,
]
# Long enough that a poll every 20 ms sees every state, even on a slow machine.
PIPELINE_STEP_MS = 300
ONE_TABLE_NOTEBOOK = """# Databricks notebook source
import dlt

TARGET = spark.conf.get("sharepack.target_asset").rsplit(".", 1)[-1]


@dlt.table(name=TARGET)
def one_row():
    return spark.range(1)
"""


@pytest.fixture
def client(emulator: EmulatorServer) -> WorkspaceClient:
    if REAL:
        return WorkspaceClient()
    return WorkspaceClient(host=emulator.url, token="dapi-test-token", auth_type="pat")


@pytest.fixture
def tables() -> list[str]:
    configured = os.environ.get("SHAREPACK_CONTRACT_TABLES")
    return configured.split(",") if REAL and configured else SEEDED


@pytest.fixture
def name() -> str:
    return f"contract_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def share(client: WorkspaceClient, name: str) -> Iterator[str]:
    client.shares.create(name, comment="contract")
    yield name
    client.shares.delete(name)


@pytest.fixture
def spy(client: WorkspaceClient, monkeypatch: pytest.MonkeyPatch) -> ApiSpy:
    """What the SDK sent and got back during the test, seen from inside the SDK."""
    recorder = ApiSpy()
    recorder.install(client, monkeypatch)
    return recorder


def _schema_of(table: str) -> tuple[str, str]:
    catalog_name, schema_name, _ = table.split(".")
    return catalog_name, schema_name


def _change(
    action: sharing.SharedDataObjectUpdateAction, table: str, comment: str | None = None
) -> sharing.SharedDataObjectUpdate:
    return sharing.SharedDataObjectUpdate(
        action=action, data_object=sharing.SharedDataObject(name=table, comment=comment)
    )


def _add(table: str, comment: str | None = None) -> sharing.SharedDataObjectUpdate:
    return _change(sharing.SharedDataObjectUpdateAction.ADD, table, comment)


def test_token_recipient_gets_an_activation_link(client: WorkspaceClient, name: str) -> None:
    created = client.recipients.create(
        name,
        sharing.AuthenticationType.TOKEN,
        ip_access_list=sharing.IpAccessList(allowed_ip_addresses=["10.0.0.0/24"]),
    )
    try:
        assert created.tokens
        assert created.tokens[0].activation_url
        fetched = client.recipients.get(name)
        assert fetched.ip_access_list is not None
        assert fetched.ip_access_list.allowed_ip_addresses == ["10.0.0.0/24"]
    finally:
        client.recipients.delete(name)


def test_duplicate_recipient_raises_resource_already_exists(
    client: WorkspaceClient, name: str
) -> None:
    client.recipients.create(name, sharing.AuthenticationType.TOKEN)
    try:
        with pytest.raises(ResourceAlreadyExists, match=f"Recipient '{name}' already exists"):
            client.recipients.create(name, sharing.AuthenticationType.TOKEN)
    finally:
        client.recipients.delete(name)


def test_missing_share_raises_not_found(client: WorkspaceClient, name: str) -> None:
    with pytest.raises(NotFound, match=f"Share '{name}' does not exist"):
        client.shares.get(name)


def test_malformed_sharing_identifier_cannot_be_resolved(
    client: WorkspaceClient, name: str
) -> None:
    with pytest.raises(InvalidParameterValue, match="Cannot resolve target shard"):
        client.recipients.create(
            name, sharing.AuthenticationType.DATABRICKS, data_recipient_global_metastore_id="x"
        )


def test_added_object_gets_server_filled_fields(
    client: WorkspaceClient, share: str, tables: list[str]
) -> None:
    client.shares.update(share, updates=[_add(tables[0])])

    (obj,) = client.shares.get(share, include_shared_data=True).objects or []

    assert obj.name == tables[0]
    assert obj.added_at
    assert obj.added_by
    assert obj.status
    assert obj.shared_as == ".".join(tables[0].split(".")[1:])


def test_more_than_100_object_updates_in_one_call_are_refused(
    client: WorkspaceClient, share: str, tables: list[str]
) -> None:
    if len(tables) < 101:
        pytest.skip(
            f"needs 101 distinct tables to share; SHAREPACK_CONTRACT_TABLES names {len(tables)}"
        )
    with pytest.raises(InvalidParameterValue, match="exceeds limit 100"):
        client.shares.update(share, updates=[_add(t) for t in tables[:101]])
    assert not client.shares.get(share, include_shared_data=True).objects


def test_adding_an_object_twice_raises_already_exists(
    client: WorkspaceClient, share: str, tables: list[str]
) -> None:
    client.shares.update(share, updates=[_add(tables[0])])

    with pytest.raises(ResourceAlreadyExists):
        client.shares.update(share, updates=[_add(tables[0])])


def test_missing_table_cannot_be_shared(client: WorkspaceClient, share: str) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        client.shares.update(share, updates=[_add("bench_catalog.bench.nope")])


@emulator_only("creating 60 shares is for the emulator only")
def test_listing_pages_through_every_share(
    emulator: EmulatorServer, client: WorkspaceClient, spy: ApiSpy
) -> None:
    emulator.set_paging("plain")  # full pages in name order, to count them
    names = [f"paged_{i:03d}" for i in range(60)]
    for share_name in names:
        client.shares.create(share_name)

    listed = [s.name for s in client.shares.list_shares(max_results=25)]

    pages = spy.to("GET", SHARES)
    tokens = [p.answer.get("next_page_token") for p in pages]
    assert listed == names
    assert [p.query.get("max_results") for p in pages] == [25, 25, 25]
    assert [len(p.answer["shares"]) for p in pages] == [25, 25, 10]
    assert tokens[0] is not None
    assert tokens[1] is not None
    assert tokens[2] is None
    assert [p.query.get("page_token") for p in pages] == [None, *tokens[:-1]]


def test_grant_and_revoke_select(client: WorkspaceClient, share: str, name: str) -> None:
    client.recipients.create(name, sharing.AuthenticationType.TOKEN)
    try:
        add = sharing.PermissionsChange(principal=name, add=["SELECT"])
        client.shares.update_permissions(share, changes=[add])
        assigned = client.shares.share_permissions(share).privilege_assignments or []
        assert [(a.principal, a.privileges) for a in assigned] == [
            (name, [sharing.Privilege.SELECT])
        ]
        remove = sharing.PermissionsChange(principal=name, remove=["SELECT"])
        client.shares.update_permissions(share, changes=[remove])
        assert not client.shares.share_permissions(share).privilege_assignments
    finally:
        client.recipients.delete(name)


def _import_notebook(client: WorkspaceClient, path: str) -> None:
    client.workspace.mkdirs(path.rsplit("/", 1)[0])
    client.workspace.import_(
        path,
        content=base64.b64encode(ONE_TABLE_NOTEBOOK.encode()).decode("ascii"),
        format=workspace.ImportFormat.SOURCE,
        language=workspace.Language.PYTHON,
        overwrite=True,
    )


def _states_until_final(
    client: WorkspaceClient, pipeline_id: str, update_id: str, timeout_s: float
) -> list[pipelines.UpdateInfoState]:
    """Every state the update was seen in, polled until it ends; the timeout guards a hang."""
    deadline = time.monotonic() + timeout_s
    states: list[pipelines.UpdateInfoState] = []
    final = {
        pipelines.UpdateInfoState.COMPLETED,
        pipelines.UpdateInfoState.FAILED,
        pipelines.UpdateInfoState.CANCELED,
    }
    while not states or states[-1] not in final:
        update = client.pipelines.get_update(pipeline_id, update_id).update
        assert update is not None
        assert update.state is not None
        if not states or states[-1] != update.state:
            states.append(update.state)
        assert time.monotonic() < deadline, states
        time.sleep(0.02 if not REAL else 5)
    return states


def test_pipeline_update_goes_through_every_state_and_materialises_its_target(
    client: WorkspaceClient, emulator: EmulatorServer, name: str, tables: list[str]
) -> None:
    if not REAL:
        emulator.set_pipeline_step_ms(PIPELINE_STEP_MS)
    catalog_name, schema_name = _schema_of(tables[0])
    target = f"{catalog_name}.{schema_name}.{name}"
    notebook = f"/Shared/sharepack_contract/{name}"
    _import_notebook(client, notebook)
    created = client.pipelines.create(
        name=name,
        catalog=catalog_name,
        schema=schema_name,
        serverless=True,
        libraries=[pipelines.PipelineLibrary(notebook=pipelines.NotebookLibrary(path=notebook))],
        configuration={"sharepack.target_asset": target},
    )
    pipeline_id = created.pipeline_id or ""
    try:
        update_id = client.pipelines.start_update(pipeline_id).update_id or ""

        states = _states_until_final(client, pipeline_id, update_id, 1800 if REAL else 30)

        if REAL:
            # A workspace has more states (WAITING_FOR_RESOURCES, SETTING_UP_TABLES...)
            # and a poll may miss short ones; those it shows come in the legal order.
            legal = [s for s in states if s in UPDATE_ORDER]
            assert legal == sorted(legal, key=UPDATE_ORDER.index), states
            assert states[-1] == pipelines.UpdateInfoState.COMPLETED, states
        else:
            assert states == UPDATE_ORDER
        assert client.tables.exists(target).table_exists
    finally:
        client.pipelines.delete(pipeline_id)
        client.workspace.delete(notebook)
    with pytest.raises(NotFound, match=f"The specified pipeline {pipeline_id} was not found"):
        client.pipelines.get(pipeline_id)
    assert not client.tables.exists(target).table_exists


def test_pipeline_update_replaces_its_settings(
    client: WorkspaceClient, name: str, tables: list[str]
) -> None:
    catalog_name, schema_name = _schema_of(tables[0])
    created = client.pipelines.create(
        name=name,
        catalog=catalog_name,
        schema=schema_name,
        development=True,
        configuration={"contract.version": "1"},
    )
    pipeline_id = created.pipeline_id or ""
    try:
        client.pipelines.update(
            pipeline_id,
            name=f"{name}_renamed",
            catalog=catalog_name,
            schema=schema_name,
            development=True,
            configuration={"contract.version": "2"},
        )

        fetched = client.pipelines.get(pipeline_id)
        assert fetched.name == f"{name}_renamed"
        assert fetched.spec is not None
        assert fetched.spec.configuration == {"contract.version": "2"}
        assert (fetched.spec.catalog, fetched.spec.schema) == (catalog_name, schema_name)
    finally:
        client.pipelines.delete(pipeline_id)


def test_job_schedule_must_be_quartz(client: WorkspaceClient, name: str) -> None:
    with pytest.raises(InvalidParameterValue, match="Quartz"):
        client.jobs.create(
            name=name,
            schedule=jobs.CronSchedule(quartz_cron_expression="0 2 * * *", timezone_id="UTC"),
        )


def test_job_lifecycle(client: WorkspaceClient, name: str) -> None:
    schedule = jobs.CronSchedule(quartz_cron_expression="0 0 2 * * ?", timezone_id="UTC")
    job_id = client.jobs.create(name=name, schedule=schedule).job_id or 0
    try:
        new = jobs.JobSettings(
            name=name,
            schedule=jobs.CronSchedule(quartz_cron_expression="0 30 3 * * ?", timezone_id="UTC"),
        )
        client.jobs.reset(job_id, new_settings=new)
        fetched = client.jobs.get(job_id)
        assert fetched.settings is not None
        assert fetched.settings.schedule is not None
        assert fetched.settings.schedule.quartz_cron_expression == "0 30 3 * * ?"
        assert [j.job_id for j in client.jobs.list(name=name)] == [job_id]
        run_id = client.jobs.run_now(job_id).run_id
        assert client.jobs.get_run(run_id or 0).job_id == job_id
    finally:
        client.jobs.delete(job_id)


def test_rotating_a_token_issues_a_new_activation_link(client: WorkspaceClient, name: str) -> None:
    created = client.recipients.create(name, sharing.AuthenticationType.TOKEN)
    try:
        rotated = client.recipients.rotate_token(name, existing_token_expire_in_seconds=0)
        assert rotated.tokens
        assert created.tokens
        assert rotated.tokens[0].activation_url != created.tokens[0].activation_url
    finally:
        client.recipients.delete(name)


def test_deleting_a_recipient_revokes_its_grants(
    client: WorkspaceClient, share: str, name: str
) -> None:
    client.recipients.create(name, sharing.AuthenticationType.TOKEN)
    client.shares.update_permissions(
        share, changes=[sharing.PermissionsChange(principal=name, add=["SELECT"])]
    )
    permissions = client.recipients.share_permissions(name).permissions_out or []
    assert [p.share_name for p in permissions] == [share]

    client.recipients.delete(name)

    assert not client.shares.share_permissions(share).privilege_assignments


def test_job_update_merges_new_settings_and_removes_fields(
    client: WorkspaceClient, name: str
) -> None:
    nightly = jobs.CronSchedule(quartz_cron_expression="0 0 2 * * ?", timezone_id="UTC")
    job_id = client.jobs.create(name=name, schedule=nightly, tags={"team": "contract"}).job_id
    assert job_id
    try:
        later = jobs.CronSchedule(quartz_cron_expression="0 30 3 * * ?", timezone_id="UTC")
        client.jobs.update(
            job_id, new_settings=jobs.JobSettings(schedule=later), fields_to_remove=["tags"]
        )

        settings = client.jobs.get(job_id).settings
        assert settings is not None
        assert settings.name == name
        assert settings.schedule is not None
        assert settings.schedule.quartz_cron_expression == "0 30 3 * * ?"
        assert not settings.tags
    finally:
        client.jobs.delete(job_id)


def test_updating_a_shared_object_changes_its_comment_and_keeps_the_rest(
    client: WorkspaceClient, share: str, tables: list[str]
) -> None:
    client.shares.update(share, updates=[_add(tables[0], comment="first")])
    (before,) = client.shares.get(share, include_shared_data=True).objects or []

    update = _change(sharing.SharedDataObjectUpdateAction.UPDATE, tables[0], comment="second")
    client.shares.update(share, updates=[update])

    (after,) = client.shares.get(share, include_shared_data=True).objects or []
    assert before.comment == "first"
    assert after.comment == "second"
    assert (after.name, after.shared_as, after.added_at, after.added_by) == (
        before.name,
        before.shared_as,
        before.added_at,
        before.added_by,
    )


def test_removing_a_shared_object_leaves_the_others(
    client: WorkspaceClient, share: str, tables: list[str]
) -> None:
    if len(tables) < 2:
        pytest.skip("needs 2 tables to share; SHAREPACK_CONTRACT_TABLES names 1")
    kept, removed = tables[0], tables[1]
    client.shares.update(share, updates=[_add(kept), _add(removed)])

    remove = _change(sharing.SharedDataObjectUpdateAction.REMOVE, removed)
    client.shares.update(share, updates=[remove])

    objects = client.shares.get(share, include_shared_data=True).objects or []
    assert [o.name for o in objects] == [kept]


def test_catalog_get_describes_the_catalog(client: WorkspaceClient, tables: list[str]) -> None:
    catalog_name, _ = _schema_of(tables[0])

    fetched = client.catalogs.get(catalog_name)

    assert fetched.name == catalog_name
    assert fetched.full_name == catalog_name
    with pytest.raises(NotFound, match="Catalog 'contract_missing_catalog' does not exist"):
        client.catalogs.get("contract_missing_catalog")


def test_schema_get_describes_the_schema(client: WorkspaceClient, tables: list[str]) -> None:
    catalog_name, schema_name = _schema_of(tables[0])

    fetched = client.schemas.get(f"{catalog_name}.{schema_name}")

    assert (fetched.catalog_name, fetched.name) == (catalog_name, schema_name)
    assert fetched.full_name == f"{catalog_name}.{schema_name}"
    missing = f"{catalog_name}.contract_missing_schema"
    with pytest.raises(NotFound, match=f"Schema '{missing}' does not exist"):
        client.schemas.get(missing)
