"""Run sharepack's API and a worker for real, on a free loopback port, inside a test."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from databricks_emulator.server import free_port
from sharepack.api.app import create_app
from sharepack.running.provision import make_worker
from sharepack.runtime import Runtime


@contextmanager
def running_api(runtime: Runtime, *, with_worker: bool = True) -> Iterator[str]:
    """Serve the API over HTTP (and run a worker thread); yield the base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    api_thread = threading.Thread(target=server.run, name="api", daemon=True)
    stop = threading.Event()
    worker_thread = threading.Thread(
        target=make_worker(runtime).run_forever, args=(stop,), name="worker", daemon=True
    )
    api_thread.start()
    if with_worker:
        worker_thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not api_thread.is_alive():
            raise RuntimeError("the sharepack API did not start within 10 s")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        server.should_exit = True
        api_thread.join(timeout=10)
        if with_worker:
            worker_thread.join(timeout=30)
