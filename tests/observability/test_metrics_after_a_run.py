"""`/metrics` after real runs: an in-process worker against the emulator, the API served
over HTTP. Counters of this test process are shared by every test in it, so they are read
as the growth between two scrapes; the scrape-time gauges are this test's database's."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.queue.table import TableQueue
from sharepack.running.provision import make_worker
from sharepack.runtime import Runtime
from sharepack.settings import Settings
from sharepack.store import Database
from tests.api_server import ServedApi, running_api
from tests.conftest import REPO_ROOT
from tests.observability.scrape import Samples, delta, samples, value

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"
STATES = ("IN_PROGRESS", "COMPLETED", "FAILED")


def _scrape(api: ServedApi, **headers: str) -> Samples:
    answer = httpx.get(f"{api}/metrics", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(answer.text)


def _scrape_until(
    api: ServedApi, holds: Callable[[Samples], bool], timeout: float = 30
) -> tuple[Samples, str]:
    """Scrape until `holds`: a request is counted just after its answer is sent, so the
    scrape that follows it may come first."""
    deadline = time.monotonic() + timeout
    while True:
        text = httpx.get(f"{api}/metrics", timeout=30).text
        if holds(scraped := samples(text)):
            return scraped, text
        if time.monotonic() > deadline:
            pytest.fail(f"The scrape did not show what was expected within {timeout} s")
        time.sleep(0.05)


def _upload(api: ServedApi, workspace_url: str) -> str:
    with api.client() as client:
        answer = client.post(
            "/workflow/sharepack/upload",
            headers={"X-Workspace-URL": workspace_url},
            files={"file": ("sharepack.yaml", EXAMPLE.read_bytes())},
        )
    assert answer.status_code == 202, answer.text
    pack_id: str = answer.json()["SharePackId"]
    return pack_id


def _ended(api: ServedApi, pack_id: str, timeout: float = 60) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    with api.client() as client:
        while True:
            body: dict[str, str] = client.get(f"/workflow/sharepack/{pack_id}").json()
            if body["Status"] not in ("IN_PROGRESS",):
                return body
            if time.monotonic() > deadline:
                pytest.fail(f"Share pack {pack_id} still {body['Status']} after {timeout} s")
            time.sleep(0.05)


@pytest.fixture
def served(runtime: Runtime) -> Iterator[ServedApi]:
    with running_api(runtime) as api:
        yield api


def _message_done(runtime: Runtime, timeout: float = 30) -> None:
    """Wait until the worker has completed its message: the last thing it does for a run,
    after the run's metrics are recorded."""
    deadline = time.monotonic() + timeout
    while runtime.queue.depth() != 0:
        if time.monotonic() > deadline:
            pytest.fail(f"The worker did not complete its message within {timeout} s")
        time.sleep(0.05)


def test_a_completed_run_is_counted_timed_and_seen_in_the_shared_state(
    served: ServedApi, runtime: Runtime, emulator: EmulatorServer
) -> None:
    before = _scrape(served)

    pack_id = _upload(served, emulator.url)
    assert _ended(served, pack_id)["Status"] == "COMPLETED"
    _message_done(runtime)
    upload = {"method": "POST", "route": "/workflow/sharepack/upload", "status": "202"}
    status = {"method": "GET", "route": "/workflow/sharepack/{share_pack_id}", "status": "200"}
    after, text = _scrape_until(
        served,
        lambda now: (
            delta(before, now, "sharepack_http_requests_total", **upload) == 1
            and delta(before, now, "sharepack_http_requests_total", **status) >= 1
        ),
    )

    assert delta(before, after, "sharepack_runs_total", outcome="completed") == 1
    assert delta(before, after, "sharepack_runs_total", rollback="not_needed") == 1
    assert delta(before, after, "sharepack_run_duration_seconds_count", outcome="completed") == 1
    for phase in ("validate", "plan", "apply"):
        assert delta(before, after, "sharepack_phase_duration_seconds_count", phase=phase) == 1
    assert delta(before, after, "sharepack_phase_duration_seconds_count", phase="rollback") == 0
    assert (
        delta(
            before,
            after,
            "sharepack_lock_wait_seconds_count",
            lock="resources",
            outcome="acquired",
        )
        == 1
    )
    recipients = "sharepack_workspace_requests_total"
    assert delta(before, after, recipients, family="unity-catalog/recipients", status="200") > 0
    assert delta(before, after, "sharepack_workspace_request_duration_seconds_count") > 0
    assert value(after, "sharepack_runs_in_progress") == 0
    assert value(after, "sharepack_share_packs", status="completed", rollback="not_needed") == 1
    assert value(after, "sharepack_queue_messages") == 0
    assert value(after, "sharepack_queue_oldest_message_age_seconds") == 0
    assert value(after, "sharepack_state_up", source="database") == 1
    assert value(after, "sharepack_state_up", source="queue") == 1
    for secret_or_name in (pack_id, "sales-analyst", "sales_q1_share", emulator.url, served.key):
        assert secret_or_name not in text


