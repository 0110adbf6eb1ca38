"""Apply on an in-memory workspace: independent actions overlap, dependent ones wait.

Concurrency is observed at the workspace (`InFlight.peak`: the most writes in flight at
once) and order from the journal (each action's start and end, as they happened); no
assertion depends on wall-clock time.
"""

from __future__ import annotations

import pytest

from sharepack.engine import Plan, apply, names_of, plan, read_names
from sharepack.engine.actions import ActionKind, PlanAction
from sharepack.engine.journal import ActionStatus
from sharepack.packfile.models import (
    Metadata,
    PipelineSpec,
    RecipientSpec,
    RecipientType,
    ScheduleSpec,
    SharePackConfig,
    ShareSpec,
)
from sharepack.workspace.memory import InMemoryWorkspace
from tests.engine.observed import InFlight, RecordingJournal

TABLE = "prod_catalog.sales.transactions"
SOURCE = "raw_catalog.sales.transactions"
TARGET = "prod_catalog.sales.concurrency_daily"


def _pack(recipients: int = 10, pipeline: PipelineSpec | None = None) -> SharePackConfig:
    names = tuple(f"concurrency-r{i:02d}" for i in range(recipients))
    objects = (TABLE, pipeline.target_asset) if pipeline else (TABLE,)
    return SharePackConfig(
        metadata=Metadata(requestor="a@example.com", project_name="P", business_line="B"),
        recipients=tuple(
            RecipientSpec(
                name=name,
                type=RecipientType.D2O,
                email=f"{name}@partner.example.com",
                allowed_ips=(f"10.{i}.0.0/16",),
            )
            for i, name in enumerate(names)
        ),
        shares=(
            ShareSpec(
                name="concurrency_share",
                recipients=names,
                data_objects=objects,
                pipelines=(pipeline,) if pipeline else (),
            ),
        ),
    )


FEED = PipelineSpec(
    name="concurrency_feed",
    source_asset=SOURCE,
    target_asset=TARGET,
    key_columns=("transaction_id",),
    schedule=ScheduleSpec(cron="0 0 2 * * ?"),
)


def _planned(config: SharePackConfig, *, until_overlap: bool = False) -> tuple[InFlight, Plan]:
    """The plan read from a workspace holding the source tables, and that workspace with
    its writes observed."""
    workspace = InMemoryWorkspace(tables=[TABLE, SOURCE])
    the_plan = plan(config, read_names(workspace, names_of(config)))
    return InFlight(workspace, until_overlap=until_overlap), the_plan


def _assert_dependencies_done_before_start(the_plan: Plan, journal: RecordingJournal) -> None:
    position = {event: index for index, event in enumerate(journal.events)}
    for action in the_plan.actions:
        started = position[(action.action_id, ActionStatus.PENDING)]
        for dependency in action.depends_on:
            done = position.get((dependency, ActionStatus.DONE))
            assert done is not None, f"{dependency} never finished"
            assert done < started, f"{action.action_id} started before {dependency} was done"


@pytest.mark.parametrize(("concurrency", "overlap"), [(8, True), (1, False)])
def test_independent_actions_overlap_only_when_concurrency_allows(
    concurrency: int, overlap: bool
) -> None:
    observed, the_plan = _planned(_pack(), until_overlap=overlap)
    journal = RecordingJournal()

    result = apply(the_plan, observed.workspace, journal, concurrency=concurrency)

    assert result.ok, result.error
    if overlap:
        assert observed.peak >= 2
        assert observed.peak <= concurrency
    else:
        assert observed.peak == 1
    assert [e.status for e in journal.entries()] == [ActionStatus.DONE] * len(the_plan.actions)


def test_at_concurrency_1_actions_run_one_after_the_other_in_plan_order() -> None:
    observed, the_plan = _planned(_pack(recipients=4))
    journal = RecordingJournal()

    apply(the_plan, observed.workspace, journal, concurrency=1)

    expected = [
        (a.action_id, status)
        for a in the_plan.actions
        for status in (ActionStatus.PENDING, ActionStatus.DONE)
    ]
    assert journal.events == expected


