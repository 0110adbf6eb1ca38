"""A run that reads the workspace once: the calls of a CLI apply, and what 100 ms per call adds.

Applies a 30-recipient, 10-share, 200-object pack as `sharepack apply` does (the operator's
identity, the pack recorded, then planned, applied and recorded), once against an emulator
answering at once and once at 100 ms per call, each on a fresh database and workspace.
Prints the calls (reads, writes), the time the latency adds, and the run's critical path:
the longest chain of calls each of which waits for the one before (the workspace's host
check, whom the credentials belong to, one round of reads, then the plan's longest chain
of dependent actions), at 100 ms each. Goal: added ≤ 1.5x the critical path.
Interpreter start-up is measured apart (bench/startup.py). Run: `python bench/run_calls.py`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from databricks_emulator.server import EmulatorServer
from sharepack.cli.operator import operator_caller
from sharepack.engine import Plan
from sharepack.running.provision import Observer
from sharepack.runtime import build_runtime
from sharepack.settings import Settings
from sharepack.usecases.plan_apply import apply_file, read_file

LATENCY_MS = 100
GOAL = 1.5
#: The host check and the SDK's host metadata, then the current user, then one round of
#: reads: what any run waits for before its first write.
CALLS_BEFORE_WRITES = 4


def pack_yaml(recipients: int, shares: int, objects: int) -> bytes:
    tables = [f"bench_catalog.bench.t{i:04d}" for i in range(objects)]
    per_share = -(-objects // shares)
    return yaml.safe_dump(
        {
            "metadata": {
                "requestor": "bench@example.com",
                "project_name": "Bench reads",
                "business_line": "Bench",
                "strategy": "NEW",
            },
            "recipient": [
                {
                    "name": f"recipient-{i:03d}",
                    "type": "D2O",
                    "email": f"r{i}@partner.example.com",
                    "allowed_ips": [f"10.{i}.0.0/16"],
                }
                for i in range(recipients)
            ],
            "share": [
                {
                    "name": f"share_{s:02d}",
                    "recipients": [f"recipient-{(s * 3 + k) % recipients:03d}" for k in range(3)],
                    "data_objects": tables[s * per_share : (s + 1) * per_share],
                }
                for s in range(shares)
            ],
        }
    ).encode()


def chain_depth(the_plan: Plan) -> int:
    """The longest chain of actions each depending on the one before."""
    by_id = {a.action_id: a for a in the_plan.actions}
    depth: dict[str, int] = {}

    def of(action_id: str) -> int:
        if action_id not in depth:
            needs = [d for d in by_id[action_id].depends_on if d in by_id]
            depth[action_id] = 1 + max((of(d) for d in needs), default=0)
        return depth[action_id]

    return max((of(i) for i in by_id), default=0)


@dataclass(frozen=True)
class Run:
    seconds: float
    calls: Counter[str]
    depth: int
    status: str


def run_once(server: EmulatorServer, pack: bytes, latency_ms: int) -> Run:
    httpx.post(f"{server.url}/_emulator/reset").raise_for_status()
    httpx.post(f"{server.url}/_emulator/latency", json={"ms": latency_ms}).raise_for_status()
    planned: list[Plan] = []
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(_env_file=None, sharepack_data_dir=Path(data), databricks_token="bench")
        runtime = build_runtime(settings)
        try:
            started = time.perf_counter()
            loaded = read_file(runtime, pack, "bench.yaml")
            caller = operator_caller(runtime.workspace_for(server.url))
            record = apply_file(
                runtime,
                loaded,
                filename="bench.yaml",
                workspace_url=server.url,
                caller=caller,
                observer=Observer(planned=planned.append),
            )
            seconds = time.perf_counter() - started
        finally:
            runtime.close()
    calls = httpx.get(f"{server.url}/_emulator/calls").json()
    kinds = Counter("read" if c["method"] == "GET" else "write" for c in calls)
    depth = chain_depth(planned[0]) if planned else 0
    return Run(seconds, kinds, depth, record.share_pack_status)


def _seconds(run: Run) -> float:
    return run.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=30)
    parser.add_argument("--shares", type=int, default=10)
    parser.add_argument("--objects", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pack = pack_yaml(args.recipients, args.shares, args.objects)
    with EmulatorServer() as server:
        # The fastest of a few, each way: what else the machine does only ever adds.
        fast = min((run_once(server, pack, 0) for _ in range(args.repeat)), key=_seconds)
        slow = min((run_once(server, pack, LATENCY_MS) for _ in range(args.repeat)), key=_seconds)
    for run in (fast, slow):
        if run.status != "COMPLETED":
            raise SystemExit(f"the apply ended {run.status}")
    added = slow.seconds - fast.seconds
    critical = (CALLS_BEFORE_WRITES + slow.depth) * LATENCY_MS / 1000
    ratio = added / critical
    total = slow.calls["read"] + slow.calls["write"]
    print(f"pack: {args.recipients} recipients, {args.shares} shares, {args.objects} objects")
    print(f"calls: {total} ({slow.calls['read']} reads, {slow.calls['write']} writes)")
    print(f"apply at 0 ms per call: {fast.seconds:.2f} s; at {LATENCY_MS} ms: {slow.seconds:.2f} s")
    print(f"critical path: {CALLS_BEFORE_WRITES} + {slow.depth} dependent calls = {critical:.2f} s")
    verdict = "PASS" if ratio <= GOAL else "MISS"
    print(
        f"added by {LATENCY_MS} ms per call: {added:.2f} s = {ratio:.2f}x the critical path "
        f"(goal <= {GOAL}x) {verdict}"
    )


if __name__ == "__main__":
    main()