def test_a_failed_run_is_counted_with_its_rollback_and_verify(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    emulator.add_fault(method="PATCH", path_regex="/permissions$", status=500, times=1000)
    with running_api(runtime, with_worker=False) as api:
        before = _scrape(api)
        pack_id = _upload(api, emulator.url)
        assert make_worker(runtime).run_once()
        assert _ended(api, pack_id)["RollbackStatus"] == "ROLLED_BACK"
        after = _scrape(api)

    assert (
        delta(before, after, "sharepack_runs_total", outcome="failed", rollback="rolled_back") == 1
    )
    assert delta(before, after, "sharepack_runs_total", outcome="completed") == 0
    for phase in ("apply", "rollback", "verify"):
        assert delta(before, after, "sharepack_phase_duration_seconds_count", phase=phase) == 1
    assert delta(before, after, "sharepack_workspace_requests_total", status="500") > 0
    assert value(after, "sharepack_share_packs", status="failed", rollback="rolled_back") == 1


def test_a_waiting_message_shows_in_the_queue_gauges(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    with running_api(runtime, with_worker=False) as api:
        _upload(api, emulator.url)
        deadline = time.monotonic() + 10
        while (scraped := _scrape(api)) and value(
            scraped, "sharepack_queue_oldest_message_age_seconds"
        ) <= 0:
            assert time.monotonic() < deadline, "the waiting message never aged"
            time.sleep(0.05)

    assert value(scraped, "sharepack_queue_messages") == 1
    assert value(scraped, "sharepack_share_packs", status="in_progress", rollback="none") == 1


def test_a_queue_that_does_not_answer_is_said_and_the_rest_still_scraped(
    runtime: Runtime,
) -> None:
    down = TableQueue(Database("postgresql://nobody@127.0.0.1:1/none"), "sharepack-processing")
    with running_api(dataclasses.replace(runtime, queue=down), with_worker=False) as api:
        scraped = _scrape(api)

    assert value(scraped, "sharepack_state_up", source="queue") == 0
    assert value(scraped, "sharepack_state_up", source="database") == 1
    assert ("sharepack_queue_messages", ()) not in scraped
    assert ("sharepack_runs_in_progress", ()) in scraped  # the processes' own metrics


def test_with_a_metrics_token_a_scrape_must_carry_it(settings: Settings) -> None:
    from pydantic import SecretStr

    from sharepack.runtime import build_runtime

    token = f"scrape-{uuid.uuid4().hex}"
    guarded = settings.model_copy(update={"sharepack_metrics_token": SecretStr(token)})
    runtime = build_runtime(guarded)
    try:
        with running_api(runtime, with_worker=False) as api:
            refused = httpx.get(f"{api}/metrics", timeout=30)
            wrong = httpx.get(f"{api}/metrics", headers={"Authorization": "Bearer x"})
            scraped = _scrape(api, Authorization=f"Bearer {token}")
    finally:
        runtime.close()

    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert token not in refused.text
    assert value(scraped, "sharepack_state_up", source="database") == 1


def test_a_path_no_route_matches_is_counted_under_one_label(served: ServedApi) -> None:
    before = _scrape(served)
    path = f"/no/such/{uuid.uuid4().hex}"
    assert httpx.get(f"{served}{path}").status_code == 404

    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    _, text = _scrape_until(
        served, lambda now: delta(before, now, "sharepack_http_requests_total", **unmatched) == 1
    )
    assert path not in text
