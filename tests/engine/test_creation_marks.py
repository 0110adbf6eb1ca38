"""The mark a run leaves on a job it creates: named by run and action, never a difference."""

from __future__ import annotations

from dataclasses import replace

from sharepack.engine import plan
from sharepack.engine.actions import (
    ActionKind,
    CreateScheduleJob,
    DeleteScheduleJob,
    comparable_job,
    marked,
)
from sharepack.engine.plan import ResourceNames
from sharepack.engine.rollback import differences
from sharepack.engine.serialise import action_from_dict, action_to_dict, job_from_dict
from sharepack.workspace.state import CreationMark, ScheduleJobState, WorkspaceState
from tests.engine.test_plan import _pipeline_pack

RUN = "5b1d3c2e-0000-4000-8000-00000000run1"
SOURCE_ONLY = WorkspaceState(existing_objects=frozenset({"raw_catalog.sales.transactions"}))
JOB = ScheduleJobState(
    name="daily_feed_schedule", pipeline_name="daily_feed", quartz_cron="0 0 2 * * ?"
)


def _planned_job_create() -> CreateScheduleJob:
    the_plan = plan(_pipeline_pack(), SOURCE_ONLY)
    return next(a for a in the_plan.actions if isinstance(a, CreateScheduleJob))


def test_a_job_create_is_marked_with_its_run_and_action() -> None:
    create = _planned_job_create()

    made = marked(create, RUN)

    assert isinstance(made, CreateScheduleJob)
    assert made.job.created_by == CreationMark(run=RUN, action="create-job:daily_feed_schedule")
    assert replace(made.job, created_by=None) == create.job


def test_only_job_creates_are_marked() -> None:
    the_plan = plan(_pipeline_pack(), SOURCE_ONLY)
    others = [a for a in the_plan.actions if a.kind is not ActionKind.CREATE_SCHEDULE_JOB]

    assert others
    assert [marked(a, RUN) for a in others] == others


def test_the_undo_of_a_deleted_job_is_marked_as_the_rolling_back_run_s() -> None:
    old_mark = CreationMark(run="an-earlier-run", action="create-job:daily_feed_schedule")
    deleted = DeleteScheduleJob(
        "delete-job:daily_feed_schedule",
        JOB.name,
        before_job=replace(JOB, job_id=7, created_by=old_mark),
    )

    undo = marked(deleted.inverse(), RUN)

    assert isinstance(undo, CreateScheduleJob)
    assert undo.job.created_by == CreationMark(
        run=RUN, action="undo:delete-job:daily_feed_schedule"
    )


def test_a_marked_job_create_survives_the_journal_round_trip() -> None:
    create = marked(_planned_job_create(), RUN)

    assert action_from_dict(action_to_dict(create)) == create


def test_a_job_journaled_before_jobs_were_marked_reads_back_unmarked() -> None:
    written_before = {
        "name": JOB.name,
        "pipeline_name": JOB.pipeline_name,
        "quartz_cron": JOB.quartz_cron,
        "timezone": "UTC",
        "job_id": 7,
        "pipeline_id": "p-1",
    }

    assert job_from_dict(written_before) == replace(JOB, job_id=7, pipeline_id="p-1")


def test_a_mark_is_not_part_of_the_job_s_definition() -> None:
    mark = CreationMark(run=RUN, action="create-job:daily_feed_schedule")

    assert comparable_job(replace(JOB, created_by=mark)) == comparable_job(JOB)


def test_a_job_put_back_under_another_mark_is_restored() -> None:
    # A rollback re-creates a deleted job marked as its own: not a difference to report.
    names = ResourceNames(jobs=(JOB.name,))
    before = WorkspaceState(jobs={JOB.name: replace(JOB, created_by=CreationMark("a", "b"))})
    after = WorkspaceState(jobs={JOB.name: replace(JOB, created_by=CreationMark(RUN, "undo"))})

    assert differences(before, after, names) == []
