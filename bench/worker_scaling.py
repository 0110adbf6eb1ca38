"""Packs per minute as `sharepack worker` processes are added (part (b) of throughput.py).

A PostgreSQL database of its own (created, then dropped) and an emulator answering each
call after 100 ms. For each number of workers, the workers are started and, once each
says it is polling, many small packs are submitted through the use case at once; the
clock runs from the first submission until every pack is COMPLETED.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from databricks_emulator.server import EmulatorServer
from sharepack.identity.principal import operator
from sharepack.running.status import PackStatus
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.usecases.plan_apply import read_file
from sharepack.usecases.submit import store_share_pack

DATABASE = "sharepack_throughput"
LATENCY_MS = 100
TOKEN = "dapi-bench"
SRC = Path(__file__).resolve().parents[1] / "src"
TABLES = 600  # the emulator's seed has bench_catalog.bench.t0000 to t0599
#: How long a round may take before the bench gives up (a stuck worker, not a slow one).
ROUND_DEADLINE_SECONDS = 900


@dataclass(frozen=True)
class Round:
    workers: int
    packs: int
    seconds: float

    @property
    def packs_per_minute(self) -> float:
        return 60 * self.packs / self.seconds


def small_pack(tag: str, first_table: int) -> bytes:
    """Two open-sharing recipients and one share of three tables, named after `tag`."""
    tables = [f"bench_catalog.bench.t{(first_table + k) % TABLES:04d}" for k in range(3)]
    octet = first_table % 250
    return f"""
metadata:
  requestor: bench@example.com
  project_name: Throughput {tag}
  business_line: Bench
  strategy: NEW
recipient:
  - name: {tag}-a
    type: D2O
    email: a@partner.example.com
    allowed_ips: [10.{octet}.1.0/24]
  - name: {tag}-b
    type: D2O
    email: b@partner.example.com
    allowed_ips: [10.{octet}.2.0/24]
share:
  - name: {tag.replace("-", "_")}
    recipients: [{tag}-a, {tag}-b]
    data_objects: [{", ".join(tables)}]
""".encode()


@contextmanager
def own_database(server_url: str, name: str) -> Iterator[str]:
    """Database `name` on the server of `server_url`, empty, dropped afterwards."""
    admin_url = make_url(server_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin_url.render_as_string(hide_password=False), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Worker:
    """One `sharepack worker` process running this checkout's code."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(SRC),
            "DOMAIN_DB_CONNECTION_STRING": settings.database_url,
            "SHAREPACK_WORKSPACE_URLS": ",".join(settings.sharepack_workspace_urls),
            "DATABRICKS_TOKEN": TOKEN,
            "SHAREPACK_DATA_DIR": str(folder),
            "SHAREPACK_WORKER_POLL_SECONDS": "0.05",
            "SHAREPACK_DIRECTORY_SYNC_MINUTES": "0",
        }
        self.last_lines: deque[str] = deque(maxlen=20)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "sharepack.cli.main", "worker"],
            cwd=folder,  # no .env of the caller's
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.last_lines.append(line)
            if "sharepack worker on" in line:
                self.ready.set()

    def wait_ready(self, deadline: float) -> None:
        while not self.ready.wait(0.1):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("a worker did not start:\n" + "".join(self.last_lines))

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()  # after the run in hand: there is none left
        self._process.wait(timeout=60)
        self._reader.join()


def submit(runtime: Runtime, url: str, tag: str, packs: int, first_table: int) -> list[uuid.UUID]:
    caller = operator("cli:bench")
    ids = []
    for i in range(packs):
        name = f"{tag}-p{i:02d}"
        loaded = read_file(runtime, small_pack(name, first_table + 3 * i), f"{name}.yaml")
        stored = store_share_pack(
            runtime,
            loaded,
            loaded.config.metadata.strategy,
            loaded.warnings,
            filename=f"{name}.yaml",
            workspace_url=url,
            caller=caller,
        )
        ids.append(stored.share_pack_id)
    return ids


def wait_until_completed(runtime: Runtime, ids: Sequence[uuid.UUID], deadline: float) -> None:
    wanted = set(ids)
    while True:
        with runtime.database.unit_of_work() as uow:
            ended = {
                record.share_pack_id: record
                for status in (PackStatus.COMPLETED, PackStatus.FAILED)
                for record in uow.share_packs.list_current(status=status.value, limit=10_000)
                if record.share_pack_id in wanted
            }
        failed = [r for r in ended.values() if r.share_pack_status == PackStatus.FAILED]
        if failed:
            raise SystemExit(f"pack {failed[0].share_pack_name} FAILED: {failed[0].error_message}")
        if len(ended) == len(wanted):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(wanted) - len(ended)} packs not done in time")
        time.sleep(0.05)


def run_round(
    runtime: Runtime, settings: Settings, folder: Path, workers: int, packs: int, first: int
) -> Round:
    deadline = time.monotonic() + ROUND_DEADLINE_SECONDS
    started = [Worker(settings, folder) for _ in range(workers)]
    try:
        for worker in started:
            worker.wait_ready(deadline)
        url = settings.sharepack_workspace_urls[0]
        clock = time.monotonic()
        ids = submit(runtime, url, f"w{workers}", packs, first)
        wait_until_completed(runtime, ids, deadline)
        return Round(workers, packs, time.monotonic() - clock)
    finally:
        for worker in started:
            worker.stop()


def bench_workers(
    postgres_url: str, packs: int, counts: Sequence[int] = (1, 2, 4), database: str = DATABASE
) -> None:
    print(f"(b) {packs} packs (2 recipients, 1 share of 3 tables each) per round;")
    print(f"    PostgreSQL database {database}; {LATENCY_MS} ms a call; no rate limit")
    rounds = []
    with (
        own_database(postgres_url, database) as database_url,
        EmulatorServer(token=TOKEN, latency_ms=LATENCY_MS) as server,
        tempfile.TemporaryDirectory() as folder,
    ):
        settings = Settings(
            _env_file=None,
            domain_db_connection_string=database_url,
            sharepack_workspace_urls=[server.url],
            databricks_token=SecretStr(TOKEN),
            sharepack_data_dir=Path(folder),
        )
        runtime = build_runtime(settings)
        try:
            for n, workers in enumerate(counts):
                rounds.append(run_round(runtime, settings, Path(folder), workers, packs, n * 150))
        finally:
            runtime.close()
    one = rounds[0].packs_per_minute
    for r in rounds:
        print(
            f"  {r.workers} worker(s): {r.packs} packs in {r.seconds:.1f} s = "
            f"{r.packs_per_minute:.1f} packs/min, {r.packs_per_minute / one:.2f}x one worker"
        )