def test_grants_start_only_after_the_share_its_objects_and_every_recipient_are_done() -> None:
    observed, the_plan = _planned(_pack())
    journal = RecordingJournal()

    result = apply(the_plan, observed.workspace, journal, concurrency=8)

    assert result.ok, result.error
    grants = next(a for a in the_plan.actions if a.kind is ActionKind.UPDATE_SHARE_GRANTS)
    recipients = {a.action_id for a in the_plan.actions if a.kind is ActionKind.CREATE_RECIPIENT}
    assert recipients <= set(grants.depends_on)
    _assert_dependencies_done_before_start(the_plan, journal)
    # The workspace saw it the same way: the grant call came after every call it waits for.
    grant_call = observed.calls.index("update_share_grants")
    assert observed.calls[grant_call:] == ["update_share_grants"]
    assert observed.calls[:grant_call].count("create_recipient") == 10


def test_a_produced_table_is_shared_only_after_its_pipeline_is_created_and_has_run() -> None:
    observed, the_plan = _planned(_pack(recipients=3, pipeline=FEED), until_overlap=True)
    journal = RecordingJournal()

    result = apply(the_plan, observed.workspace, journal, concurrency=8)

    assert result.ok, result.error
    ids = [a.action_id for a in the_plan.actions]
    assert {"create-pipeline:concurrency_feed", "run-pipeline:concurrency_feed"} <= set(ids)
    _assert_dependencies_done_before_start(the_plan, journal)
    order = [action_id for action_id, status in journal.events if status is ActionStatus.DONE]
    assert order.index("create-pipeline:concurrency_feed") < order.index(
        "run-pipeline:concurrency_feed"
    )
    assert order.index("run-pipeline:concurrency_feed") < order.index(
        "share-objects:concurrency_share:1"
    )
    assert order.index("share-objects:concurrency_share:1") < order.index(
        "share-grants:concurrency_share"
    )
    assert observed.peak >= 2


def test_at_concurrency_above_1_the_longest_chain_starts_first() -> None:
    # The share's create has its objects and its grants waiting on it; the recipients'
    # creates have only the grants: the share goes first, so its chain is not left last.
    observed, the_plan = _planned(_pack(recipients=4))
    assert the_plan.actions[0].kind is ActionKind.CREATE_RECIPIENT
    journal = RecordingJournal()

    apply(the_plan, observed.workspace, journal, concurrency=2)

    assert journal.events[0] == ("create-share:concurrency_share", ActionStatus.PENDING)


@pytest.mark.parametrize("allowed", [1, 2])
def test_a_concurrency_callable_is_asked_before_each_start_and_bounds_the_overlap(
    allowed: int,
) -> None:
    observed, the_plan = _planned(_pack(), until_overlap=allowed > 1)
    asked: list[int] = []

    def concurrency() -> int:
        asked.append(allowed)
        return allowed

    result = apply(the_plan, observed.workspace, RecordingJournal(), concurrency=concurrency)

    assert result.ok, result.error
    assert observed.peak == allowed
    assert len(asked) >= len(the_plan.actions) // allowed


def test_ready_actions_of_different_apis_start_side_by_side() -> None:
    # Recipients come first in the plan; at two at a time, the share's create does not
    # wait behind ten recipients: each API (rate-limited apart) has one action running.
    observed, the_plan = _planned(_pack(recipients=10))
    started: list[ActionKind] = []

    def progress(action: PlanAction, status: ActionStatus) -> None:
        if status is ActionStatus.PENDING:
            started.append(action.kind)

    apply(the_plan, observed.workspace, RecordingJournal(), concurrency=2, on_progress=progress)

    assert sorted(started[:2]) == [ActionKind.CREATE_RECIPIENT, ActionKind.CREATE_SHARE]
