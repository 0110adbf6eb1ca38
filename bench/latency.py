"""Latency at scale on PostgreSQL, over HTTP with an API key, from one run.

Makes its own database (dropped and created), migrates it, serves the real API (uvicorn on
a loopback socket, no worker: uploads are measured up to their 202, and a worker's runs
would only compete for the same two cores) against the emulator at 0 ms, and measures:

- upload p50/p99 of a small YAML pack (examples/sharepack.yaml, a new project each time);
- upload p50/p99 of a 500-row Excel pack (250 recipients, 250 shares; written with
  `packfile.writer`);
- then, with about `--rows` SCD2 versions loaded across the history tables
  (`history_rows`), status p50/p99 of random loaded packs, and both uploads again.

Each figure is printed beside its goal with PASS or MISS; warm-up requests are excluded.
Run `python bench/latency.py [--rows 1000000] [--uploads 200]`; `--quick` is the small run
tests/bench makes to keep the script working. The server is named by
SHAREPACK_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import uvicorn
import yaml
from history_rows import entity_id, load, row_counts
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from databricks_emulator.server import free_port
from sharepack.api.app import create_app
from sharepack.engine import ResourceNames, names_to_read, plan, read_names
from sharepack.identity.principal import ALL_BUSINESS_LINES, Role, operator
from sharepack.packfile import ReadLimits, load_share_pack
from sharepack.packfile.models import (
    Metadata,
    RecipientSpec,
    RecipientType,
    SharePackConfig,
    ShareSpec,
)
from sharepack.packfile.writer import write_xlsx
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.usecases.identity import create_api_key

DATABASE = "sharepack_bench"
EXAMPLE = Path(__file__).parents[1] / "examples" / "sharepack.yaml"
TABLES = [f"bench_catalog.bench.t{i:04d}" for i in range(500)]
WARM_UP = 10
BENCH_OPERATOR = operator("cli:bench")


@dataclass(frozen=True)
class Figure:
    """Latencies of one kind of request, in seconds, and the goal for its p99 in ms."""

    name: str
    samples: list[float]
    goal_ms: float

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.samples, n=100, method="inclusive")[p - 1] * 1000

    @property
    def within_goal(self) -> bool:
        return self.percentile(99) <= self.goal_ms

    def line(self) -> str:
        p50, p99 = self.percentile(50), self.percentile(99)
        verdict = "PASS" if self.within_goal else "MISS"
        return (
            f"{self.name:<34} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
            f"goal p99 <= {self.goal_ms:g} ms  {verdict}  ({len(self.samples)} samples)"
        )


@contextmanager
def emulator_process() -> Iterator[str]:
    """The emulator at 0 ms in a process of its own, as a workspace is remote: its work
    does not take the API's interpreter lock. Yields its URL, with the bench's tables."""
    command = [sys.executable, "-m", "databricks_emulator", "--port", "0", "--token", "bench"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout is not None else ""
        if not line.startswith("Databricks emulator on "):
            raise SystemExit(f"the emulator did not start: {line!r}")
        url = line.split(" on ", 1)[1].strip()
        httpx.post(f"{url}/_emulator/tables", json={"tables": TABLES}).raise_for_status()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def fresh_database(server_url: str, name: str) -> str:
    """Drop and create the database `name` on the server; its URL."""
    admin = make_url(server_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(drivername="postgresql", database=name)
    return url.render_as_string(hide_password=False)


@contextmanager
def served(runtime: Runtime) -> Iterator[str]:
    """The API on a free loopback port, in a thread; yields its URL."""
    port = free_port()
    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit("the sharepack API did not start within 30 s")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def yaml_pack(number: int) -> bytes:
    """examples/sharepack.yaml under a project of its own."""
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document["metadata"]["project_name"] = f"Bench YAML {number}"
    return yaml.safe_dump(document, sort_keys=False).encode()


def excel_pack(number: int, folder: Path) -> bytes:
    """A workbook of 250 recipients and 250 shares (500 rows), under a project of its own."""
    config = SharePackConfig(
        metadata=Metadata(
            requestor="bench@example.com",
            project_name=f"Bench Excel {number}",
            business_line="Bench",
        ),
        recipients=tuple(
            RecipientSpec(
                name=f"bench-recipient-{i:03d}",
                type=RecipientType.D2O,
                email=f"r{i}@partner.example.com",
                allowed_ips=(f"10.{i}.0.0/16",),
            )
            for i in range(250)
        ),
        shares=tuple(
            ShareSpec(
                name=f"bench_share_{s:03d}",
                recipients=(f"bench-recipient-{s:03d}", f"bench-recipient-{(s + 1) % 250:03d}"),
                data_objects=(TABLES[2 * s], TABLES[2 * s + 1]),
            )
            for s in range(250)
        ),
    )
    path = folder / f"bench_{number}.xlsx"
    write_xlsx(config, path)
    return path.read_bytes()


def timed_uploads(
    client: httpx.Client, workspace: str, files: list[tuple[str, bytes]]
) -> list[float]:
    """Upload each file in turn; the seconds each took, warm-up excluded."""
    samples = []
    for index, (name, content) in enumerate(files):
        started = time.perf_counter()
        answer = client.post(
            "/workflow/sharepack/upload",
            files={"file": (name, content)},
            headers={"X-Workspace-URL": workspace},
        )
        elapsed = time.perf_counter() - started
        if answer.status_code != 202:
            raise SystemExit(f"upload of {name} answered {answer.status_code}: {answer.text}")
        if index >= WARM_UP:
            samples.append(elapsed)
    return samples


def timed_status(client: httpx.Client, packs: int, count: int) -> list[float]:
    """GET the status of `count` random loaded packs (after a warm-up); seconds each."""
    chosen = [random.randint(1, packs) for _ in range(count + WARM_UP)]
    samples = []
    for index, number in enumerate(chosen):
        started = time.perf_counter()
        answer = client.get(f"/workflow/sharepack/{entity_id('share_packs', number)}")
        elapsed = time.perf_counter() - started
        if answer.status_code != 200:
            raise SystemExit(f"status of pack {number} answered {answer.status_code}")
        if index >= WARM_UP:
            samples.append(elapsed)
    return samples


def admin_key(runtime: Runtime) -> str:
    made = create_api_key(
        runtime,
        BENCH_OPERATOR,
        name="bench-admin",
        role=Role.ADMIN,
        business_lines=(ALL_BUSINESS_LINES,),
    )
    return made.plaintext


@dataclass(frozen=True)
class Run:
    """What one run measures against: the API's URL and key, the emulator's URL."""

    api: str
    key: str
    workspace: str
    uploads: int
    folder: Path

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key}"}
        return httpx.Client(base_url=self.api, timeout=60, headers=headers)

    def uploads_of(self, label: str, make: Callable[[int], tuple[str, bytes]]) -> list[float]:
        files = [make(i) for i in range(self.uploads + WARM_UP)]
        with self.client() as client:
            return timed_uploads(client, self.workspace, files)

    def both_uploads(self, stage: str, offset: int) -> list[Figure]:
        yaml_samples = self.uploads_of(
            "yaml", lambda i: (f"pack_{offset + i}.yaml", yaml_pack(offset + i))
        )
        excel_samples = self.uploads_of(
            "xlsx", lambda i: (f"pack_{offset + i}.xlsx", excel_pack(offset + i, self.folder))
        )
        return [
            Figure(f"upload YAML ({stage})", yaml_samples, 50),
            Figure(f"upload Excel 500 rows ({stage})", excel_samples, 150),
        ]


def measure(run: Run, database_url: str, rows: int) -> list[Figure]:
    figures = run.both_uploads("empty database", 0)
    for figure in figures:
        print(figure.line(), flush=True)
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as db:
        loaded = load(db, rows)
        counts = row_counts(db)
    print(f"loaded in {time.perf_counter() - started:.1f} s; rows per table:")
    for name, count in counts.items():
        print(f"  {name:<20} {count:>10,}")
    scd2 = sum(c for n, c in counts.items() if n in loaded)
    print(f"  {'SCD2 rows in all':<20} {scd2:>10,}", flush=True)
    with run.client() as client:
        status = Figure(
            "status (loaded)", timed_status(client, loaded["share_packs"], run.uploads), 5
        )
    print(status.line(), flush=True)
    at_scale = run.both_uploads("loaded", run.uploads + WARM_UP)
    for figure in at_scale:
        print(figure.line(), flush=True)
    return [*figures, status, *at_scale]


def print_excel_parts(runtime: Runtime, workspace: str, folder: Path, count: int) -> None:
    """Where an Excel upload's time goes: its steps run directly, without HTTP or store."""
    content = excel_pack(-1, folder)
    parts: dict[str, list[float]] = {"parse and validate": [], "workspace read": [], "plan": []}
    calls_before = _emulator_calls(workspace)
    for _ in range(count):
        started = time.perf_counter()
        config = load_share_pack(content, "pack.xlsx", limits=ReadLimits()).config
        read_at = time.perf_counter()
        before = read_names(
            runtime.workspace_for(workspace), names_to_read(config, ResourceNames())
        )
        planned_at = time.perf_counter()
        plan(config, before, runtime.plan_options())
        parts["plan"].append(time.perf_counter() - planned_at)
        parts["parse and validate"].append(read_at - started)
        parts["workspace read"].append(planned_at - read_at)
    calls = (_emulator_calls(workspace) - calls_before) // count
    print(f"Excel upload's steps run directly, p50 of {count} ({calls} workspace calls each):")
    for name, samples in parts.items():
        print(f"  {name:<20} {statistics.median(samples) * 1000:8.1f} ms")


