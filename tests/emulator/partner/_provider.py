"""The provider's side of the partner tests, through the real databricks-sdk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import sharing

from tests.emulator.partner.profile import partner_profile

ADD = sharing.SharedDataObjectUpdateAction.ADD
REMOVE = sharing.SharedDataObjectUpdateAction.REMOVE
Kind = sharing.SharedDataObjectDataObjectType


def table(name: str, **fields: Any) -> sharing.SharedDataObject:
    return sharing.SharedDataObject(name=name, data_object_type=Kind.TABLE, **fields)


def schema(name: str) -> sharing.SharedDataObject:
    return sharing.SharedDataObject(name=name, data_object_type=Kind.SCHEMA)


def region_equals(value: str | None = None, *, property_key: str | None = None) -> list[Any]:
    """One partition specification: `region` EQUAL a value or a recipient property."""
    return [
        sharing.Partition(
            values=[
                sharing.PartitionValue(
                    name="region",
                    op=sharing.PartitionValueOp.EQUAL,
                    value=value,
                    recipient_property_key=property_key,
                )
            ]
        )
    ]


def recipient(
    client: WorkspaceClient, name: str, properties: dict[str, str] | None = None, **fields: Any
) -> sharing.RecipientInfo:
    kvpairs = sharing.SecurablePropertiesKvPairs(properties=properties) if properties else None
    return client.recipients.create(
        name=name,
        authentication_type=sharing.AuthenticationType.TOKEN,
        properties_kvpairs=kvpairs,
        **fields,
    )


def share(
    client: WorkspaceClient, name: str, *objects: sharing.SharedDataObject, to: str | None = None
) -> None:
    """Create share `name` holding `objects`, granted to recipient `to` when given."""
    client.shares.create(name=name)
    if objects:
        client.shares.update(
            name=name,
            updates=[sharing.SharedDataObjectUpdate(action=ADD, data_object=o) for o in objects],
        )
    if to:
        grant(client, name, to)


def grant(client: WorkspaceClient, share_name: str, principal: str) -> None:
    change = sharing.PermissionsChange(principal=principal, add=["SELECT"])
    client.shares.update_permissions(name=share_name, changes=[change])


def revoke(client: WorkspaceClient, share_name: str, principal: str) -> None:
    change = sharing.PermissionsChange(principal=principal, remove=["SELECT"])
    client.shares.update_permissions(name=share_name, changes=[change])


def remove(client: WorkspaceClient, share_name: str, object_name: str) -> None:
    update = sharing.SharedDataObjectUpdate(
        action=REMOVE, data_object=sharing.SharedDataObject(name=object_name)
    )
    client.shares.update(name=share_name, updates=[update])


class Partner:
    """A partner holding a profile: plain protocol calls next to the real client's."""

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        credential = json.loads(profile.read_text("utf-8"))
        self.endpoint: str = credential["endpoint"]
        self.token: str = credential["bearerToken"]

    @classmethod
    def of(cls, client: WorkspaceClient, name: str, directory: Path) -> Partner:
        return cls(partner_profile(client, name, directory))

    def get(self, path: str, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.get(f"{self.endpoint}{path}", params=params, headers=headers)

    def query(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.post(f"{self.endpoint}{path}/query", json=body or {}, headers=headers)

    def url(self, share_schema_table: str) -> str:
        return f"{self.profile}#{share_schema_table}"
