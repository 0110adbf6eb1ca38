"""What tracing costs a workspace read: the same reads against the local emulator with no
listener, with the tracing listener while tracing is off, and while it records spans.

Prints, from one run, the median time per call of each and their ratios to no listener
(rounds interleaved, so the machine's load falls on all three alike), and the listener's
own cost around no exchange at all, as a share of a call. Run with
`python bench/tracing.py`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from databricks_emulator.server import EmulatorServer
from sharepack.observability.tracing import start, workspace_call_span
from sharepack.workspace.sdk import SdkWorkspace, make_client
from sharepack.workspace.transport import CallListener, WorkspaceCall

TOKEN = "bench"


def reader(
    server: EmulatorServer, listeners: tuple[CallListener, ...], shares: int
) -> Callable[[], float]:
    """One round: `shares` share reads (one call each); its seconds per call."""
    workspace = SdkWorkspace(make_client(server.url, token=TOKEN, listeners=listeners))
    names = [f"no_such_share_{i}" for i in range(shares)]

    def one_round() -> float:
        started = time.perf_counter()
        for name in names:
            workspace.read_state(shares=[name])
        return (time.perf_counter() - started) / shares

    return one_round


def listener_alone(times: int) -> float:
    """Seconds one `workspace_call_span` takes around no exchange at all."""
    call = WorkspaceCall("GET", "/api/2.1/unity-catalog/shares/s", "unity-catalog/shares", 200)
    started = time.perf_counter()
    for _ in range(times):
        with workspace_call_span(call):
            pass
    return (time.perf_counter() - started) / times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200, help="calls per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with EmulatorServer(token=TOKEN) as server:
        httpx.post(f"{server.url}/_emulator/reset").raise_for_status()
        bare = reader(server, (), args.calls)
        traced = reader(server, (workspace_call_span,), args.calls)
        exporter = InMemorySpanExporter()
        results: dict[str, list[float]] = {"none": [], "off": [], "on": []}
        alone: dict[str, list[float]] = {"off": [], "on": []}
        for _ in range(args.rounds):
            results["none"].append(bare())
            results["off"].append(traced())
            alone["off"].append(listener_alone(args.calls * 10))
            tracing = start([exporter])
            results["on"].append(traced())
            alone["on"].append(listener_alone(args.calls * 10))
            tracing.close()
            exporter.clear()
    median = {name: statistics.median(times) for name, times in results.items()}
    print(f"{args.rounds} rounds of {args.calls} share reads against the local emulator")
    print(f"no listener:            {median['none'] * 1e6:8.0f} us per call")
    print(
        f"tracing listener, off:  {median['off'] * 1e6:8.0f} us per call "
        f"({median['off'] / median['none']:.3f}x)"
    )
    print(
        f"tracing listener, on:   {median['on'] * 1e6:8.0f} us per call "
        f"({median['on'] / median['none']:.3f}x)"
    )
    off, on = (statistics.median(alone[name]) for name in ("off", "on"))
    print(f"the listener alone: {off * 1e6:.2f} us off, {on * 1e6:.2f} us on, per call")
    print(f"  that is {off / median['none']:.5f}x and {on / median['none']:.5f}x of a call")


if __name__ == "__main__":
    main()
