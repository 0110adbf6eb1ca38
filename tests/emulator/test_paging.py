"""List calls page with opaque `next_page_token`s, and the SDK's iterators see every item once.

Page sizes are the emulator's defaults: recipients 50 (UC lists asked with max_results=0),
pipelines 25 and jobs 20 when the caller gives no size.
"""

from __future__ import annotations

from collections import Counter

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue
from databricks.sdk.service import sharing

from tests.emulator._support import ApiSpy, Exchange, emulator_only

MANY = emulator_only("creating dozens of recipients, pipelines or jobs is for the emulator")
RECIPIENTS = "/api/2.1/unity-catalog/recipients"
PIPELINES = "/api/2.0/pipelines"
JOBS = "/api/2.2/jobs/list"


def _tokens(pages: list[Exchange]) -> list[str | None]:
    return [page.answer.get("next_page_token") for page in pages]


def _assert_opaque(token: str, names: list[str]) -> None:
    """A token is not an item's name, id or position in plain text."""
    assert not token.isdigit()
    assert all(n not in token for n in names)


def _assert_chained(pages: list[Exchange], key: str) -> None:
    """Each request after the first sends back the token the previous answer gave."""
    sent = [page.query.get("page_token") for page in pages]
    assert sent == [None, *_tokens(pages)[:-1]]
    assert all(len(page.answer.get(key, [])) > 0 for page in pages)


@MANY
def test_recipients_list_pages_through_every_recipient(
    client: WorkspaceClient, spy: ApiSpy
) -> None:
    names = [f"paged_{i:03d}" for i in range(60)]
    for recipient in names:
        client.recipients.create(recipient, sharing.AuthenticationType.TOKEN)

    listed = [r.name for r in client.recipients.list()]

    pages = spy.to("GET", RECIPIENTS)
    assert Counter(listed) == Counter(names)
    assert [p.query["max_results"] for p in pages] == [0, 0]
    assert [len(p.answer["recipients"]) for p in pages] == [50, 10]
    first, last = _tokens(pages)
    assert first is not None
    assert last is None
    _assert_opaque(first, names)
    _assert_chained(pages, "recipients")


@MANY
def test_recipients_list_honours_a_smaller_page(client: WorkspaceClient, spy: ApiSpy) -> None:
    names = [f"small_{i:02d}" for i in range(12)]
    for recipient in names:
        client.recipients.create(recipient, sharing.AuthenticationType.TOKEN)

    listed = [r.name for r in client.recipients.list(max_results=5)]

    pages = spy.to("GET", RECIPIENTS)
    assert Counter(listed) == Counter(names)
    assert [len(p.answer["recipients"]) for p in pages] == [5, 5, 2]
    _assert_chained(pages, "recipients")


@MANY
def test_pipelines_list_pages_through_every_pipeline(client: WorkspaceClient, spy: ApiSpy) -> None:
    created = {
        client.pipelines.create(
            name=f"paged_{i:03d}", catalog="prod_catalog", schema="sales"
        ).pipeline_id
        for i in range(30)
    }

    listed = [p.pipeline_id for p in client.pipelines.list_pipelines()]

    pages = spy.to("GET", PIPELINES)
    assert Counter(listed) == Counter(created)
    assert len(listed) == 30
    assert [len(p.answer["statuses"]) for p in pages] == [25, 5]
    first, last = _tokens(pages)
    assert first is not None
    assert last is None
    _assert_opaque(first, [str(pid) for pid in created])
    _assert_chained(pages, "statuses")


def test_pipelines_list_refuses_pages_above_100(client: WorkspaceClient) -> None:
    with pytest.raises(InvalidParameterValue, match="max_results"):
        list(client.pipelines.list_pipelines(max_results=101))


@MANY
def test_jobs_list_pages_through_every_job_newest_first(
    client: WorkspaceClient, spy: ApiSpy
) -> None:
    created = [client.jobs.create(name=f"paged_{i:03d}").job_id for i in range(25)]

    listed = [j.job_id for j in client.jobs.list()]

    pages = spy.to("GET", JOBS)
    assert listed == list(reversed(created))
    assert [len(p.answer["jobs"]) for p in pages] == [20, 5]
    assert [p.answer["has_more"] for p in pages] == [True, False]
    first, last = _tokens(pages)
    assert first is not None
    assert last is None
    _assert_opaque(first, [str(job_id) for job_id in created])
    _assert_chained(pages, "jobs")
