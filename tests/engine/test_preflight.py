"""Pre-flight conflicts and the NEW -> UPDATE switch (seeds 002 and 003), without I/O."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from sharepack.engine import PlanOptions, plan
from sharepack.engine.actions import ActionKind
from sharepack.engine.desired import desired_recipient
from sharepack.engine.plan_pipelines import desired_job, desired_pipeline
from sharepack.errors import PlanError
from sharepack.packfile.models import (
    Metadata,
    PipelineSpec,
    RecipientSpec,
    RecipientType,
    ScheduleSpec,
    SharePackConfig,
    ShareSpec,
    Strategy,
)
from sharepack.workspace.state import (
    DataObjectType,
    PipelineState,
    ScheduleJobState,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)

SOURCE = "raw_catalog.sales.transactions"
TARGET = "prod_catalog.sales.daily"
VIEW = "prod_catalog.sales.recent_view"
ANALYST = RecipientSpec(name="analyst", type=RecipientType.D2O, allowed_ips=("10.0.0.1",))
FEED = PipelineSpec(
    name="daily_feed",
    source_asset=SOURCE,
    target_asset=TARGET,
    key_columns=("transaction_id",),
    schedule=ScheduleSpec(cron="0 0 2 * * ?", timezone="UTC"),
)


def _pack(
    *,
    strategy: Strategy = Strategy.NEW,
    objects: tuple[str, ...] = (TARGET,),
    pipelines: tuple[PipelineSpec, ...] = (FEED,),
) -> SharePackConfig:
    return SharePackConfig(
        metadata=Metadata(
            requestor="a@example.com", project_name="P", business_line="B", strategy=strategy
        ),
        recipients=(ANALYST,),
        shares=(
            ShareSpec(
                name="sales", recipients=("analyst",), data_objects=objects, pipelines=pipelines
            ),
        ),
    )


def _ours() -> PipelineState:
    return replace(desired_pipeline(FEED), pipeline_id="p-1")


def _our_job() -> ScheduleJobState:
    job = desired_job(FEED)
    assert job is not None
    return replace(job, job_id=7, pipeline_id="p-1")


def _actual(
    *,
    pipeline: PipelineState | None = None,
    job: ScheduleJobState | None = None,
    applied: bool = False,
    views: frozenset[str] = frozenset(),
) -> WorkspaceState:
    shares = {}
    recipients = {}
    if applied:
        recipients = {"analyst": desired_recipient(ANALYST)}
        shares = {
            "sales": ShareState(
                name="sales",
                objects=(ShareObjectState(name=TARGET),),
                grantees=frozenset({"analyst"}),
            )
        }
    return WorkspaceState(
        recipients=recipients,
        shares=shares,
        pipelines={pipeline.name: pipeline} if pipeline else {},
        jobs={job.name: job} if job else {},
        existing_objects=frozenset({SOURCE, TARGET, *views}),
        views=views,
    )


# NEW with existing resources (seed 002)


def test_new_strategy_with_only_recipient_and_share_keeps_the_seed_002_warning() -> None:
    the_plan = plan(_pack(pipelines=()), _actual(applied=True))

    assert the_plan.warnings == (
        "Auto-switched from NEW to UPDATE: 1 recipient(s) and 1 share(s) already exist. "
        "Existing resources will be updated, new ones will be created.",
    )


def test_new_strategy_switches_to_update_when_only_a_pipeline_exists() -> None:
    the_plan = plan(_pack(), _actual(pipeline=_ours()))

    assert the_plan.strategy is Strategy.UPDATE
    assert the_plan.warnings == (
        "Auto-switched from NEW to UPDATE: 0 recipient(s), 0 share(s) and 1 pipeline(s) "
        "already exist. Existing resources will be updated, new ones will be created.",
    )


def test_existing_schedule_jobs_are_counted_too() -> None:
    the_plan = plan(_pack(), _actual(pipeline=_ours(), job=_our_job(), applied=True))

    assert the_plan.warnings == (
        "Auto-switched from NEW to UPDATE: 1 recipient(s), 1 share(s), 1 pipeline(s) and "
        "1 job(s) already exist. Existing resources will be updated, new ones will be created.",
    )
    assert the_plan.is_empty


def test_refusing_new_with_existing_resources_names_each_of_them() -> None:
    with pytest.raises(PlanError) as raised:
        plan(
            _pack(),
            _actual(pipeline=_ours(), job=_our_job(), applied=True),
            PlanOptions(fail_on_existing_with_new=True),
        )

    message = raised.value.message
    for named in (
        "Recipient 'analyst' already exists",
        "Share 'sales' already exists",
        "Pipeline 'daily_feed' already exists",
        "Job 'daily_feed_schedule' already exists",
    ):
        assert named in message
    assert "Use strategy UPDATE" in message


def test_refusal_keeps_the_seed_002_count() -> None:
    with pytest.raises(PlanError, match=re.escape("1 recipient(s) and 1 share(s) already exist")):
        plan(
            _pack(pipelines=()), _actual(applied=True), PlanOptions(fail_on_existing_with_new=True)
        )


# Conflicts (seed 003)


def test_pipeline_of_the_same_name_running_other_code_is_a_conflict() -> None:
    foreign = replace(_ours(), runs_sharepack_notebook=False, source_asset="", target_asset="")

    with pytest.raises(PlanError) as raised:
        plan(_pack(strategy=Strategy.UPDATE), _actual(pipeline=foreign))

    message = raised.value.message
    assert "Pipeline 'daily_feed' already exists and does not run sharepack's notebook" in message
    assert "rename" in message.lower()


def test_sharepack_pipeline_is_updated_not_refused() -> None:
    changed = replace(_ours(), key_columns=("other",))

    the_plan = plan(_pack(strategy=Strategy.UPDATE), _actual(pipeline=changed))

    assert ActionKind.UPDATE_PIPELINE in {a.kind for a in the_plan.actions}


def test_schedule_job_without_a_task_for_the_pipeline_is_a_conflict() -> None:
    other = replace(_our_job(), pipeline_id="someone-elses", pipeline_name="")

    with pytest.raises(PlanError) as raised:
        plan(_pack(strategy=Strategy.UPDATE), _actual(pipeline=_ours(), job=other))

    message = raised.value.message
    assert "Job 'daily_feed_schedule' already exists and has no pipeline task for pipeline " in (
        message
    )
    assert "'daily_feed'" in message


def test_schedule_job_without_any_pipeline_task_is_a_conflict_even_for_a_new_pipeline() -> None:
    notebook_job = ScheduleJobState(
        name="daily_feed_schedule", pipeline_name="", quartz_cron="", job_id=9
    )

    with pytest.raises(PlanError, match="Job 'daily_feed_schedule' already exists"):
        plan(_pack(strategy=Strategy.UPDATE), _actual(job=notebook_job))


def test_schedule_job_running_the_pipeline_is_reset_not_refused() -> None:
    moved = replace(_our_job(), quartz_cron="0 0 5 * * ?")

    the_plan = plan(_pack(strategy=Strategy.UPDATE), _actual(pipeline=_ours(), job=moved))

    assert [a.kind for a in the_plan.actions if a.resource == "daily_feed_schedule"] == [
        ActionKind.UPDATE_SCHEDULE_JOB
    ]


def test_every_conflict_is_reported_at_once() -> None:
    foreign = replace(_ours(), runs_sharepack_notebook=False)
    other = replace(_our_job(), pipeline_id=None)

    with pytest.raises(PlanError) as raised:
        plan(_pack(strategy=Strategy.UPDATE), _actual(pipeline=foreign, job=other))

    assert "Pipeline 'daily_feed'" in raised.value.message
    assert "Job 'daily_feed_schedule'" in raised.value.message


# Views


def test_a_view_is_added_as_a_view() -> None:
    the_plan = plan(_pack(objects=(VIEW,), pipelines=()), _actual(views=frozenset({VIEW})))

    (batch,) = [a for a in the_plan.actions if a.kind is ActionKind.UPDATE_SHARE_OBJECTS]
    assert batch.add_objects == (ShareObjectState(name=VIEW, data_object_type=DataObjectType.VIEW),)


def test_a_shared_view_reapplies_without_changes() -> None:
    actual = _actual(applied=True, views=frozenset({VIEW}))
    shared = ShareObjectState(name=VIEW, data_object_type=DataObjectType.VIEW)
    actual = replace(actual, shares={"sales": replace(actual.shares["sales"], objects=(shared,))})

    assert plan(_pack(strategy=Strategy.UPDATE, objects=(VIEW,), pipelines=()), actual).is_empty
