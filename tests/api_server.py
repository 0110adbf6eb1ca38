"""Run sharepack's API and a worker for real, on a free loopback port, inside a test."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import uvicorn

from databricks_emulator.server import free_port
from sharepack.api.app import create_app
from sharepack.identity.principal import ALL_BUSINESS_LINES, Role, operator
from sharepack.running.provision import make_worker
from sharepack.runtime import Runtime
from sharepack.usecases.identity import create_api_key

#: The operator the tests act as where a use case asks who is acting (the CLI's caller).
TEST_OPERATOR = operator("cli:tests (Databricks: tests@example.com)")


def make_key(
    runtime: Runtime,
    role: Role = Role.ADMIN,
    business_lines: Iterable[str] = (ALL_BUSINESS_LINES,),
    *,
    name: str | None = None,
    acts_for_others: bool = False,
    owner_email: str | None = None,
) -> str:
    """A new API key of `role` for `business_lines`; its plaintext."""
    made = create_api_key(
        runtime,
        TEST_OPERATOR,
        name=name or f"test-{role}-{time.monotonic_ns()}",
        role=role,
        business_lines=business_lines,
        acts_for_others=acts_for_others,
        owner_email=owner_email,
    )
    return made.plaintext


@dataclass(frozen=True)
class ServedApi:
    """The API's base URL (what `f"{api}/..."` gives) and an admin key's headers."""

    url: str
    key: str
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.url

    def client(self, *, key: str | None = None) -> httpx.Client:
        """A client of the API sending `key` (the served admin key by default)."""
        return httpx.Client(
            base_url=self.url,
            timeout=30,
            headers={"Authorization": f"Bearer {key or self.key}"},
        )

    def ended(self, pack_id: str, *, within: float = 60) -> dict[str, object]:
        """The pack's status once its run has ended (polled; fails after `within` s)."""
        deadline = time.monotonic() + within
        while (
            status := httpx.get(
                f"{self.url}/workflow/sharepack/{pack_id}", headers=self.headers, timeout=30
            ).json()
        )["Status"] == "IN_PROGRESS":
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
        return dict(status)


@contextmanager
def running_api(
    runtime: Runtime, *, with_worker: bool = True, key: str | None = None
) -> Iterator[ServedApi]:
    """Serve the API over HTTP (and run a worker thread); yield where, with an admin key
    (made here unless given)."""
    key = key or make_key(runtime)
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
        yield ServedApi(
            url=f"http://127.0.0.1:{port}",
            key=key,
            headers={"Authorization": f"Bearer {key}"},
        )
    finally:
        stop.set()
        server.should_exit = True
        api_thread.join(timeout=10)
        if with_worker:
            worker_thread.join(timeout=30)
