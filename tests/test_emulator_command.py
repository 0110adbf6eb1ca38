"""`python -m databricks_emulator` serves the SDK as a separate process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from databricks.sdk import WorkspaceClient

from databricks_emulator.server import free_port

LATENCY_MS = 150


def _wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the emulator process exited"
        try:
            httpx.get(f"{url}/_emulator/state", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail(f"the emulator did not answer on {url} within 20 s")


def test_module_command_serves_the_sdk_with_its_token() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "databricks_emulator", "--host", "127.0.0.1"]
    process = subprocess.Popen([*command, "--port", str(port), "--token", "secret-token"])
    try:
        _wait_until_serving(url, process)
        client = WorkspaceClient(host=url, token="secret-token", auth_type="pat")

        client.shares.create("from_cli")

        assert [s.name for s in client.shares.list_shares()] == ["from_cli"]
        assert client.current_user.me().user_name == "sharepack-emulator@example.com"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _started_on_a_free_port(process: subprocess.Popen[str]) -> str:
    """The URL from the line the command prints once it accepts connections."""
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.fullmatch(r"Databricks emulator on (http://127\.0\.0\.1:\d+)\n", line)
    assert match is not None, line
    return match[1]


def test_module_command_serves_its_seed_with_its_latency(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"tables": ["cli_cat.cli_schema.orders"]}), encoding="utf-8")
    command = [sys.executable, "-m", "databricks_emulator", "--host", "127.0.0.1", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--seed", str(seed), "--latency-ms", str(LATENCY_MS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = _started_on_a_free_port(process)
        client = WorkspaceClient(host=url, token="any-token", auth_type="pat")
        client.current_user.me()  # connect before timing one call

        started = time.monotonic()
        exists = client.tables.exists("cli_cat.cli_schema.orders").table_exists
        took = time.monotonic() - started

        assert exists
        assert [c.name for c in client.catalogs.list()] == ["cli_cat"]
        assert not client.tables.exists("prod_catalog.sales.transactions").table_exists
        # A lower bound only (asyncio may wake within its clock resolution): the call was
        # held for the latency the command was given.
        assert took >= LATENCY_MS / 1000 - 0.001, took
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_module_command_refuses_a_missing_seed_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"

    finished = subprocess.run(
        [sys.executable, "-m", "databricks_emulator", "--port", "0", "--seed", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 2
    assert f"--seed: no such file: {missing}" in finished.stderr


def test_module_command_with_a_state_file_survives_being_killed(tmp_path: Path) -> None:
    state_file = tmp_path / "emulator.json"
    command = [sys.executable, "-m", "databricks_emulator", "--state", str(state_file)]
    first = subprocess.Popen([*command, "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        url = _started_on_a_free_port(first)
        WorkspaceClient(host=url, token="any-token", auth_type="pat").shares.create("kept")
    finally:
        first.kill()  # no chance to save anything on the way out
        first.wait(timeout=10)

    second = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert _started_on_a_free_port(second) == url
        client = WorkspaceClient(host=url, token="any-token", auth_type="pat")
        assert [s.name for s in client.shares.list_shares()] == ["kept"]
    finally:
        second.terminate()
        second.wait(timeout=10)


def test_module_command_refuses_an_unreadable_state_file(tmp_path: Path) -> None:
    state_file = tmp_path / "emulator.json"
    state_file.write_text("{not json", encoding="utf-8")

    finished = subprocess.run(
        [sys.executable, "-m", "databricks_emulator", "--state", str(state_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 2
    assert f"--state: Cannot read the Databricks emulator's state file {state_file}" in (
        finished.stderr
    )
    assert "move it away" in finished.stderr
    assert "Traceback" not in finished.stderr
