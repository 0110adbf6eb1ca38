"""Error classes and messages a caller sees through the SDK: ownership, D2D, objects, tokens."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, PermissionDenied
from databricks.sdk.service import sharing

from databricks_emulator.server import EmulatorServer
from tests.emulator._support import REAL, api_calls, contract_tables, emulator_only

OTHER_OWNER = "someone-else@example.com"
OWNERSHIP = "needs a caller who is not the owner; a metastore admin keeps its rights on a workspace"


@pytest.fixture
def share(client: WorkspaceClient, name: str) -> Iterator[str]:
    client.shares.create(name)
    yield name
    if REAL:  # on the emulator the next reset clears it, even once handed over
        client.shares.delete(name)


def _object(
    table: str, kind: sharing.SharedDataObjectDataObjectType | None = None
) -> sharing.SharedDataObjectUpdate:
    return sharing.SharedDataObjectUpdate(
        action=sharing.SharedDataObjectUpdateAction.ADD,
        data_object=sharing.SharedDataObject(name=table, data_object_type=kind),
    )


@emulator_only(OWNERSHIP)
def test_recipient_handed_to_another_owner_cannot_be_updated(
    client: WorkspaceClient, name: str
) -> None:
    client.recipients.create(name, sharing.AuthenticationType.TOKEN, owner=OTHER_OWNER)

    with pytest.raises(PermissionDenied, match=r"^User is not an owner of Recipient"):
        client.recipients.update(name, comment="mine now")
    assert client.recipients.get(name).comment is None


@emulator_only(OWNERSHIP)
def test_recipient_handed_to_another_owner_cannot_be_deleted(
    client: WorkspaceClient, name: str
) -> None:
    client.recipients.create(name, sharing.AuthenticationType.TOKEN)
    client.recipients.update(name, owner=OTHER_OWNER)

    with pytest.raises(PermissionDenied, match=r"^User is not an owner of Recipient"):
        client.recipients.delete(name)
    assert client.recipients.get(name).owner == OTHER_OWNER


@emulator_only(OWNERSHIP)
def test_share_handed_to_another_owner_cannot_be_updated(
    client: WorkspaceClient, share: str
) -> None:
    client.shares.update(share, owner=OTHER_OWNER)

    with pytest.raises(PermissionDenied, match=r"^User is not an owner of Share"):
        client.shares.update(share, comment="mine now")
    assert client.shares.get(share).comment is None


@emulator_only(OWNERSHIP)
def test_share_handed_to_another_owner_cannot_be_deleted(
    client: WorkspaceClient, share: str
) -> None:
    client.shares.update(share, owner=OTHER_OWNER)

    with pytest.raises(PermissionDenied, match=r"^User is not an owner of Share"):
        client.shares.delete(share)
    assert client.shares.get(share).owner == OTHER_OWNER


def test_second_databricks_recipient_for_one_metastore_is_refused(
    client: WorkspaceClient, name: str
) -> None:
    sharing_id = os.environ.get("SHAREPACK_CONTRACT_SHARING_ID") if REAL else None
    if REAL and not sharing_id:
        pytest.skip("set SHAREPACK_CONTRACT_SHARING_ID to a recipient metastore's identifier")
    sharing_id = sharing_id or f"aws:us-west-2:{uuid.uuid4()}"
    client.recipients.create(
        name, sharing.AuthenticationType.DATABRICKS, data_recipient_global_metastore_id=sharing_id
    )
    try:
        with pytest.raises(InvalidParameterValue, match=r"^There is already a Recipient object"):
            client.recipients.create(
                f"{name}_again",
                sharing.AuthenticationType.DATABRICKS,
                data_recipient_global_metastore_id=sharing_id,
            )
    finally:
        client.recipients.delete(name)


def test_table_cannot_be_added_as_a_view(client: WorkspaceClient, share: str) -> None:
    table = contract_tables()[0]
    view = sharing.SharedDataObjectDataObjectType.VIEW

    with pytest.raises(InvalidParameterValue, match="is a table and not a VIEW"):
        client.shares.update(share, updates=[_object(table, view)])
    assert not client.shares.get(share, include_shared_data=True).objects


def test_one_patch_adding_the_same_object_twice_is_refused(
    client: WorkspaceClient, share: str
) -> None:
    table = contract_tables()[0]

    with pytest.raises(InvalidParameterValue, match="duplicate"):
        client.shares.update(share, updates=[_object(table), _object(table)])
    assert not client.shares.get(share, include_shared_data=True).objects


def test_wrong_token_is_refused(emulator: EmulatorServer) -> None:
    host = os.environ["DATABRICKS_HOST"] if REAL else emulator.url
    intruder = WorkspaceClient(host=host, token="dapi-wrong-token", auth_type="pat")

    with pytest.raises(PermissionDenied, match=r"^Invalid access token\."):
        list(intruder.shares.list_shares())


@emulator_only("starts an emulator of its own with a token of its own")
def test_emulator_started_with_a_token_checks_it() -> None:
    with EmulatorServer(token="dapi-right") as server:
        wrong = WorkspaceClient(host=server.url, token="dapi-wrong", auth_type="pat")
        right = WorkspaceClient(host=server.url, token="dapi-right", auth_type="pat")

        with pytest.raises(PermissionDenied, match=r"^Invalid access token\."):
            wrong.recipients.create("r", sharing.AuthenticationType.TOKEN)
        created = right.recipients.create("r", sharing.AuthenticationType.TOKEN)

        assert created.name == "r"
        assert api_calls(server, r"/recipients$") == [("POST", 403), ("POST", 200)]
