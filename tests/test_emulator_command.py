"""`python -m databricks_emulator` serves the SDK as a separate process."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from databricks.sdk import WorkspaceClient

from databricks_emulator.testing import free_port


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
