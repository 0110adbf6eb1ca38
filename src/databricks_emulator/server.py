"""The emulator as a server in this process (the demo, `sharepack serve --emulator`, tests and
benchmarks), on a free loopback port.

    with EmulatorServer(token="dapi-test") as server:
        client = WorkspaceClient(host=server.url, token="dapi-test", auth_type="pat")
        server.add_fault(method="PATCH", path_regex="/shares/", nth=3)

    EmulatorServer(state_file=Path(".sharepack/emulator.json"))  # the same workspace each start

The control helpers call the server's `/_emulator/` API over HTTP, as any other process would.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from databricks_emulator.app import create_app
from databricks_emulator.state_file import StateFile, restore


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` (0 picks a free port) that already accepts connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off only on sockets that say they are TCP.
    # With it on, each answer waits ~40 ms for the caller's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class EmulatorServer:
    """A real HTTP server in a background thread; `url` is valid once `start()` returns.

    With `state_file`, the workspace is kept in that file (see `state_file.py`): an
    existing file gives the workspace, its id and its port (over `port` and
    `workspace_id`, which serve a new file), and from `start()` on every change is saved.
    `StateFileError` when the file cannot be read back; `OSError` when the port is taken.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: Path | None = None,
        token: str | None = None,
        latency_ms: int = 0,
        pipeline_step_ms: int = 200,
        workspace_id: str | int | None = None,
        state_file: Path | None = None,
        rate_limits: Mapping[str, int] | None = None,
        default_rate_limit: int | None = None,
    ) -> None:
        self.host = host
        self._state_file = StateFile(state_file) if state_file is not None else None
        saved = self._state_file.read() if self._state_file is not None else None
        if saved is not None:
            port, workspace_id = saved.port, saved.workspace_id
        self.app = create_app(
            seed=seed,
            token=token,
            latency_ms=latency_ms,
            pipeline_step_ms=pipeline_step_ms,
            workspace_id=workspace_id,
            rate_limits=rate_limits,
            default_rate_limit=default_rate_limit,
        )
        if saved is not None:
            restore(self.app.state.emulator, saved.resources)
        self._socket = listening_socket(host, port)
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="emulator",
            daemon=True,
        )

    @property
    def workspace_id(self) -> str:
        """This instance's workspace id (random unless given), kept across resets."""
        workspace_id: str = self.app.state.emulator.workspace_id
        return workspace_id

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _keep_state(self) -> None:
        if self._state_file is not None:
            self._state_file.keep(self.app.state.emulator, self.port)

    def run(self) -> None:
        """Serve in this thread until Ctrl-C or SIGTERM, as a command does; then stop."""
        self._keep_state()
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self.stop()

    def start(self, timeout: float = 10.0) -> None:
        """Return once the server accepts connections (and its state file is written)."""
        self._keep_state()
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"The emulator could not start on {self.url}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"The emulator did not start on {self.url} within {timeout} s")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving; a kept workspace is saved with pipeline updates as they now stand."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()
        self.app.state.emulator.advance()  # updates that moved on since the last call

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # the control API, over HTTP

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call `/_emulator/{path}` and answer its decoded JSON."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_emulator/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def reset(self) -> None:
        self.control("POST", "reset")

    def state(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.control("GET", "state")
        return answer

    def calls(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self.control("GET", "calls")
        return answer

    def stats(self) -> dict[str, int]:
        answer: dict[str, int] = self.control("GET", "stats")
        return answer

    def add_fault(self, **fault: Any) -> None:
        """`method`, `path_regex`, `nth`, `times`, `status`, `error_code`, `message`, ..."""
        self.control("POST", "faults", fault)

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def set_latency(self, ms: int) -> None:
        self.control("POST", "latency", {"ms": ms})

    def set_rate_limits(self, per_second: Mapping[str, int], default: int | None = None) -> None:
        """Requests per second per API family (`default` for the others); {} turns them off."""
        self.control("POST", "rate-limits", {"per_second": dict(per_second), "default": default})

    def add_tables(self, *tables: str | dict[str, str]) -> None:
        self.control("POST", "tables", {"tables": list(tables)})

    def set_paging(self, mode: str, seed: int = 0) -> None:
        """`realistic` (any order, short and empty pages) or `plain` (name order, full pages)."""
        self.control("POST", "paging", {"mode": mode, "seed": seed})

    def set_pipeline_step_ms(self, step_ms: int) -> None:
        self.control("POST", "pipeline-timing", {"step_ms": step_ms})
