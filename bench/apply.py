"""Apply a large pack against the emulator at 100 ms per call: concurrency 1 vs the default.

Prints, from one run, the wall time of each apply, their ratio, and the write calls made
against the minimum the pack needs. Run with `make bench` (or `python bench/apply.py`).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import httpx

from databricks_emulator.server import EmulatorServer
from sharepack.engine import InMemoryJournal, apply, names_of, plan, read_names
from sharepack.packfile.models import (
    Metadata,
    RecipientSpec,
    RecipientType,
    SharePackConfig,
    ShareSpec,
)
from sharepack.settings import Settings
from sharepack.workspace.sdk import SdkWorkspace, make_client

WRITES = ("POST", "PATCH", "PUT", "DELETE")
LATENCY_MS = 100


def large_pack(recipients: int, shares: int, objects: int) -> SharePackConfig:
    tables = [f"bench_catalog.bench.t{i:04d}" for i in range(objects)]
    per_share = -(-objects // shares)
    return SharePackConfig(
        metadata=Metadata(
            requestor="bench@example.com", project_name="Bench", business_line="Bench"
        ),
        recipients=tuple(
            RecipientSpec(
                name=f"recipient-{i:03d}",
                type=RecipientType.D2O,
                email=f"r{i}@partner.example.com",
                allowed_ips=(f"10.{i}.0.0/16",),
            )
            for i in range(recipients)
        ),
        shares=tuple(
            ShareSpec(
                name=f"share_{s:02d}",
                recipients=tuple(f"recipient-{(s * 3 + k) % recipients:03d}" for k in range(3)),
                data_objects=tuple(tables[s * per_share : (s + 1) * per_share]),
            )
            for s in range(shares)
        ),
    )


@dataclass(frozen=True)
class Measurement:
    seconds: float
    writes: int
    actions: int


def measure(server: EmulatorServer, config: SharePackConfig, concurrency: int) -> Measurement:
    httpx.post(f"{server.url}/_emulator/reset").raise_for_status()
    httpx.post(f"{server.url}/_emulator/latency", json={"ms": LATENCY_MS}).raise_for_status()
    workspace = SdkWorkspace(make_client(server.url, token="bench"))
    the_plan = plan(config, read_names(workspace, names_of(config)))
    calls_before = len(httpx.get(f"{server.url}/_emulator/calls").json())
    started = time.perf_counter()
    result = apply(the_plan, workspace, InMemoryJournal(), concurrency=concurrency)
    seconds = time.perf_counter() - started
    if not result.ok:
        raise SystemExit(f"apply failed: {result.error}")
    calls = httpx.get(f"{server.url}/_emulator/calls").json()[calls_before:]
    writes = sum(1 for c in calls if c["method"] in WRITES)
    return Measurement(seconds, writes, len(the_plan.actions))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=50)
    parser.add_argument("--shares", type=int, default=20)
    parser.add_argument("--objects", type=int, default=500)
    args = parser.parse_args()
    config = large_pack(args.recipients, args.shares, args.objects)
    default = Settings(_env_file=None).sharepack_apply_concurrency
    batches = sum(-(-len(s.data_objects) // 100) for s in config.shares)
    minimum = len(config.recipients) + len(config.shares) + batches + len(config.shares)
    with EmulatorServer() as server:
        serial = measure(server, config, 1)
        parallel = measure(server, config, default)
    print(f"pack: {args.recipients} recipients, {args.shares} shares, {args.objects} objects")
    print(f"latency per call: {LATENCY_MS} ms")
    print(f"concurrency 1: {serial.seconds:.2f} s, {serial.writes} write calls")
    print(f"concurrency {default}: {parallel.seconds:.2f} s, {parallel.writes} write calls")
    print(f"speed-up: {serial.seconds / parallel.seconds:.2f}x")
    print(f"write calls: {parallel.writes} vs minimum {minimum} ({parallel.actions} actions)")


if __name__ == "__main__":
    main()
