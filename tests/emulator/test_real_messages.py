"""The service's own words: each failure's exception class and message, with its source.

Each test drives the emulator (or, in REAL mode, a workspace) through databricks-sdk and
asserts what a caller would match on. A comment names the public source of the text: a
repository and file, or an issue. Texts no public source gives are marked `unverified`:
the emulator keeps a sensible one, and a real workspace may word it otherwise.

Sources quoted below:
- DELTASHARE_API: NitinKeshavB/deltashare_api, `src/dbrx_api/dltshr/recipient.py` and
  `src/dbrx_api/dltshr/share.py`, a service over databricks-sdk that matches on the
  workspace's messages ("Cannot resolve target shard", "There is already a Recipient
  object", "There are already two activated tokens for recipient", "non-TOKEN
  authentication type", "Cannot extend the token expiration time", "User is not an owner of
  Recipient", "User is not an owner of Share", "is a table and not a VIEW").
- SDK: databricks-sdk 0.156 docstrings (`databricks/sdk/service/sharing.py`).
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    BadRequest,
    InvalidParameterValue,
    NotFound,
    PermissionDenied,
    ResourceAlreadyExists,
)
from databricks.sdk.service import sharing

from databricks_emulator.server import EmulatorServer
from tests.emulator._support import EMULATOR_TOKEN, REAL, contract_tables, emulator_only

DELTASHARE_API = "NitinKeshavB/deltashare_api src/dbrx_api/dltshr/"
OTHER_OWNER = "someone-else@example.com"
ADD = sharing.SharedDataObjectUpdateAction.ADD
UPDATE = sharing.SharedDataObjectUpdateAction.UPDATE


@pytest.fixture
def share(client: WorkspaceClient, name: str) -> Iterator[str]:
    client.shares.create(name)
    yield name
    if REAL:
        client.shares.delete(name)


def _update(
    action: sharing.SharedDataObjectUpdateAction, **fields: object
) -> sharing.SharedDataObjectUpdate:
    return sharing.SharedDataObjectUpdate(
        action=action,
        data_object=sharing.SharedDataObject(**fields),  # type: ignore[arg-type]
    )


def _objects(client: WorkspaceClient, share: str) -> list[str]:
    return [o.name for o in client.shares.get(share, include_shared_data=True).objects or []]


# Names taken


def test_a_recipient_name_taken_is_refused_on_create_and_on_rename(
    client: WorkspaceClient, name: str
) -> None:
    # unverified: "Recipient '<name>' already exists" (RESOURCE_ALREADY_EXISTS, 409) is the
    # project's note of a real answer; no public source quotes it.
    client.recipients.create(name, sharing.AuthenticationType.TOKEN)
    client.recipients.create(f"{name}_b", sharing.AuthenticationType.TOKEN)
    try:
        with pytest.raises(ResourceAlreadyExists, match=rf"^Recipient '{name}' already exists"):
            client.recipients.create(name, sharing.AuthenticationType.TOKEN)
        with pytest.raises(ResourceAlreadyExists, match=rf"^Recipient '{name}' already exists"):
            client.recipients.update(f"{name}_b", new_name=name)
    finally:
        client.recipients.delete(name)
        client.recipients.delete(f"{name}_b")


def test_a_share_name_taken_is_refused_on_create_and_on_rename(
    client: WorkspaceClient, share: str
) -> None:
    # unverified: "Share '<name>' already exists" (RESOURCE_ALREADY_EXISTS, 409), as above.
    client.shares.create(f"{share}_b")
    try:
        with pytest.raises(ResourceAlreadyExists, match=rf"^Share '{share}' already exists"):
            client.shares.create(share)
        with pytest.raises(ResourceAlreadyExists, match=rf"^Share '{share}' already exists"):
            client.shares.update(f"{share}_b", new_name=share)
    finally:
        client.shares.delete(f"{share}_b")


# Databricks-to-Databricks recipients


@pytest.mark.parametrize(
    "sharing_id",
    [
        pytest.param("not-a-sharing-identifier", id="malformed"),
        pytest.param(f"ibm:us-south:{uuid.UUID(int=7)}", id="unknown-cloud"),
    ],
)
def test_a_sharing_identifier_that_names_no_metastore_is_refused(
    client: WorkspaceClient, name: str, sharing_id: str
) -> None:
    # DELTASHARE_API recipient.py matches "Cannot resolve target shard" on create.
    # unverified: the error code (INVALID_PARAMETER_VALUE) and the rest of the sentence.
    with pytest.raises(InvalidParameterValue, match="Cannot resolve target shard"):
        client.recipients.create(
            name,
            sharing.AuthenticationType.DATABRICKS,
            data_recipient_global_metastore_id=sharing_id,
        )


@emulator_only("a second recipient needs a metastore that has none yet; see test_errors.py")
def test_a_second_databricks_recipient_for_one_metastore_is_refused(
    client: WorkspaceClient, name: str
) -> None:
    # DELTASHARE_API recipient.py matches "There is already a Recipient object";
    # terraform-provider-databricks issue #3930: "it is only allowed to have one recipient".
    # unverified: the error code (INVALID_PARAMETER_VALUE).
    sharing_id = f"aws:us-west-2:{uuid.uuid4()}"
    client.recipients.create(
        name, sharing.AuthenticationType.DATABRICKS, data_recipient_global_metastore_id=sharing_id
    )

    with pytest.raises(InvalidParameterValue, match=r"^There is already a Recipient object"):
        client.recipients.create(
            f"{name}_again",
            sharing.AuthenticationType.DATABRICKS,
            data_recipient_global_metastore_id=sharing_id,
        )


# Token rotation


def test_a_third_active_token_is_refused(client: WorkspaceClient, name: str) -> None:
    # DELTASHARE_API recipient.py: "There are already two activated tokens for recipient".
    client.recipients.create(name, sharing.AuthenticationType.TOKEN)
    try:
        client.recipients.rotate_token(name, existing_token_expire_in_seconds=3600)

        with pytest.raises(
            InvalidParameterValue, match=r"^There are already two activated tokens for recipient"
        ):
            client.recipients.rotate_token(name, existing_token_expire_in_seconds=3600)
    finally:
        client.recipients.delete(name)


@emulator_only("needs a metastore identifier the workspace accepts")
def test_rotating_a_databricks_recipient_is_refused(client: WorkspaceClient, name: str) -> None:
    # DELTASHARE_API recipient.py matches "non-TOKEN authentication type" on rotate.
    client.recipients.create(
        name,
        sharing.AuthenticationType.DATABRICKS,
        data_recipient_global_metastore_id=f"aws:us-west-2:{uuid.uuid4()}",
    )

    with pytest.raises(InvalidParameterValue, match="non-TOKEN authentication type"):
        client.recipients.rotate_token(name, existing_token_expire_in_seconds=0)


def test_rotation_cannot_push_an_old_token_s_expiry_back(
    client: WorkspaceClient, name: str
) -> None:
    # DELTASHARE_API recipient.py: "Cannot extend the token expiration time"; SDK
    # `RecipientsAPI.rotate_token`: "it cannot extend the expiration_time".
    in_an_hour = int(time.time() * 1000) + 3_600_000
    client.recipients.create(name, sharing.AuthenticationType.TOKEN, expiration_time=in_an_hour)
    try:
        with pytest.raises(InvalidParameterValue, match=r"^Cannot extend the token expiration"):
            client.recipients.rotate_token(name, existing_token_expire_in_seconds=7200)
        client.recipients.rotate_token(name, existing_token_expire_in_seconds=60)
    finally:
        client.recipients.delete(name)


def test_a_negative_expiry_for_the_old_token_is_refused(client: WorkspaceClient, name: str) -> None:
    # SDK `RecipientsAPI.rotate_token`: "negative number will return an error".
    # unverified: the text.
    client.recipients.create(name, sharing.AuthenticationType.TOKEN)
    try:
        with pytest.raises(InvalidParameterValue, match="existing_token_expire_in_seconds"):
            client.recipients.rotate_token(name, existing_token_expire_in_seconds=-1)
    finally:
        client.recipients.delete(name)


# Ownership


@emulator_only("needs a caller who is not the owner; a metastore admin keeps its rights")
@pytest.mark.parametrize("kind", ["Recipient", "Share"])
def test_only_the_owner_may_change_a_recipient_or_share(
    client: WorkspaceClient, name: str, kind: str
) -> None:
    # DELTASHARE_API recipient.py and share.py: "User is not an owner of Recipient",
    # "User is not an owner of Share".
    change: Callable[[], object]
    if kind == "Recipient":
        client.recipients.create(name, sharing.AuthenticationType.TOKEN, owner=OTHER_OWNER)
        change = functools.partial(client.recipients.update, name, comment="mine")
    else:
        client.shares.create(name)
        client.shares.update(name, owner=OTHER_OWNER)
        change = functools.partial(client.shares.update, name, comment="mine")

    with pytest.raises(PermissionDenied, match=rf"^User is not an owner of {kind} '{name}'"):
        change()


# Share objects


@emulator_only("adds 101 tables; test_emulator_contract.py runs the limit on a workspace")
def test_more_than_100_updates_in_one_patch_are_refused(
    emulator: EmulatorServer, client: WorkspaceClient, share: str
) -> None:
    # terraform-provider-databricks issue #5842 and pull request #5854: "UpdateShare number of
    # data objects to update exceeds limit 100". unverified: the error code.
    tables = [f"bench_catalog.many.t{i:03d}" for i in range(101)]
    emulator.add_tables(*tables)

    with pytest.raises(
        InvalidParameterValue,
        match=r"^UpdateShare number of data objects to update exceeds limit 100$",
    ):
        client.shares.update(share, updates=[_update(ADD, name=t) for t in tables])
    assert _objects(client, share) == []


def test_the_same_object_twice_in_one_patch_is_refused(client: WorkspaceClient, share: str) -> None:
    # terraform-provider-databricks issue #3517: "UpdateShare duplicate updates on the same
    # data object with data object type: TABLE, names: [schema_name.c]."
    table = contract_tables()[0]
    alias = ".".join(table.split(".")[1:])

    with pytest.raises(
        InvalidParameterValue,
        match=rf"^UpdateShare duplicate updates on the same data object with data object "
        rf"type: TABLE, names: \[{alias}\]\.$",
    ):
        client.shares.update(share, updates=[_update(ADD, name=table)] * 2)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        # unverified: the Table sentence; Unity Catalog words the others "Schema 'x' does not
        # exist." (databricks/cli acceptance/selftest/record_cloud/volume-io/output.txt,
        # recorded on a workspace) and "Volume 'x' does not exist." (databricks/cli
        # libs/testserver/fake_workspace.go, MapGetUC).
        pytest.param(
            {"name": "prod_catalog.sales.nowhere"},
            r"^Table 'prod_catalog\.sales\.nowhere' does not exist\.$",
            id="table",
        ),
        pytest.param(
            {"name": "prod_catalog.nowhere", "data_object_type": "SCHEMA"},
            r"^Schema 'prod_catalog\.nowhere' does not exist\.$",
            id="schema",
        ),
        pytest.param(
            {"name": "no_catalog.sales.t"},
            r"^Table 'no_catalog\.sales\.t' does not exist\.$",
            id="catalog",
        ),
    ],
)
def test_adding_an_object_that_does_not_exist_is_refused(
    client: WorkspaceClient, share: str, missing: dict[str, str], message: str
) -> None:
    kind = missing.get("data_object_type")
    update = _update(
        ADD,
        name=missing["name"],
        data_object_type=sharing.SharedDataObjectDataObjectType(kind) if kind else None,
    )

    with pytest.raises(NotFound, match=message):
        client.shares.update(share, updates=[update])


def test_a_missing_catalog_is_named_when_listing_its_schemas(client: WorkspaceClient) -> None:
    # unverified: "Catalog 'x' does not exist.", by the pattern of the Schema sentence above.
    with pytest.raises(NotFound, match=r"^Catalog 'no_catalog' does not exist\.$"):
        list(client.schemas.list("no_catalog"))


def test_a_table_cannot_be_added_as_a_view(client: WorkspaceClient, share: str) -> None:
    # DELTASHARE_API share.py matches "is a table and not a VIEW".
    view = sharing.SharedDataObjectDataObjectType.VIEW
    table = contract_tables()[0]

    with pytest.raises(InvalidParameterValue, match="is a table and not a VIEW"):
        client.shares.update(share, updates=[_update(ADD, name=table, data_object_type=view)])


@emulator_only("adds a view to the catalog")
def test_a_view_cannot_be_added_as_a_table(
    emulator: EmulatorServer, client: WorkspaceClient, share: str
) -> None:
    # unverified: "<name> is a view and not a TABLE."
    emulator.add_tables({"name": "prod_catalog.sales.v_orders", "table_type": "VIEW"})
    table = sharing.SharedDataObjectDataObjectType.TABLE

    with pytest.raises(InvalidParameterValue, match="is a view and not a TABLE"):
        client.shares.update(
            share,
            updates=[_update(ADD, name="prod_catalog.sales.v_orders", data_object_type=table)],
        )


@pytest.mark.parametrize(
    "alias",
    [
        pytest.param("catalog.schema.table", id="three-parts"),
        pytest.param("partner-schema.orders", id="hyphen"),
        pytest.param("orders", id="one-part"),
    ],
)
def test_an_alias_that_is_not_schema_dot_table_is_refused(
    client: WorkspaceClient, share: str, alias: str
) -> None:
    # SDK `SharedDataObject.shared_as`: "Must be a 2-part name <schema_name>.<table_name>",
    # "only alphanumeric characters and underscores". unverified: the text.
    table = contract_tables()[0]

    with pytest.raises(InvalidParameterValue, match=r"^Invalid shared_as name"):
        client.shares.update(share, updates=[_update(ADD, name=table, shared_as=alias)])


def test_two_objects_under_one_alias_are_refused(client: WorkspaceClient, share: str) -> None:
    # SDK `SharedDataObject.shared_as`: "The shared_as name must be unique within the share".
    # unverified: the text.
    first, second = contract_tables()[:2]
    client.shares.update(share, updates=[_update(ADD, name=first, shared_as="partner.data")])

    with pytest.raises(InvalidParameterValue, match=r"is already shared as 'partner\.data'"):
        client.shares.update(share, updates=[_update(ADD, name=second, shared_as="partner.data")])


def test_an_object_s_alias_cannot_be_changed(client: WorkspaceClient, share: str) -> None:
    # terraform-provider-databricks issue #2240: "`shared_as` is only allowed for new tables
    # in shares". unverified: the text.
    table = contract_tables()[0]
    client.shares.update(share, updates=[_update(ADD, name=table, shared_as="partner.data")])

    with pytest.raises(InvalidParameterValue, match=r"^Updating shared_as of data object"):
        client.shares.update(share, updates=[_update(UPDATE, name=table, shared_as="partner.x")])


@emulator_only("adds a view to the catalog")
@pytest.mark.parametrize(
    ("target", "kind"),
    [
        pytest.param("prod_catalog.sales", "SCHEMA", id="schema"),
        pytest.param("prod_catalog.sales.v_orders", "VIEW", id="view"),
    ],
)
def test_partitions_on_a_schema_or_view_are_refused(
    emulator: EmulatorServer, client: WorkspaceClient, share: str, target: str, kind: str
) -> None:
    # unverified: partitions filter a table's files; the text is the emulator's.
    emulator.add_tables({"name": "prod_catalog.sales.v_orders", "table_type": "VIEW"})
    region = sharing.PartitionValue(name="region", op=sharing.PartitionValueOp.EQUAL, value="eu")
    update = _update(
        ADD,
        name=target,
        data_object_type=sharing.SharedDataObjectDataObjectType(kind),
        partitions=[sharing.Partition(values=[region])],
    )

    with pytest.raises(InvalidParameterValue, match=r"^Partitions are only supported on tables"):
        client.shares.update(share, updates=[update])


def test_a_partition_value_with_both_a_value_and_a_property_key_is_refused(
    client: WorkspaceClient, share: str
) -> None:
    # SDK `PartitionValue.recipient_property_key`: "When this field is set, field `value` can
    # not be set." unverified: the text.
    both = sharing.PartitionValue(
        name="region",
        op=sharing.PartitionValueOp.EQUAL,
        value="eu",
        recipient_property_key="partner.region",
    )
    update = _update(ADD, name=contract_tables()[0], partitions=[sharing.Partition(values=[both])])

    with pytest.raises(InvalidParameterValue, match="sets both value and recipient_property_key"):
        client.shares.update(share, updates=[update])


# Metastore and share limits. unverified: the numbers (5,000 recipients and 1,000 shares a
# metastore, 1,000 objects a share) are the project's notes of Databricks' published
# limits, and the texts are the emulator's; the SDK raises BadRequest for QUOTA_EXCEEDED.


@pytest.fixture(scope="module")
def full_metastore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    """An emulator of its own at every limit: 5,000 recipients and 1,000 shares seeded, the
    first share filled with 1,000 tables, 100 a PATCH."""
    tables = [f"big_catalog.wide.t{i:04d}" for i in range(1001)]
    seed = {
        "tables": tables,
        "recipients": [{"name": f"r{i:04d}", "authentication_type": "TOKEN"} for i in range(5000)],
        "shares": [{"name": f"s{i:04d}"} for i in range(1000)],
    }
    path = tmp_path_factory.mktemp("full") / "seed.json"
    path.write_text(json.dumps(seed), "utf-8")
    with EmulatorServer(seed=path) as server:
        client = WorkspaceClient(host=server.url, token=EMULATOR_TOKEN, auth_type="pat")
        for start in range(0, 1000, 100):
            batch = tables[start : start + 100]
            client.shares.update("s0000", updates=[_update(ADD, name=t) for t in batch])
        yield server


@emulator_only("seeds an emulator of its own at the limits")
@pytest.mark.parametrize(
    ("create", "message"),
    [
        pytest.param(
            lambda c: c.recipients.create("one_more", sharing.AuthenticationType.TOKEN),
            "at most 5000 recipients",
            id="recipients",
        ),
        pytest.param(lambda c: c.shares.create("one_more"), "at most 1000 shares", id="shares"),
        pytest.param(
            lambda c: c.shares.update(
                "s0000", updates=[_update(ADD, name="big_catalog.wide.t1000")]
            ),
            "would hold 1001 data objects; the limit is 1000",
            id="objects-in-a-share",
        ),
    ],
)
def test_creating_past_a_limit_is_refused(
    full_metastore: EmulatorServer,
    create: Callable[[WorkspaceClient], object],
    message: str,
) -> None:
    client = WorkspaceClient(host=full_metastore.url, token=EMULATOR_TOKEN, auth_type="pat")

    with pytest.raises(BadRequest, match=message) as refused:
        create(client)

    assert refused.value.error_code == "QUOTA_EXCEEDED"
