"""How fast the `sharepack` command starts, as a ratio to a bare interpreter's start.

Runs, in one process, each command N times as a subprocess (best of N): `python -c pass`,
`sharepack --help`, `sharepack version` and `sharepack validate examples/sharepack.yaml`.
Prints each one's time in ms, its ratio to the bare start, its goal (15x, 15x, 30x) with
PASS or MISS, and its peak RSS. Run with `python bench/startup.py` (the venv's interpreter:
the `sharepack` console script beside it is the one measured).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sharepack.yaml"


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    goal: float | None  # at most this many times the bare start; None for the bare start


@dataclass(frozen=True)
class Measurement:
    case: Case
    best_ms: float
    peak_rss_mib: float


def cases(console_script: Path) -> tuple[Case, ...]:
    script = str(console_script)
    return (
        Case("python -c pass", (sys.executable, "-c", "pass"), None),
        Case("sharepack --help", (script, "--help"), 15),
        Case("sharepack version", (script, "version"), 15),
        Case("sharepack validate example", (script, "validate", str(EXAMPLE)), 30),
    )


def _source_env() -> dict[str, str]:
    """This checkout's `src` first on the path, so the code beside this script is measured
    even when the venv's editable install points at another checkout."""
    env = dict(os.environ)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def run_once(argv: tuple[str, ...], env: dict[str, str]) -> tuple[float, int]:
    """Seconds `argv` took and its own peak RSS in KiB; `SystemExit` unless it exits 0.

    The child is reaped with `os.wait4`, which gives that child's rusage: the figure
    `resource.getrusage(RUSAGE_CHILDREN)` reports, but for this child alone rather than
    the largest of every child so far."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            raise SystemExit(
                f"{' '.join(argv)} exited {child.returncode}: {err.read().decode(errors='replace')}"
            )
    return elapsed, usage.ru_maxrss  # Linux reports KiB


def measure(cases: tuple[Case, ...], runs: int, env: dict[str, str]) -> list[Measurement]:
    """Each case's best wall time of `runs` runs, and its largest peak RSS among them.

    The runs go round the cases in turn, after one round that is not counted (it writes
    the bytecode caches): the bare start and the commands meet the same load on a shared
    machine, so their ratio holds when their times alone would not."""
    best = {case: float("inf") for case in cases}
    peak = dict.fromkeys(cases, 0)
    for round_ in range(runs + 1):
        for case in cases:
            elapsed, rss_kib = run_once(case.argv, env)
            if round_ > 0:
                best[case], peak[case] = min(best[case], elapsed), max(peak[case], rss_kib)
    return [Measurement(case, best[case] * 1000, peak[case] / 1024) for case in cases]


def report(measurements: list[Measurement]) -> None:
    """Print the table: each case's best time, its ratio to the first (the bare start) and
    whether it meets its goal. A MISS is reported, not raised: the times are a machine's."""
    bare = measurements[0].best_ms
    print(f"{'command':<28} {'best ms':>8} {'ratio':>7} {'goal':>6}  {'':4} {'peak RSS':>9}")
    for m in measurements:
        ratio = m.best_ms / bare
        goal, verdict = "", ""
        if m.case.goal is not None:
            goal, verdict = f"{m.case.goal:g}x", "PASS" if ratio <= m.case.goal else "MISS"
        print(
            f"{m.case.name:<28} {m.best_ms:>8.1f} {ratio:>6.1f}x {goal:>6}  {verdict:<4} "
            f"{m.peak_rss_mib:>6.1f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=10, help="runs per command (best of)")
    args = parser.parse_args()
    console_script = Path(sys.executable).parent / "sharepack"
    if not console_script.exists():
        raise SystemExit(f"no sharepack console script beside {sys.executable}")
    env = _source_env()
    measurements = measure(cases(console_script), args.runs, env)
    print(f"best of {args.runs} runs each, {sys.executable}")
    report(measurements)


if __name__ == "__main__":
    main()
