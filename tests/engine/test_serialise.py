"""Snapshots and journal entries keep every field a rollback restores, and old ones still load."""

from __future__ import annotations

from sharepack.engine.actions import ActionKind, PlanAction
from sharepack.engine.serialise import (
    action_from_dict,
    action_to_dict,
    state_from_dict,
    state_to_dict,
)
from sharepack.workspace.state import (
    AuthenticationType,
    DataObjectType,
    HistoryDataSharingStatus,
    Partition,
    PartitionOp,
    PartitionValue,
    RecipientState,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)

TABLE = "prod_catalog.sales.orders"
RECIPIENT = RecipientState(
    name="leaver",
    authentication_type=AuthenticationType.TOKEN,
    comment="Leaving partner",
    allowed_ips=("10.2.0.0/16",),
    contact_email="l@partner.example.com",
    properties=(("country", "PT"), ("partner.tier", "gold")),
    expiration_time=1_900_000_000_000,
    owner="data-team",
)
OBJECT = ShareObjectState(
    name=TABLE,
    data_object_type=DataObjectType.MATERIALIZED_VIEW,
    shared_as="partner.orders",
    comment="orders",
    cdf_enabled=True,
    history_data_sharing_status=HistoryDataSharingStatus.ENABLED,
    start_version=7,
    partitions=(
        Partition(
            values=(
                PartitionValue(name="region", op=PartitionOp.LIKE, value="eu%"),
                PartitionValue(name="tier", recipient_property_key="partner.tier"),
            )
        ),
        Partition(values=(PartitionValue(name="region", value=None),)),
    ),
)
SCHEMA = ShareObjectState(
    name="prod_catalog.sales", data_object_type=DataObjectType.SCHEMA, comment="all of sales"
)


def test_a_snapshot_round_trips_every_recipient_and_object_field() -> None:
    state = WorkspaceState(
        recipients={"leaver": RECIPIENT},
        shares={"gone": ShareState(name="gone", objects=(OBJECT, SCHEMA))},
    )

    assert state_from_dict(state_to_dict(state)) == state


def test_a_journaled_prune_round_trips_what_it_removed_and_deleted() -> None:
    removal = PlanAction(
        "retire-share-objects:gone:1",
        ActionKind.UPDATE_SHARE_OBJECTS,
        "gone",
        remove_objects=(TABLE,),
        removed_states=(OBJECT,),
    )
    deletion = PlanAction(
        "delete-recipient:leaver", ActionKind.DELETE_RECIPIENT, "leaver", before=RECIPIENT
    )

    for action in (removal, deletion):
        assert action_from_dict(action_to_dict(action)) == action


def test_a_snapshot_written_before_the_new_fields_loads_with_their_defaults() -> None:
    old = {
        "recipients": [
            {
                "name": "leaver",
                "authentication_type": "TOKEN",
                "comment": "",
                "allowed_ips": [],
                "metastore_id": None,
                "contact_email": None,
            }
        ],
        "shares": [
            {
                "name": "gone",
                "comment": "",
                "objects": [{"name": TABLE, "type": "TABLE", "shared_as": "sales.orders"}],
                "grantees": [],
            }
        ],
        "existing_objects": [],
    }

    state = state_from_dict(old)

    assert state.recipients["leaver"] == RecipientState(
        name="leaver", authentication_type=AuthenticationType.TOKEN
    )
    assert state.shares["gone"].objects == (ShareObjectState(name=TABLE, shared_as="sales.orders"),)
