"""`bench/throughput.py --quick` runs and prints every figure (no figure is judged here:
speed is the bench's to measure, in one run, not a test's to assert)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from tests.conftest import REPO_ROOT

FIGURES = [
    "adaptive at 15/s:",
    "fixed concurrency 8, no limit at 15/s:",
    "adaptive at 5/s:",
    "adaptive at 40/s:",
    "answered 429",
    "of the limit",
    "accepted while busy",
    "1 worker(s):",
    "2 worker(s):",
    "4 worker(s):",
    "packs/min",
    "x one worker",
]


@pytest.mark.slow
@pytest.mark.postgres
def test_the_quick_bench_prints_every_figure(postgres_url: str) -> None:
    # postgres_url: skips (or fails under CI) without a server; the bench makes its own
    # database there, under a name of its own, and drops it.
    database = f"sp_bench_{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    command = [sys.executable, "bench/throughput.py", "--quick"]
    command += ["--postgres-url", postgres_url, "--database", database]

    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )

    assert done.returncode == 0, done.stdout + done.stderr
    missing = [figure for figure in FIGURES if figure not in done.stdout]
    assert missing == [], done.stdout