def _emulator_calls(workspace: str) -> int:
    calls: int = httpx.get(f"{workspace}/_emulator/stats").json()["calls"]
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--uploads", type=int, default=200, help="samples per figure")
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 50 samples")
    parser.add_argument("--database", default=DATABASE, help="dropped and created anew")
    args = parser.parse_args()
    rows, uploads = (20_000, 50) if args.quick else (args.rows, args.uploads)
    server_url = os.environ.get(
        "SHAREPACK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/"
    )
    database_url = fresh_database(server_url, args.database)
    with tempfile.TemporaryDirectory() as folder, emulator_process() as workspace:
        settings = Settings(
            _env_file=None,
            sharepack_data_dir=Path(folder) / "data",
            domain_db_connection_string=database_url,
            sharepack_workspace_urls=[workspace],
            databricks_token=SecretStr("bench"),
        )
        runtime = build_runtime(settings)
        try:
            key = admin_key(runtime)
            with served(runtime) as api:
                run = Run(api, key, workspace, uploads, Path(folder))
                figures = measure(run, database_url, rows)
            print_excel_parts(runtime, workspace, Path(folder), max(5, uploads // 10))
        finally:
            runtime.close()
    within = sum(figure.within_goal for figure in figures)
    print(f"{within} of {len(figures)} figures within their goal")


if __name__ == "__main__":
    main()
