"""Sharing options in the plan: what is changed in place, what is replaced, what is left as
the share holds it, and how each is undone."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sharepack.engine import plan
from sharepack.engine.actions import ActionKind, UpdateShareObjectOptions, UpdateShareObjects
from sharepack.engine.after import state_after
from sharepack.engine.undo import undo_step
from sharepack.errors import PlanError
from sharepack.packfile.models import (
    DataObjectKind,
    DataObjectSpec,
    HistorySharing,
    Metadata,
    PartitionSpec,
    PartitionValueSpec,
    SharePackConfig,
    ShareSpec,
    Strategy,
)
from sharepack.workspace.state import (
    DataObjectType,
    HistoryDataSharingStatus,
    Partition,
    PartitionValue,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)

ORDERS = "prod.sales.orders"
#: The share as the service answers for an object added with no options.
HELD = ShareObjectState(
    ORDERS, shared_as="sales.orders", history_data_sharing_status=HistoryDataSharingStatus.DISABLED
)
BY_REGION = PartitionSpec(values=(PartitionValueSpec(name="region", value="eu"),))


def _pack(obj: str | DataObjectSpec) -> SharePackConfig:
    return SharePackConfig(
        metadata=Metadata(
            requestor="a@example.com", project_name="P", business_line="B", strategy=Strategy.UPDATE
        ),
        shares=(ShareSpec(name="s", data_objects=(obj,)),),
    )


def _held(*objects: ShareObjectState, views: frozenset[str] = frozenset()) -> WorkspaceState:
    return WorkspaceState(
        shares={"s": ShareState("s", objects=objects)},
        existing_objects=frozenset({ORDERS, *views}),
        views=views,
    )


def _kinds(config: SharePackConfig, actual: WorkspaceState) -> list[ActionKind]:
    return [a.kind for a in plan(config, actual).actions]


def test_a_name_alone_matches_what_the_service_filled_in() -> None:
    assert _kinds(_pack(ORDERS), _held(HELD)) == []


def test_an_alias_set_by_hand_is_kept_when_the_pack_names_none() -> None:
    assert _kinds(_pack(ORDERS), _held(replace(HELD, shared_as="partner.orders"))) == []


def test_history_sharing_and_partitions_change_in_place() -> None:
    wanted = DataObjectSpec(
        name=ORDERS,
        history_data_sharing_status=HistorySharing.ENABLED,
        cdf_enabled=True,
        partitions=(BY_REGION,),
    )

    (action,) = plan(_pack(wanted), _held(HELD)).actions

    assert isinstance(action, UpdateShareObjectOptions)
    (changed,) = action.changed_objects
    assert changed.history_data_sharing_status is HistoryDataSharingStatus.ENABLED
    assert changed.cdf_enabled is True
    assert changed.partitions == (Partition((PartitionValue("region", value="eu"),)),)
    assert action.before_objects == (replace(HELD, cdf_enabled=False),)


def test_history_sharing_set_by_hand_goes_back_to_what_the_pack_declares() -> None:
    enabled = replace(HELD, history_data_sharing_status=HistoryDataSharingStatus.ENABLED)

    (action,) = plan(_pack(ORDERS), _held(enabled)).actions

    assert isinstance(action, UpdateShareObjectOptions)
    assert (
        action.changed_objects[0].history_data_sharing_status is HistoryDataSharingStatus.DISABLED
    )


def test_an_alias_change_removes_then_adds_the_object_in_two_calls() -> None:
    wanted = DataObjectSpec(name=ORDERS, shared_as="partner.orders")

    remove, add = plan(_pack(wanted), _held(HELD)).actions

    assert isinstance(remove, UpdateShareObjects)
    assert isinstance(add, UpdateShareObjects)
    assert (remove.remove_objects, remove.removed_states) == ((ORDERS,), (HELD,))
    assert [o.shared_as for o in add.add_objects] == ["partner.orders"]
    assert add.depends_on == (remove.action_id,)


def test_partitions_taken_away_are_a_replacement() -> None:
    partitioned = replace(HELD, partitions=(Partition((PartitionValue("region", value="eu"),)),))

    kinds = _kinds(_pack(ORDERS), _held(partitioned))

    assert kinds == [ActionKind.UPDATE_SHARE_OBJECTS, ActionKind.UPDATE_SHARE_OBJECTS]


def test_a_declared_type_the_catalog_contradicts_is_refused_before_anything_runs() -> None:
    wanted = DataObjectSpec(name=ORDERS, type=DataObjectKind.VIEW)

    with pytest.raises(PlanError, match="declared a VIEW, but the catalog holds a TABLE"):
        plan(_pack(wanted), _held())


def test_a_view_and_a_materialized_view_are_added_as_the_catalog_says() -> None:
    view, mv = "prod.sales.v", "prod.sales.mv"
    config = SharePackConfig(
        metadata=_pack(ORDERS).metadata,
        shares=(ShareSpec(name="s", data_objects=(view, mv)),),
    )
    actual = WorkspaceState(
        shares={"s": ShareState("s")},
        existing_objects=frozenset({view, mv}),
        views=frozenset({view}),
        object_kinds={mv: DataObjectType.MATERIALIZED_VIEW},
    )

    (action,) = plan(config, actual).actions

    assert isinstance(action, UpdateShareObjects)
    kinds = {o.name: o.data_object_type for o in action.add_objects}
    assert kinds == {view: DataObjectType.VIEW, mv: DataObjectType.MATERIALIZED_VIEW}


def test_an_option_change_is_undone_unless_another_changed_it_since() -> None:
    wanted = DataObjectSpec(name=ORDERS, history_data_sharing_status=HistorySharing.ENABLED)
    before = _held(HELD)
    (action,) = plan(_pack(wanted), before).actions
    assert isinstance(action, UpdateShareObjectOptions)
    as_left = state_after(before, (action,), {})

    step = undo_step(action, as_left)
    changed_since = replace(
        as_left.shares["s"],
        objects=(replace(as_left.shares["s"].objects[0], cdf_enabled=True),),
    )
    kept = undo_step(action, replace(as_left, shares={"s": changed_since}))

    (call,) = step.calls
    assert isinstance(call, UpdateShareObjectOptions)
    assert call.changed_objects[0].history_data_sharing_status is HistoryDataSharingStatus.DISABLED
    assert (kept.calls, kept.conflict) == ((), True)
    assert kept.kept == (
        "share 's': object 'prod.sales.orders' was changed by another since (kept)",
    )
