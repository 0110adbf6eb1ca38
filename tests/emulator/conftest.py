"""Fixtures of the emulator contract tests: the SDK client (emulator or REAL), names, a spy."""

from __future__ import annotations

import uuid

import pytest
from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from tests.emulator._support import EMULATOR_TOKEN, REAL, ApiSpy


@pytest.fixture
def client(emulator: EmulatorServer) -> WorkspaceClient:
    if REAL:
        return WorkspaceClient()
    return WorkspaceClient(host=emulator.url, token=EMULATOR_TOKEN, auth_type="pat")


@pytest.fixture
def name() -> str:
    return f"contract_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def spy(client: WorkspaceClient, monkeypatch: pytest.MonkeyPatch) -> ApiSpy:
    """What the SDK sent and got back during the test, seen from inside the SDK."""
    recorder = ApiSpy()
    recorder.install(client, monkeypatch)
    return recorder


@pytest.fixture
def fast_pipelines(emulator: EmulatorServer) -> None:
    """Pipeline updates step every 20 ms on the emulator (no effect in REAL mode)."""
    if not REAL:
        emulator.set_pipeline_step_ms(20)
