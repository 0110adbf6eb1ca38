"""Every field a client sets on a recipient or a shared object reads back as it was set.

The fields and their rules are those of databricks-sdk 0.156 (`databricks/sdk/service/
sharing.py`: `RecipientInfo`, `SharedDataObject`, `PartitionValue`) and the public REST
reference (https://docs.databricks.com/api/workspace/shares/update).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue
from databricks.sdk.service import sharing

from tests.emulator._support import contract_tables

DAY_MS = 86_400_000
ADD = sharing.SharedDataObjectUpdateAction.ADD
SERVER_FILLED = ("added_at", "added_by", "status")


@pytest.fixture
def share(client: WorkspaceClient, name: str) -> Iterator[str]:
    client.shares.create(name)
    yield name
    client.shares.delete(name)


@pytest.fixture
def recipient(client: WorkspaceClient, name: str) -> Iterator[str]:
    yield name
    client.recipients.delete(name)


def _client_fields(obj: sharing.SharedDataObject) -> dict[str, object]:
    return {k: v for k, v in obj.as_dict().items() if k not in SERVER_FILLED}


def _add(share: str, client: WorkspaceClient, obj: sharing.SharedDataObject) -> None:
    client.shares.update(
        share, updates=[sharing.SharedDataObjectUpdate(action=ADD, data_object=obj)]
    )


def test_a_recipient_keeps_its_properties_and_expiration_time(
    client: WorkspaceClient, recipient: str
) -> None:
    expires = int(time.time() * 1000) + 30 * DAY_MS
    properties = {"partner.tier": "gold", "country": "PT"}

    client.recipients.create(
        recipient,
        sharing.AuthenticationType.TOKEN,
        expiration_time=expires,
        properties_kvpairs=sharing.SecurablePropertiesKvPairs(properties=properties),
    )

    read = client.recipients.get(recipient)
    assert read.expiration_time == expires
    assert read.properties_kvpairs is not None
    assert read.properties_kvpairs.properties == properties


def test_updating_properties_replaces_them_whole(client: WorkspaceClient, recipient: str) -> None:
    """SDK `RecipientInfo.properties_kvpairs`: "When provided in update request, the specified
    properties will override the existing properties" (a read-modify-write adds one)."""
    client.recipients.create(
        recipient,
        sharing.AuthenticationType.TOKEN,
        properties_kvpairs=sharing.SecurablePropertiesKvPairs(properties={"a": "1", "b": "2"}),
    )

    client.recipients.update(
        recipient, properties_kvpairs=sharing.SecurablePropertiesKvPairs(properties={"c": "3"})
    )

    read = client.recipients.get(recipient)
    assert read.properties_kvpairs is not None
    assert read.properties_kvpairs.properties == {"c": "3"}


def test_an_added_table_keeps_every_field_the_client_set(
    client: WorkspaceClient, share: str
) -> None:
    table = contract_tables()[0]
    added = sharing.SharedDataObject(
        name=table,
        data_object_type=sharing.SharedDataObjectDataObjectType.TABLE,
        comment="orders for the partner",
        cdf_enabled=True,
        history_data_sharing_status=sharing.SharedDataObjectHistoryDataSharingStatus.ENABLED,
        start_version=3,
        shared_as="partner.orders_v2",
        partitions=[
            sharing.Partition(
                values=[
                    sharing.PartitionValue(
                        name="region", op=sharing.PartitionValueOp.EQUAL, value="eu"
                    ),
                    sharing.PartitionValue(
                        name="tier",
                        op=sharing.PartitionValueOp.EQUAL,
                        recipient_property_key="partner.tier",
                    ),
                ]
            )
        ],
    )

    _add(share, client, added)

    (read,) = client.shares.get(share, include_shared_data=True).objects or []
    assert _client_fields(read) == _client_fields(added)


def test_history_sharing_is_disabled_unless_asked_for(client: WorkspaceClient, share: str) -> None:
    """SDK `SharedDataObject.history_data_sharing_status`: "If not specified, the default is
    **DISABLED**"."""
    _add(share, client, sharing.SharedDataObject(name=contract_tables()[0]))

    (read,) = client.shares.get(share, include_shared_data=True).objects or []
    assert (
        read.history_data_sharing_status
        is sharing.SharedDataObjectHistoryDataSharingStatus.DISABLED
    )


def test_a_partition_value_cannot_also_name_a_recipient_property(
    client: WorkspaceClient, share: str
) -> None:
    """SDK `PartitionValue.recipient_property_key`: "When this field is set, field `value`
    can not be set" (and the reverse, on `value`)."""
    both = sharing.PartitionValue(
        name="region", op=sharing.PartitionValueOp.EQUAL, value="eu", recipient_property_key="r"
    )
    obj = sharing.SharedDataObject(
        name=contract_tables()[0], partitions=[sharing.Partition(values=[both])]
    )

    with pytest.raises(InvalidParameterValue):
        _add(share, client, obj)

    assert not client.shares.get(share, include_shared_data=True).objects


def test_a_table_is_aliased_with_shared_as_not_string_shared_as(
    client: WorkspaceClient, share: str
) -> None:
    """SDK `SharedDataObject.string_shared_as`: "For table-like objects, this field must be
    omitted entirely"."""
    obj = sharing.SharedDataObject(name=contract_tables()[0], string_shared_as="sales.orders")

    with pytest.raises(InvalidParameterValue):
        _add(share, client, obj)
