"""Unity Catalog keeps every object name in lower case and finds it whatever the case."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import ResourceAlreadyExists
from databricks.sdk.service import sharing

from tests.emulator._support import contract_tables


@pytest.fixture
def mixed(client: WorkspaceClient, name: str) -> Iterator[str]:
    """A share and a recipient created under the same mixed-case name."""
    mixed_case = name.replace("contract_", "Contract_")
    client.shares.create(mixed_case)
    client.recipients.create(mixed_case, sharing.AuthenticationType.TOKEN)
    yield mixed_case
    client.shares.delete(name)
    client.recipients.delete(name)


def test_names_are_kept_in_lower_case(client: WorkspaceClient, mixed: str) -> None:
    assert client.shares.get(mixed.upper()).name == mixed.lower()
    assert client.recipients.get(mixed.upper()).name == mixed.lower()
    with pytest.raises(ResourceAlreadyExists):
        client.shares.create(mixed.lower())


def test_objects_and_grants_match_whatever_the_case(client: WorkspaceClient, mixed: str) -> None:
    table = contract_tables()[0]
    client.shares.update(
        mixed,
        updates=[
            sharing.SharedDataObjectUpdate(
                action=sharing.SharedDataObjectUpdateAction.ADD,
                data_object=sharing.SharedDataObject(name=table.upper()),
            )
        ],
    )
    client.shares.update_permissions(
        mixed.upper(),
        changes=[sharing.PermissionsChange(principal=mixed, add=["SELECT"])],
    )

    share = client.shares.get(mixed, include_shared_data=True)
    assert [o.name for o in share.objects or ()] == [table.lower()]
    grants = client.shares.share_permissions(mixed).privilege_assignments or []
    assert [g.principal for g in grants] == [mixed.lower()]
