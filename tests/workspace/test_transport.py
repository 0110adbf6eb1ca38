"""Every HTTP exchange the SDK makes is told to the client's listeners, retries included."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from databricks.sdk.errors import NotFound

from databricks_emulator.server import EmulatorServer
from sharepack.workspace.sdk import make_client
from sharepack.workspace.transport import WorkspaceCall, endpoint_family
from tests.conftest import EMULATOR_TOKEN


class Recorder:
    def __init__(self) -> None:
        self.entered: list[WorkspaceCall] = []
        self.left: list[WorkspaceCall] = []

    @contextmanager
    def __call__(self, call: WorkspaceCall) -> Iterator[None]:
        assert call.status is None  # told before the answer
        self.entered.append(call)
        try:
            yield
        finally:
            self.left.append(call)


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/api/2.1/unity-catalog/shares/s1/permissions", "unity-catalog/shares"),
        ("/api/2.1/unity-catalog/recipients", "unity-catalog/recipients"),
        ("/api/2.0/pipelines/abc/updates", "pipelines"),
        ("/api/2.2/jobs/runs/get", "jobs"),
        ("/api/2.0/preview/scim/v2/Me", "preview/scim"),
        ("/api/2.0/workspace/import", "workspace"),
        ("/.well-known/databricks-config", "other"),
    ],
)
def test_a_path_belongs_to_its_api_family(path: str, family: str) -> None:
    assert endpoint_family(path) == family


def test_listeners_see_each_call_with_its_family_and_answer(emulator: EmulatorServer) -> None:
    recorder = Recorder()
    client = make_client(emulator.url, token=EMULATOR_TOKEN, listeners=[recorder])
    list(client.recipients.list())
    with pytest.raises(NotFound):
        client.shares.get("no_such_share")
    assert [(c.method, c.family, c.status) for c in recorder.left] == [
        ("GET", "unity-catalog/recipients", 200),
        ("GET", "unity-catalog/shares", 404),
    ]
    assert recorder.left[1].path == "/api/2.1/unity-catalog/shares/no_such_share"


def test_a_throttled_call_and_its_retry_are_two_exchanges(emulator: EmulatorServer) -> None:
    httpx.post(
        f"{emulator.url}/_emulator/faults",
        json={"method": "GET", "path_regex": "/shares$", "status": 429, "retry_after": 0},
    ).raise_for_status()
    recorder = Recorder()
    client = make_client(emulator.url, token=EMULATOR_TOKEN, listeners=[recorder])
    list(client.shares.list_shares())
    assert [(c.status, c.throttled, c.retried_by_sdk) for c in recorder.left] == [
        (429, True, True),
        (200, False, False),
    ]
    assert recorder.left[0].retry_after == 0.0


def test_a_call_that_gets_no_answer_is_told_with_its_error(emulator: EmulatorServer) -> None:
    recorder = Recorder()
    client = make_client(
        emulator.url,
        token=EMULATOR_TOKEN,
        listeners=[recorder],
        http_timeout_seconds=0.2,
        retry_timeout_seconds=1,
    )
    httpx.post(
        f"{emulator.url}/_emulator/faults",
        json={"method": "GET", "path_regex": "/recipients$", "status": 0, "delay_ms": 1500},
    ).raise_for_status()
    with pytest.raises(TimeoutError):
        list(client.recipients.list())
    assert recorder.left[0].status is None
    assert recorder.left[0].error == "ReadTimeout"
    assert recorder.left[0].retried_by_sdk
