"""Reading the emulator's control API from tests: its state and the calls it served."""

from __future__ import annotations

from typing import Any

import httpx

from databricks_emulator.server import EmulatorServer

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def emulator_state(emulator: EmulatorServer) -> Any:
    return httpx.get(f"{emulator.url}/_emulator/state").json()


def emulator_calls(emulator: EmulatorServer) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = httpx.get(f"{emulator.url}/_emulator/calls").json()
    return calls


def write_calls(emulator: EmulatorServer) -> list[dict[str, Any]]:
    """The API calls since the last reset that could have changed something."""
    return [c for c in emulator_calls(emulator) if c["method"] in WRITE_METHODS]
