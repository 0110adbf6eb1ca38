"""The action types: one per kind, each inverse undone by its own inverse."""

from __future__ import annotations

from dataclasses import replace

from sharepack.engine import plan
from sharepack.engine.actions import (
    ACTION_TYPES,
    ActionKind,
    DeletePipeline,
    DeleteScheduleJob,
    Nothing,
    PlanAction,
    UpdatePipeline,
    UpdateRecipient,
    UpdateScheduleJob,
    UpdateShareComment,
    UpdateShareObjectOptions,
)
from sharepack.engine.serialise import action_from_dict, action_to_dict
from sharepack.workspace.state import (
    AuthenticationType,
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareObjectState,
    WorkspaceState,
)
from tests.engine.test_plan import _pipeline_pack
from tests.engine.test_plan_prune import planned

SOURCE_ONLY = WorkspaceState(existing_objects=frozenset({"raw_catalog.sales.transactions"}))
WAS = RecipientState("acme", AuthenticationType.TOKEN, "old", ("10.0.0.1",))
FEED = PipelineState(name="feed", source_asset="raw.s.t", target_asset="prod.s.t")
JOB = ScheduleJobState(name="feed_schedule", pipeline_name="feed", quartz_cron="0 0 2 * * ?")
UPDATES: list[PlanAction] = [
    UpdateRecipient("u1", "acme", recipient=replace(WAS, comment="new"), before=WAS),
    UpdateShareComment("u2", "sales", comment="new", before_comment="old"),
    UpdatePipeline("u3", "feed", pipeline=replace(FEED, scd_type="1"), before_pipeline=FEED),
    UpdateScheduleJob("u4", JOB.name, job=replace(JOB, timezone="CET"), before_job=JOB),
    DeleteScheduleJob("u5", JOB.name, before_job=JOB),
    UpdateShareObjectOptions(
        "u6",
        "sales",
        changed_objects=(ShareObjectState("a.b.c", cdf_enabled=True),),
        before_objects=(ShareObjectState("a.b.c"),),
    ),
]


def _actions() -> list[PlanAction]:
    return [*planned().actions, *plan(_pipeline_pack(), SOURCE_ONLY).actions, *UPDATES]


def test_the_actions_here_are_of_every_kind_a_plan_makes() -> None:
    undo_only = {ActionKind.DELETE_PIPELINE, ActionKind.NOTHING}
    assert {a.kind for a in _actions()} == set(ActionKind) - undo_only


def test_every_kind_has_its_type_and_each_type_holds_its_kind() -> None:
    assert set(ACTION_TYPES) == set(ActionKind)
    for kind, action_type in ACTION_TYPES.items():
        assert action_type.kind is kind


def test_the_inverse_of_an_inverse_makes_the_same_call() -> None:
    for action in _actions():
        undo = action.inverse()
        if isinstance(undo, Nothing | DeletePipeline):
            continue  # the table a pipeline produced, or the pipeline, is not brought back
        assert undo is not None, action.action_id
        again = undo.inverse()
        assert again is not None, action.action_id
        assert replace(again, action_id=action.action_id, depends_on=action.depends_on) == action


def test_every_action_and_its_inverse_survive_the_journal() -> None:
    for action in _actions():
        undo = action.inverse()
        for value in (action, undo) if undo is not None else (action,):
            assert action_from_dict(action_to_dict(value)) == value
