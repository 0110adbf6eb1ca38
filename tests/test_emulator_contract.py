"""What the SDK sees of a workspace, checked on the emulator (or a real one).

With DATABRICKS_HOST and DATABRICKS_TOKEN set, these run against that workspace instead,
so the emulator's fidelity can be checked for real; they clean up what they create. The
tables they share must then exist there (set SHAREPACK_CONTRACT_TABLES, comma-separated).
"""

from __future__ import annotations

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
from databricks.sdk.service import jobs, pipelines, sharing

from databricks_emulator.testing import EmulatorServer

REAL = bool(os.environ.get("DATABRICKS_HOST") and os.environ.get("DATABRICKS_TOKEN"))
SEEDED = [f"bench_catalog.bench.t{i:04d}" for i in range(101)]


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


def _add(table: str) -> sharing.SharedDataObjectUpdate:
    return sharing.SharedDataObjectUpdate(
        action=sharing.SharedDataObjectUpdateAction.ADD,
        data_object=sharing.SharedDataObject(name=table),
    )


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


def test_listing_pages_through_every_share(client: WorkspaceClient) -> None:
    if REAL:
        pytest.skip("creating 60 shares is for the emulator only")
    names = [f"paged_{i:03d}" for i in range(60)]
    for share_name in names:
        client.shares.create(share_name)

    listed = [s.name for s in client.shares.list_shares(max_results=25)]

    assert listed == names


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


def test_pipeline_update_completes_and_materialises_its_target(
    client: WorkspaceClient, name: str
) -> None:
    if REAL:
        pytest.skip("a real pipeline needs the sharepack notebook and source data")
    target = f"prod_catalog.sales.{name}"
    created = client.pipelines.create(
        name=name,
        catalog="prod_catalog",
        schema="sales",
        configuration={"sharepack.target_asset": target},
    )
    pipeline_id = created.pipeline_id or ""
    update_id = client.pipelines.start_update(pipeline_id).update_id or ""

    deadline = time.monotonic() + 30
    states = []
    while True:
        update = client.pipelines.get_update(pipeline_id, update_id).update
        assert update is not None
        assert update.state is not None
        if not states or states[-1] != update.state:
            states.append(update.state)
        if update.state == pipelines.UpdateInfoState.COMPLETED:
            break
        assert time.monotonic() < deadline, states
        time.sleep(0.05)

    assert states[-1] == pipelines.UpdateInfoState.COMPLETED
    assert client.tables.exists(target).table_exists
    client.pipelines.delete(pipeline_id)
    with pytest.raises(NotFound, match=f"The specified pipeline {pipeline_id} was not found"):
        client.pipelines.get(pipeline_id)
    assert not client.tables.exists(target).table_exists


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
