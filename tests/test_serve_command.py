"""`sharepack serve --emulator` (what `make run` starts) serves the quick start for real.

Run as a separate process on free ports, from a directory holding `examples/`, with its
data under tmp_path: the plan and apply lines it prints provision the example pack, the
curl line uploads it to COMPLETED, a restart serves the same emulator workspace at the
same URL, a taken port is said before any banner, and SIGINT stops it cleanly.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from databricks_emulator.server import free_port
from sharepack.identity.api_keys import parse_key
from sharepack.settings import Settings
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
SHAREPACK = Path(sys.executable).parent / "sharepack"
CURL_LINE = re.compile(r"^\s*curl -s -X POST .*$")
PLAN_LINE = re.compile(r"^\s*DATABRICKS_TOKEN=\S+ \S*sharepack plan .*$")
APPLY_LINE = re.compile(r"^\s*DATABRICKS_TOKEN=\S+ \S*sharepack apply .*$")
EMULATOR_LINE = re.compile(r"^Databricks emulator \(allow-listed\): (\S+)$")
API_LINE = re.compile(r"^sharepack API on http://127\.0\.0\.1:(\d+) ")
DEFAULT_PORT = 8000
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
        """The first line (already seen or still to come) that matches `pattern`."""
        for line in self.seen:
            if pattern.match(line):
                return line
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


def _start(
    tmp_path: Path, *options: str, from_repository: bool = False
) -> tuple[subprocess.Popen[str], Output]:
    """`sharepack serve OPTIONS` from `tmp_path` (a copy of `examples/` beside it), or, as
    `make run` starts it, `.venv/bin/sharepack serve OPTIONS` from the repository; its data
    under `tmp_path` either way."""
    if from_repository:
        command, cwd = ".venv/bin/sharepack", REPO_ROOT
    else:
        command, cwd = str(SHAREPACK), tmp_path
        if not (tmp_path / "examples").exists():
            shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    process = subprocess.Popen(
        [command, "serve", *options],
        cwd=cwd,
        env=_environment(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    return process, Output(process.stderr)


def _refused(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`sharepack serve OPTIONS`, expected to stop before it serves anything."""
    return subprocess.run(
        [str(SHAREPACK), "serve", *options],
        cwd=tmp_path,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_S,
        check=False,
    )


def _stop(process: subprocess.Popen[str]) -> int:
    """Ctrl-C, as a terminal sends it; the exit code."""
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=30)


@contextmanager
def _serving(
    tmp_path: Path, *options: str, from_repository: bool = False
) -> Iterator[tuple[subprocess.Popen[str], Output]]:
    process, output = _start(tmp_path, *options, from_repository=from_repository)
    try:
        yield process, output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Output, int]]:
    port = free_port()
    with _serving(
        tmp_path, "--emulator", "--port", str(port), "--emulator-port", str(free_port())
    ) as (process, output):
        yield process, output, port


@contextmanager
def _port_taken(port: int = 0) -> Iterator[int]:
    """A port someone else listens on (a free one for 0), for as long as the block runs."""
    try:
        holder = socket.create_server(("127.0.0.1", port))
    except OSError:
        yield port  # someone else holds it already: taken all the same
        return
    with holder:
        yield holder.getsockname()[1]


@dataclass(frozen=True)
class CurlUpload:
    """What a printed `curl -s -X POST URL -H ... -H ... -F file=@PACK` line sends."""

    url: str
    workspace_url: str
    pack: Path
    authorization: str


def _curl_request(line: str) -> CurlUpload:
    words = shlex.split(line)
    assert words[:4] == ["curl", "-s", "-X", "POST"], words
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    assert set(headers) == {"Authorization", "X-Workspace-URL"}, headers
    form = words[words.index("-F") + 1]
    assert form.startswith("file=@"), form
    return CurlUpload(
        url=words[4],
        workspace_url=headers["X-Workspace-URL"],
        pack=Path(form.removeprefix("file=@")),
        authorization=headers["Authorization"],
    )


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


