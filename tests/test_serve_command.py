"""`sharepack serve --emulator` (what `make run` starts) serves the quick start for real.

Run as a separate process on a free port, from a directory holding `examples/`, with its
data under tmp_path: the curl line it prints uploads the example pack, the pack reaches
COMPLETED, the docs answer, and SIGINT stops it cleanly.
"""

from __future__ import annotations

import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from databricks_emulator.server import free_port
from sharepack.settings import Settings
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
SHAREPACK = Path(sys.executable).parent / "sharepack"
CURL_LINE = re.compile(r"^\s*curl -s -X POST .*$")
STARTUP_TIMEOUT_S = 60.0
COMPLETION_TIMEOUT_S = 60.0


class Output:
    """Lines a process writes to one stream, read in the background so it never blocks."""

    def __init__(self, stream: object) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.put(line)

    def wait_for(self, pattern: re.Pattern[str], process: subprocess.Popen[str]) -> str:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            assert process.poll() is None, "".join(self.seen)
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if pattern.match(line):
                return line
        pytest.fail(f"no line matching {pattern.pattern!r} within {STARTUP_TIMEOUT_S} s")


def _environment(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without any sharepack or Databricks setting, plus a data dir."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in Settings.model_fields and not key.startswith("DATABRICKS_")
    }
    env["SHAREPACK_DATA_DIR"] = str(tmp_path / "data")
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Output, int]]:
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    port = free_port()
    process = subprocess.Popen(
        [str(SHAREPACK), "serve", "--emulator", "--port", str(port)],
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    output = Output(process.stderr)
    try:
        yield process, output, port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _curl_request(line: str) -> tuple[str, str, Path]:
    """The URL, the X-Workspace-URL and the file of a printed `curl ... -H ... -F` line."""
    words = shlex.split(line)
    assert words[:4] == ["curl", "-s", "-X", "POST"], words
    url = words[4]
    header = words[words.index("-H") + 1]
    name, _, workspace_url = header.partition(": ")
    assert name == "X-Workspace-URL", header
    form = words[words.index("-F") + 1]
    assert form.startswith("file=@"), form
    return url, workspace_url, Path(form.removeprefix("file=@"))


def _wait_until_answering(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "sharepack serve exited"
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail(f"sharepack serve did not answer on {url} within {STARTUP_TIMEOUT_S} s")


def test_printed_curl_line_uploads_the_example_to_completion(
    served: tuple[subprocess.Popen[str], Output, int], tmp_path: Path
) -> None:
    process, output, port = served
    base = f"http://127.0.0.1:{port}"

    line = output.wait_for(CURL_LINE, process)
    upload_url, workspace_url, pack = _curl_request(line)
    _wait_until_answering(f"{base}/workflow/health", process)
    response = httpx.post(
        upload_url,
        headers={"X-Workspace-URL": workspace_url},
        files={"file": (pack.name, (tmp_path / pack).read_bytes())},
        timeout=30,
    )

    assert upload_url == f"{base}/workflow/sharepack/upload"
    assert response.status_code == 202, response.text
    pack_id = response.json()["SharePackId"]
    deadline = time.monotonic() + COMPLETION_TIMEOUT_S
    while (status := httpx.get(f"{base}/workflow/sharepack/{pack_id}").json())[
        "Status"
    ] == "IN_PROGRESS":
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    assert status["Status"] == "COMPLETED", status
    state = httpx.get(f"{workspace_url}/_emulator/state").json()
    assert [r["name"] for r in state["recipients"]] == ["sales-analyst"]
    assert [s["name"] for s in state["shares"]] == ["sales_q1_share"]
    assert httpx.get(f"{base}/docs").status_code == 200
    assert (tmp_path / "data" / "sharepack.db").is_file()

    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=30) == 0


def test_serve_refuses_to_start_with_an_allow_list_entry_that_is_not_http(
    tmp_path: Path,
) -> None:
    env = {**_environment(tmp_path), "SHAREPACK_WORKSPACE_URLS": "https://adb-1.net,ftp://weird"}

    finished = subprocess.run(
        [str(SHAREPACK), "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_S,
        check=False,
    )

    assert finished.returncode == 2
    assert finished.stderr.splitlines() == [
        "Invalid settings: SHAREPACK_WORKSPACE_URLS: 'ftp://weird' is not an http(s) URL "
        "with a host; list each workspace as https://host"
    ]
    assert not (tmp_path / "data").exists()
