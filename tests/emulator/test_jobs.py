"""Jobs through the SDK: running a pipeline task, reading one job, resetting, deleting."""

from __future__ import annotations

from typing import cast

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service import jobs

from tests.emulator._support import ApiSpy, emulator_only

NIGHTLY = jobs.CronSchedule(quartz_cron_expression="0 0 2 * * ?", timezone_id="UTC")


@emulator_only("a real pipeline needs the sharepack notebook and source data")
@pytest.mark.usefixtures("fast_pipelines")
def test_run_now_starts_a_run_of_the_pipeline_task(client: WorkspaceClient, name: str) -> None:
    pipeline_id = client.pipelines.create(
        name=name, catalog="prod_catalog", schema="sales"
    ).pipeline_id
    assert pipeline_id
    task = jobs.Task(task_key="refresh", pipeline_task=jobs.PipelineTask(pipeline_id=pipeline_id))
    job_id = client.jobs.create(name=name, tasks=[task]).job_id
    assert job_id

    started = cast(jobs.RunNowResponse, client.jobs.run_now(job_id).response)

    run_id = started.run_id
    assert isinstance(run_id, int)
    run = client.jobs.get_run(run_id)
    assert run.job_id == job_id
    (run_task,) = run.tasks or []
    assert run_task.task_key == "refresh"
    assert run_task.pipeline_task is not None
    assert run_task.pipeline_task.pipeline_id == pipeline_id
    updates = client.pipelines.list_updates(pipeline_id).updates or []
    assert len(updates) == 1


def test_jobs_get_answers_without_next_page_token(
    client: WorkspaceClient, name: str, spy: ApiSpy
) -> None:
    job_id = client.jobs.create(name=name, schedule=NIGHTLY).job_id or 0
    try:
        job = client.jobs.get(job_id)

        (answer,) = spy.to("GET", "/api/2.2/jobs/get")
        assert "next_page_token" not in answer.answer
        assert job.job_id == job_id
        assert job.next_page_token is None
    finally:
        client.jobs.delete(job_id)


def test_reset_replaces_all_settings(client: WorkspaceClient, name: str) -> None:
    job_id = client.jobs.create(name=name, schedule=NIGHTLY, tags={"old": "1"}).job_id or 0
    try:
        client.jobs.reset(job_id, new_settings=jobs.JobSettings(name=name, tags={"new": "2"}))

        settings = client.jobs.get(job_id).settings
        assert settings is not None
        assert settings.name == name
        assert settings.tags == {"new": "2"}
        assert settings.schedule is None
    finally:
        client.jobs.delete(job_id)


def test_deleted_job_is_not_found(client: WorkspaceClient, name: str) -> None:
    job_id = client.jobs.create(name=name).job_id or 0

    client.jobs.delete(job_id)

    with pytest.raises(NotFound, match=f"Job {job_id} does not exist"):
        client.jobs.get(job_id)


# Jobs may share a name; the list's `name` filter is the exact, case-insensitive name
# ("A filter on the list based on the exact (case insensitive) job name.", databricks-sdk
# 0.156 `JobsAPI.list`), paged like any list (limit 1-100, default 20).


def test_jobs_of_the_same_name_are_separate_jobs(client: WorkspaceClient, name: str) -> None:
    first = client.jobs.create(name=name).job_id or 0
    second = client.jobs.create(name=name).job_id or 0
    try:
        assert first != second
        assert sorted(j.job_id or 0 for j in client.jobs.list(name=name)) == [first, second]
    finally:
        client.jobs.delete(first)
        client.jobs.delete(second)


def test_job_tags_are_kept_and_listed(client: WorkspaceClient, name: str) -> None:
    tags = {"sharepack_run": "3f0c1e2a-run", "sharepack_action": "create-job:x_schedule"}
    job_id = client.jobs.create(name=name, schedule=NIGHTLY, tags=tags).job_id or 0
    try:
        settings = client.jobs.get(job_id).settings
        (listed,) = list(client.jobs.list(name=name))

        assert settings is not None
        assert settings.tags == tags
        assert listed.settings is not None
        assert listed.settings.tags == tags
    finally:
        client.jobs.delete(job_id)


def test_listing_by_name_matches_the_whole_name_ignoring_case(
    client: WorkspaceClient, name: str
) -> None:
    ids = [client.jobs.create(name=n).job_id or 0 for n in (name, name.upper(), f"{name}_x")]
    try:
        listed = sorted(j.job_id or 0 for j in client.jobs.list(name=name))

        assert listed == sorted(ids[:2])
    finally:
        for job_id in ids:
            client.jobs.delete(job_id)


@emulator_only("creating dozens of jobs is for the emulator")
def test_listing_by_name_pages_through_every_job_of_that_name(
    client: WorkspaceClient, name: str, spy: ApiSpy
) -> None:
    created = [client.jobs.create(name=name).job_id for _ in range(12)]
    client.jobs.create(name=f"{name}_other")

    listed = [j.job_id for j in client.jobs.list(name=name, limit=5)]

    assert listed == list(reversed(created))
    pages = spy.to("GET", "/api/2.2/jobs/list")
    assert [len(p.answer["jobs"]) for p in pages] == [5, 5, 2]
    assert all(p.query.get("name") == name for p in pages)
