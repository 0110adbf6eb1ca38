"""Azurite, Microsoft's local Azure Storage emulator, for the Azure Storage Queue tests.

`azurite_connection_string` (session-scoped) is SHAREPACK_TEST_AZURITE_CONNECTION_STRING
when that is set. Otherwise the session starts `azurite-queue` (from `node_modules/.bin`
of the repository, after `npm install azurite` there, or from PATH; 3.33 or later) on a
free loopback port with its data in a temporary directory and telemetry off, and stops it
at the end. Without either the Azure variant skips, saying how to enable it; when the
environment variable CI is set it fails instead.

Load it by importing `azurite_connection_string` into a conftest.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
CONNECTION_STRING_ENV = "SHAREPACK_TEST_AZURITE_CONNECTION_STRING"
STARTUP_SECONDS = 30.0

# Azurite's well-known development account, published in its documentation.
DEV_ACCOUNT = "devstoreaccount1"
DEV_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def connection_string(port: int, host: str = "127.0.0.1") -> str:
    """A connection string for Azurite's development account on `host:port`."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_ACCOUNT_KEY};"
        f"QueueEndpoint=http://{host}:{port}/{DEV_ACCOUNT};"
    )


def find_azurite_queue() -> str | None:
    """The `azurite-queue` executable: the repository's node_modules first, then PATH."""
    local = REPO_ROOT / "node_modules" / ".bin" / "azurite-queue"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("azurite-queue")


def _unavailable(reason: str) -> NoReturn:
    message = (
        f"Azurite is not available ({reason}). Run `npm install azurite` in {REPO_ROOT}, "
        f"or set {CONNECTION_STRING_ENV} to a running Azurite's connection string "
        "(with CI set, this fails instead of skipping)."
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _tail(log: Path, lines: int = 5) -> str:
    text = log.read_text(errors="replace").strip() if log.exists() else ""
    return " | ".join(text.splitlines()[-lines:]) or "no output"


def _start(executable: str, location: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start `azurite-queue` on a free port; wait until the port answers."""
    port = _free_port()
    log = location / "azurite.log"
    command = [
        executable,
        "--queueHost",
        "127.0.0.1",
        "--queuePort",
        str(port),
        "--skipApiVersionCheck",
        "--location",
        str(location),
        "--silent",
        "--disableTelemetry",  # Azurite 3.33+ otherwise reports usage to Microsoft
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _answers(port):
        if process.poll() is not None:
            _unavailable(f"{executable} exited with {process.returncode}: {_tail(log)}")
        if time.monotonic() > deadline:
            _stop(process)
            _unavailable(f"{executable} did not answer within {STARTUP_SECONDS:.0f} s")
        time.sleep(0.1)
    return process, port


@pytest.fixture(scope="session")
def azurite_connection_string() -> Iterator[str]:
    """A connection string to an Azurite queue service for the whole session."""
    configured = os.environ.get(CONNECTION_STRING_ENV)
    if configured:
        yield configured
        return
    executable = find_azurite_queue()
    if executable is None:
        _unavailable("no azurite-queue in node_modules/.bin or on PATH")
    with tempfile.TemporaryDirectory(prefix="sharepack-azurite-") as location:
        process, port = _start(executable, Path(location))
        try:
            yield connection_string(port)
        finally:
            _stop(process)
