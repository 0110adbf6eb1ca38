"""Snapshots and journal entries keep every field a rollback restores, and old ones still load."""

from __future__ import annotations

from typing import Any

from sharepack.engine.actions import (
    DeleteRecipient,
    PlanAction,
    RunPipelineUpdate,
    UpdateRecipient,
    UpdateShareComment,
    UpdateShareObjects,
)
from sharepack.engine.serialise import (
    action_from_dict,
    action_summary,
    action_to_dict,
    before_state_to_dict,
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
    PipelineState,
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
    removal = UpdateShareObjects(
        "retire-share-objects:gone:1", "gone", remove_objects=(TABLE,), removed_states=(OBJECT,)
    )
    deletion = DeleteRecipient("delete-recipient:leaver", "leaver", before=RECIPIENT)

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


# --- actions as 0.2.0 journaled them ----------------------------------------------------------

#: What 0.2.0 stored for an action: every kind's fields, those of other kinds empty.
EMPTY_0_2_0: dict[str, Any] = {
    "recipient": None,
    "comment": "",
    "add_objects": [],
    "remove_objects": [],
    "removed_states": [],
    "add_grantees": [],
    "remove_grantees": [],
    "before": None,
    "before_comment": "",
    "before_share": None,
    "pipeline": None,
    "before_pipeline": None,
    "job": None,
    "before_job": None,
    "wait_seconds": 0.0,
}
ANALYST_0_2_0: dict[str, Any] = {
    "name": "analyst",
    "authentication_type": "TOKEN",
    "comment": "",
    "allowed_ips": ["10.0.0.1"],
    "metastore_id": None,
    "contact_email": None,
    "properties": {},
    "expiration_time": None,
    "owner": None,
}
FEED = PipelineState(name="feed", source_asset="raw.s.t", target_asset="prod.s.t")
JOURNALED_BY_0_2_0: list[tuple[dict[str, Any], PlanAction]] = [
    (
        {
            "id": "update-recipient:analyst",
            "kind": "UPDATE_RECIPIENT",
            "resource": "analyst",
            "depends_on": [],
            **EMPTY_0_2_0,
            "recipient": {**ANALYST_0_2_0, "allowed_ips": ["10.9.9.9"]},
            "before": ANALYST_0_2_0,
        },
        UpdateRecipient(
            "update-recipient:analyst",
            "analyst",
            recipient=RecipientState("analyst", AuthenticationType.TOKEN, "", ("10.9.9.9",)),
            before=RecipientState("analyst", AuthenticationType.TOKEN, "", ("10.0.0.1",)),
        ),
    ),
    (
        {
            "id": "update-share-comment:sales",
            "kind": "UPDATE_SHARE_COMMENT",
            "resource": "sales",
            "depends_on": [],
            **EMPTY_0_2_0,
            "comment": "new",
            "before_comment": "old",
        },
        UpdateShareComment(
            "update-share-comment:sales", "sales", comment="new", before_comment="old"
        ),
    ),
    (
        {
            "id": "run-pipeline:feed",
            "kind": "RUN_PIPELINE_UPDATE",
            "resource": "feed",
            "depends_on": ["create-pipeline:feed"],
            **EMPTY_0_2_0,
            "pipeline": {
                "name": "feed",
                "source_asset": "raw.s.t",
                "target_asset": "prod.s.t",
                "scd_type": "2",
                "key_columns": [],
                "continuous": False,
                "serverless": True,
                "tags": {},
                "notification": [],
                "pipeline_id": None,
                "runs_sharepack_notebook": True,
            },
            "wait_seconds": 1800.0,
        },
        RunPipelineUpdate(
            "run-pipeline:feed",
            "feed",
            depends_on=("create-pipeline:feed",),
            pipeline=FEED,
            wait_seconds=1800.0,
        ),
    ),
]


def test_an_action_journaled_by_0_2_0_reads_as_its_type_and_is_stored_the_same() -> None:
    for stored, action in JOURNALED_BY_0_2_0:
        assert action_from_dict(stored) == action
        assert action_to_dict(action) == stored
        assert list(action_to_dict(action)) == list(stored)  # the same keys, in order


def test_a_plan_shows_the_identifying_part_of_the_stored_form_and_a_description() -> None:
    _, action = JOURNALED_BY_0_2_0[2]

    assert action_summary(action) == {
        "id": "run-pipeline:feed",
        "kind": "RUN_PIPELINE_UPDATE",
        "resource": "feed",
        "depends_on": ["create-pipeline:feed"],
        "description": "run pipeline update feed",
    }


def test_the_before_state_beside_a_journaled_action_is_as_0_2_0_wrote_it() -> None:
    (_, update), (_, comment), (_, run) = JOURNALED_BY_0_2_0

    assert before_state_to_dict(update) == {
        "resource": "analyst",
        "exists": True,
        "recipient": ANALYST_0_2_0,
    }
    assert before_state_to_dict(comment) == {"resource": "sales", "exists": True, "comment": "old"}
    assert before_state_to_dict(run) == {"resource": "feed", "exists": True}
