"""Helpers the emulator contract tests share: the mode they run in and a spy on the SDK.

With DATABRICKS_HOST and DATABRICKS_TOKEN set the tests run against that workspace (REAL
mode); tests that need the emulator's controls are skipped there with `emulator_only`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import pipelines

from databricks_emulator.server import EmulatorServer

REAL = bool(os.environ.get("DATABRICKS_HOST") and os.environ.get("DATABRICKS_TOKEN"))
EMULATOR_TOKEN = "dapi-test-token"
SEEDED_TABLES = [f"bench_catalog.bench.t{i:04d}" for i in range(3)]
FINAL_UPDATE_STATES = frozenset(
    {
        pipelines.UpdateInfoState.COMPLETED,
        pipelines.UpdateInfoState.FAILED,
        pipelines.UpdateInfoState.CANCELED,
    }
)


def emulator_only(reason: str) -> pytest.MarkDecorator:
    """Skip the test in REAL mode, saying why it needs the emulator."""
    return pytest.mark.skipif(REAL, reason=reason)


def seed_tables() -> list[str]:
    """The tables of the emulator's default seed fixture, as it ships them."""
    text = files("databricks_emulator").joinpath("fixtures/default.json").read_text("utf-8")
    return [str(t) for t in json.loads(text)["tables"]]


def contract_tables() -> list[str]:
    """Tables that exist where the tests run: the seed's, or SHAREPACK_CONTRACT_TABLES."""
    configured = os.environ.get("SHAREPACK_CONTRACT_TABLES")
    return configured.split(",") if REAL and configured else SEEDED_TABLES


def api_calls(emulator: EmulatorServer, path_regex: str) -> list[tuple[str, int]]:
    """`(method, status)` of the logged API calls whose path matches, in arrival order."""
    pattern = re.compile(path_regex)
    return [(c["method"], c["status"]) for c in emulator.calls() if pattern.search(c["path"])]


def wait_for_update(
    client: WorkspaceClient,
    pipeline_id: str,
    update_id: str,
    done: Callable[[pipelines.UpdateInfoState], bool] = FINAL_UPDATE_STATES.__contains__,
    timeout_s: float = 30.0,
) -> pipelines.UpdateInfoState:
    """Poll the update until `done` holds for its state; the timeout only guards a hang."""
    deadline = time.monotonic() + timeout_s
    while True:
        update = client.pipelines.get_update(pipeline_id, update_id).update
        assert update is not None
        assert update.state is not None
        if done(update.state):
            return update.state
        assert time.monotonic() < deadline, f"update {update_id} stuck in {update.state}"
        time.sleep(0.02)


@dataclass(frozen=True)
class Exchange:
    """One call the SDK made through its API client, and the JSON it got back."""

    method: str
    path: str
    query: dict[str, Any]
    answer: Any


@dataclass
class ApiSpy:
    """Records what the SDK's own API client sends and receives; it changes nothing."""

    exchanges: list[Exchange] = field(default_factory=list)

    def install(self, client: WorkspaceClient, monkeypatch: pytest.MonkeyPatch) -> None:
        api_client = client.api_client
        original = api_client.do

        def do(method: str, path: str | None = None, *args: Any, **kwargs: Any) -> Any:
            query = copy.deepcopy(kwargs.get("query") or {})
            answer = original(method, path, *args, **kwargs)
            self.exchanges.append(Exchange(method, path or "", query, copy.deepcopy(answer)))
            return answer

        monkeypatch.setattr(api_client, "do", do)

    def to(self, method: str, path: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.method == method and e.path == path]