def _upload_the_printed_curl_line(
    output: Output, process: subprocess.Popen[str], tmp_path: Path
) -> tuple[str, dict[str, Any]]:
    """Send what the printed curl line sends; the workspace URL and the finished pack."""
    upload = _curl_request(output.wait_for(CURL_LINE, process))
    base = upload.url.removesuffix("/workflow/sharepack/upload")
    _wait_until_answering(f"{base}/workflow/health", process)
    auth = {"Authorization": upload.authorization}
    response = httpx.post(
        upload.url,
        headers={"X-Workspace-URL": upload.workspace_url, **auth},
        files={"file": (upload.pack.name, (tmp_path / upload.pack).read_bytes())},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    pack_id = response.json()["SharePackId"]
    deadline = time.monotonic() + COMPLETION_TIMEOUT_S
    while (status := httpx.get(f"{base}/workflow/sharepack/{pack_id}", headers=auth).json())[
        "Status"
    ] == "IN_PROGRESS":
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    return upload.workspace_url, status


def test_printed_curl_line_uploads_the_example_to_completion(
    served: tuple[subprocess.Popen[str], Output, int], tmp_path: Path
) -> None:
    process, output, port = served
    base = f"http://127.0.0.1:{port}"

    upload = _curl_request(output.wait_for(CURL_LINE, process))
    workspace_url, status = _upload_the_printed_curl_line(output, process, tmp_path)

    assert upload.url == f"{base}/workflow/sharepack/upload"
    key_file = tmp_path / "data" / "admin-api-key"
    assert upload.authorization == f"Bearer {key_file.read_text().strip()}"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert status["Status"] == "COMPLETED", status
    state = httpx.get(f"{workspace_url}/_emulator/state").json()
    assert [r["name"] for r in state["recipients"]] == ["sales-analyst"]
    assert [s["name"] for s in state["shares"]] == ["sales_q1_share"]
    assert httpx.get(f"{base}/docs").status_code == 200
    assert (tmp_path / "data" / "sharepack.db").is_file()

    assert _stop(process) == 0


def test_the_served_api_scrapes_its_worker_through_the_metrics_directory(
    served: tuple[subprocess.Popen[str], Output, int], tmp_path: Path
) -> None:
    process, output, port = served
    metrics_dir = tmp_path / "data" / "metrics"
    completed = 'sharepack_runs_total{outcome="completed",rollback="not_needed"} 1.0'

    _, status = _upload_the_printed_curl_line(output, process, tmp_path)
    deadline = time.monotonic() + COMPLETION_TIMEOUT_S
    while completed not in (text := httpx.get(f"http://127.0.0.1:{port}/metrics").text):
        assert time.monotonic() < deadline, text
        time.sleep(0.1)

    assert status["Status"] == "COMPLETED", status
    assert 'sharepack_share_packs{rollback="not_needed",status="completed"} 1.0' in text
    assert (metrics_dir / f"counter_{process.pid}.db").is_file()
    assert (metrics_dir / f"process-{process.pid}").is_file()
    assert _stop(process) == 0
    assert not (metrics_dir / f"process-{process.pid}").exists()
    assert not (metrics_dir / f"gauge_livesum_{process.pid}.db").exists()


def _run_printed_line(
    line: str, cwd: Path, tmp_path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a printed `NAME=value ... command args` line as a shell would, from `cwd`, with
    the data under `tmp_path` (`cwd` unless given)."""
    words = shlex.split(line)
    assignments = {}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        assignments[name] = value
    return subprocess.run(
        words,
        cwd=cwd,
        env={**_environment(tmp_path or cwd), **assignments},
        capture_output=True,
        text=True,
        timeout=COMPLETION_TIMEOUT_S,
        check=False,
    )


def test_printed_plan_and_apply_lines_provision_the_example(
    served: tuple[subprocess.Popen[str], Output, int], tmp_path: Path
) -> None:
    """The README's quick start: `make run`, then in another terminal the plan line and
    the apply line it prints."""
    process, output, port = served
    plan_line = output.wait_for(PLAN_LINE, process)
    apply_line = output.wait_for(APPLY_LINE, process)
    _wait_until_answering(f"http://127.0.0.1:{port}/workflow/health", process)

    planned = _run_printed_line(plan_line, tmp_path)
    applied = _run_printed_line(apply_line, tmp_path)

    assert "DATABRICKS_TOKEN=dapi-sharepack-local-emulator " in plan_line
    assert planned.returncode == 0, planned.stderr
    assert "sales-analyst" in planned.stdout
    assert "sales_q1_share" in planned.stdout
    assert applied.returncode == 0, applied.stderr
    assert "COMPLETED" in applied.stderr
    workspace_url = shlex.split(apply_line)[-1]
    state = httpx.get(f"{workspace_url}/_emulator/state").json()
    assert [r["name"] for r in state["recipients"]] == ["sales-analyst"]
    assert [s["name"] for s in state["shares"]] == ["sales_q1_share"]
    assert _stop(process) == 0


def _emulator_url(output: Output, process: subprocess.Popen[str]) -> str:
    match = EMULATOR_LINE.match(output.wait_for(EMULATOR_LINE, process))
    assert match is not None
    return match[1]


def test_a_restarted_serve_keeps_the_emulator_workspace_at_the_same_url(tmp_path: Path) -> None:
    first_options = ["--port", str(free_port()), "--emulator-port", str(free_port())]
    with _serving(tmp_path, "--emulator", *first_options) as (process, output):
        url = _emulator_url(output, process)
        _, status = _upload_the_printed_curl_line(output, process, tmp_path)
        assert status["Status"] == "COMPLETED", status
        workspace_id = httpx.get(f"{url}/_emulator/state").json()["workspace_id"]
        assert _stop(process) == 0

    with _serving(tmp_path, "--emulator", "--port", str(free_port())) as (process, output):
        assert _emulator_url(output, process) == url
        state = httpx.get(f"{url}/_emulator/state").json()
        assert state["workspace_id"] == workspace_id
        assert [r["name"] for r in state["recipients"]] == ["sales-analyst"]
        assert [s["name"] for s in state["shares"]] == ["sales_q1_share"]
        assert [o["name"] for o in state["shares"][0]["objects"]] == [
            "prod_catalog.sales.transactions"
        ]
        _, again = _upload_the_printed_curl_line(output, process, tmp_path)
        assert again["Status"] == "COMPLETED", again
        assert _stop(process) == 0
    assert (tmp_path / "data" / "emulator.json").is_file()


def test_a_taken_default_port_moves_the_api_to_the_next_free_one(tmp_path: Path) -> None:
    with _port_taken(DEFAULT_PORT), _serving(tmp_path) as (process, output):
        banner = API_LINE.match(output.wait_for(API_LINE, process))
        assert banner is not None
        port = int(banner[1])
        _wait_until_answering(f"http://127.0.0.1:{port}/workflow/health", process)

        assert port != DEFAULT_PORT
        assert f"port {DEFAULT_PORT} is in use; serving on {port}\n" in output.seen
        assert httpx.get(f"http://127.0.0.1:{port}/workflow/health").status_code == 200
        assert _stop(process) == 0


def test_an_explicit_port_that_is_taken_stops_serve_before_any_banner(tmp_path: Path) -> None:
    with _port_taken() as port:
        finished = _refused(
            tmp_path, "--emulator", "--port", str(port), "--emulator-port", str(free_port())
        )

    assert finished.returncode == 2
    assert finished.stderr.splitlines() == [
        f"Cannot listen on 127.0.0.1:{port} (--port): address already in use; stop what "
        "uses it or choose another --port"
    ]


def test_a_taken_emulator_port_stops_serve_before_any_banner(tmp_path: Path) -> None:
    with _port_taken() as port:
        finished = _refused(
            tmp_path, "--emulator", "--port", str(free_port()), "--emulator-port", str(port)
        )

    assert finished.returncode == 2
    assert finished.stderr.splitlines() == [
        f"Cannot start the Databricks emulator on 127.0.0.1:{port} (--emulator-port): address "
        "already in use; stop what uses it or choose another --emulator-port"
    ]


def test_a_taken_recorded_emulator_port_stops_serve_naming_the_state_file(
    tmp_path: Path,
) -> None:
    api_port, emulator_port = free_port(), free_port()
    options = ["--port", str(api_port), "--emulator-port", str(emulator_port)]
    with _serving(tmp_path, "--emulator", *options) as (process, _):
        _wait_until_answering(f"http://127.0.0.1:{api_port}/workflow/health", process)
        assert _stop(process) == 0

    with _port_taken(emulator_port):
        finished = _refused(tmp_path, "--emulator", "--port", str(free_port()))

    state_file = tmp_path / "data" / "emulator.json"
    assert finished.returncode == 2
    assert finished.stderr.splitlines() == [
        f"Cannot start the Databricks emulator on 127.0.0.1:{emulator_port}, the port "
        f"recorded in {state_file}: address already in use; stop what uses it, or move the "
        "file away to start a new emulator workspace"
    ]


def test_an_unreadable_emulator_state_file_stops_serve_naming_it(tmp_path: Path) -> None:
    state_file = tmp_path / "data" / "emulator.json"
    state_file.parent.mkdir()
    state_file.write_text('{"version": 1, "port": 8', encoding="utf-8")

    finished = _refused(tmp_path, "--emulator", "--port", str(free_port()))

    assert finished.returncode == 2
    (line,) = finished.stderr.splitlines()
    assert line.startswith(f"Cannot read the Databricks emulator's state file {state_file}: ")
    assert line.endswith("move it away to start a new emulator workspace")
    assert not (tmp_path / "data" / "sharepack.db").exists()


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


def _quick_start_lines() -> list[str]:
    """The shell lines of the README's quick start after `make run`, continuations joined."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    lines = " ".join(b.replace("\\\n", " ") for b in blocks[1:]).replace("\n", "\0")
    return [" ".join(line.split()) for line in lines.split("\0") if line.strip()]


def test_the_readme_quick_start_word_by_word(tmp_path: Path) -> None:
    """`make run` from the repository, then the README's lines as written: the banner
    prints them (but for the ports, free ones here), and each does what the README says."""
    readme_lines = _quick_start_lines()
    plan_line, apply_line = (
        next(line for line in readme_lines if PLAN_LINE.match(line)),
        next(line for line in readme_lines if APPLY_LINE.match(line)),
    )
    port, emulator_port = free_port(), free_port()

    def here(line: str) -> str:  # the README's ports, 8000 and 8100, as this test's
        return line.replace(":8100", f":{emulator_port}").replace(":8000", f":{port}")

    options = ("--emulator", "--port", str(port), "--emulator-port", str(emulator_port))
    with _serving(tmp_path, *options, from_repository=True) as (process, output):
        printed = [
            " ".join(output.wait_for(pattern, process).split())
            for pattern in (PLAN_LINE, APPLY_LINE)
        ]
        assert printed == [here(plan_line), here(apply_line)]
        _wait_until_answering(f"http://127.0.0.1:{port}/workflow/health", process)

        planned = _run_printed_line(here(plan_line), REPO_ROOT, tmp_path)
        applied = _run_printed_line(here(apply_line), REPO_ROOT, tmp_path)

        assert planned.returncode == 0, planned.stderr
        assert "+ recipient sales-analyst" in planned.stdout, planned.stdout
        assert applied.returncode == 0, applied.stderr
        assert "COMPLETED" in applied.stderr
        state = httpx.get(f"http://127.0.0.1:{emulator_port}/_emulator/state").json()
        assert [s["name"] for s in state["shares"]] == ["sales_q1_share"]

        # The README's curl lines, through bash as written (the key read from the file),
        # upload the pack again and poll it to COMPLETED.
        upload_line, poll_line = (line for line in readme_lines if line.startswith("curl "))
        in_data_dir = {".sharepack/": f"{tmp_path / 'data'}/"}
        uploaded = _bash(here(upload_line), in_data_dir)
        assert uploaded["Status"] == "IN_PROGRESS", uploaded
        deadline = time.monotonic() + COMPLETION_TIMEOUT_S
        poll = here(poll_line).replace("<SharePackId>", uploaded["SharePackId"])
        while (polled := _bash(poll, in_data_dir))["Status"] == "IN_PROGRESS":
            assert time.monotonic() < deadline, polled
            time.sleep(0.2)
        assert polled["Status"] == "COMPLETED", polled
        assert polled["SubmittedBy"] == "key:local-admin"
        assert _stop(process) == 0


def _bash(line: str, replacing: dict[str, str]) -> dict[str, Any]:
    """A README shell line run by bash from the repository (its relative paths replaced
    as given); the JSON it prints."""
    for old, new in replacing.items():
        line = line.replace(old, new)
    finished = subprocess.run(
        ["bash", "-c", line],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=COMPLETION_TIMEOUT_S,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    answer: dict[str, Any] = json.loads(finished.stdout)
    return answer


LOG_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")


def test_the_local_admin_key_is_made_once_kept_private_and_never_logged(tmp_path: Path) -> None:
    key_file = tmp_path / "data" / "admin-api-key"
    with _serving(tmp_path, "--emulator", "--port", str(free_port())) as (process, output):
        _, status = _upload_the_printed_curl_line(output, process, tmp_path)
        assert status["Status"] == "COMPLETED", status
        key = key_file.read_text().strip()
        assert _stop(process) == 0
    first_lines = list(output.seen)

    port = free_port()
    with _serving(tmp_path, "--emulator", "--port", str(port)) as (process, output):
        upload = _curl_request(output.wait_for(CURL_LINE, process))
        # Stopped once it serves: a Ctrl-C while it starts is an interruption (130).
        _wait_until_answering(f"http://127.0.0.1:{port}/workflow/health", process)
        assert _stop(process) == 0
    lines = first_lines + output.seen

    assert upload.authorization == f"Bearer {key}"  # the same key after a restart
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert any(line.startswith("made the local admin API key") for line in first_lines)
    assert any(line.startswith("using the local admin API key") for line in output.seen)
    logged = [line for line in lines if LOG_LINE.match(line)]
    assert logged  # uvicorn's and sharepack's log lines were seen
    assert [line for line in logged if key in line] == []
    database = (tmp_path / "data" / "sharepack.db").read_bytes()
    assert key.encode() not in database
    assert parse_key(key).secret.encode() not in database


def test_serve_refuses_another_address_than_loopback_without_authentication(
    tmp_path: Path,
) -> None:
    finished = _refused(tmp_path, "--host", "0.0.0.0", "--port", str(free_port()))

    assert finished.returncode == 2
    (line,) = finished.stderr.splitlines()
    assert line.startswith("Refusing to serve on 0.0.0.0 without an identity provider: set ")
    assert "SHAREPACK_OIDC_ISSUER" in line
    assert "SHAREPACK_ALLOW_API_KEYS_ONLY" in line
    assert not (tmp_path / "data" / "admin-api-key").exists()
