"""The adaptive rate limit against the emulator's rate limit, through the real SDK, and how
the runtime gives each workspace URL one limit.

No assertion is about time: counts only, with bounds a loaded machine keeps (a slower
machine sends more slowly, so it meets fewer 429s, not more).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from databricks.sdk.service import sharing

from databricks_emulator.server import EmulatorServer
from sharepack.runtime import Runtime, SdkWorkspaceFactory, sdk_workspace_factory
from sharepack.settings import Settings
from sharepack.workspace.rate_limit import AdaptiveRateLimit
from sharepack.workspace.sdk import make_client
from sharepack.workspace.transport import WorkspaceCall
from tests.conftest import EMULATOR_TOKEN

RECIPIENTS = "unity-catalog/recipients"
LIMIT = 10
CALLS = 60
THREADS = 8


class Statuses:
    """The status of every exchange, retries included."""

    def __init__(self) -> None:
        self.seen: list[int | None] = []
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self, call: WorkspaceCall) -> Iterator[None]:
        try:
            yield
        finally:
            with self._lock:
                self.seen.append(call.status)


@pytest.fixture
def limited(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    emulator.set_rate_limits({RECIPIENTS: LIMIT})
    yield emulator
    emulator.set_rate_limits({})


@pytest.mark.slow
def test_calls_paced_by_the_adaptive_limit_all_succeed_with_few_429s(
    limited: EmulatorServer,
) -> None:
    statuses = Statuses()
    limit = AdaptiveRateLimit(start_rate=LIMIT)
    client = make_client(limited.url, token=EMULATOR_TOKEN, listeners=[limit, statuses])

    def create(i: int) -> None:
        client.recipients.create(f"paced-{i:02d}", sharing.AuthenticationType.TOKEN)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(create, range(CALLS)))  # raises if any call failed

    assert len(limited.state()["recipients"]) == CALLS
    throttled = statuses.seen.count(429)
    assert statuses.seen.count(200) == CALLS
    assert throttled <= CALLS // 10  # at most 10%; the bench measures the real share


@pytest.mark.slow
def test_without_the_limit_the_same_calls_meet_many_429s(limited: EmulatorServer) -> None:
    # The contrast that makes the test above mean something: eight threads unpaced.
    statuses = Statuses()
    client = make_client(limited.url, token=EMULATOR_TOKEN, listeners=[statuses])

    def create(i: int) -> None:
        client.recipients.create(f"unpaced-{i:02d}", sharing.AuthenticationType.TOKEN)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(create, range(CALLS)))

    assert statuses.seen.count(429) > CALLS // 10


def test_workspaces_of_one_url_share_one_limit(settings: Settings) -> None:
    factory = sdk_workspace_factory(settings)
    url = settings.sharepack_workspace_urls[0]

    limit = factory.rate_limit(url)

    assert isinstance(limit, AdaptiveRateLimit)
    assert factory.rate_limit(url + "/") is limit
    assert factory.rate_limit("https://adb-2.example.net") is not limit
    assert sdk_workspace_factory(settings).rate_limit(url) is not limit  # one per factory


def test_a_workspace_made_by_the_factory_is_paced_by_its_urls_limit(
    settings: Settings,
) -> None:
    factory = sdk_workspace_factory(settings)
    url = settings.sharepack_workspace_urls[0]
    limit = factory.rate_limit(url)
    assert limit is not None
    before = limit.concurrency(64)

    factory(url).read_state(recipients=["nobody"])

    assert before == 1
    assert limit.concurrency(64) > 1  # the recipients family was called through it


def test_the_limit_is_off_when_the_setting_says_so(settings: Settings) -> None:
    off = settings.model_copy(update={"sharepack_adaptive_rate_limit": False})

    assert sdk_workspace_factory(off).rate_limit(off.sharepack_workspace_urls[0]) is None


def test_apply_concurrency_follows_the_limit_under_the_setting(runtime: Runtime) -> None:
    url = runtime.settings.sharepack_workspace_urls[0]
    assert isinstance(runtime.workspace_for, SdkWorkspaceFactory)

    concurrency = runtime.apply_concurrency(url)

    assert callable(concurrency)
    assert 1 <= concurrency() <= runtime.settings.sharepack_apply_concurrency


def test_apply_concurrency_is_the_setting_for_workspaces_without_a_limit(
    runtime: Runtime,
) -> None:
    url = runtime.settings.sharepack_workspace_urls[0]
    other = Runtime(
        settings=runtime.settings,
        database=runtime.database,
        queue=runtime.queue,
        workspace_for=runtime.workspace_for,
    )

    assert other.apply_concurrency(url) == runtime.settings.sharepack_apply_concurrency
