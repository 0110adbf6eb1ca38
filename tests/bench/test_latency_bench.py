"""bench/latency.py keeps working: its quick run, made once, prints every figure and the
rows it loaded. Nothing here is asserted of the times: they are the bench's output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

BENCH = Path(__file__).parents[2] / "bench" / "latency.py"
FIGURES = (
    "upload YAML (empty database)",
    "upload Excel 500 rows (empty database)",
    "status (loaded)",
    "upload YAML (loaded)",
    "upload Excel 500 rows (loaded)",
)
FIGURE_LINE = re.compile(r"p50 +[\d.]+ ms +p99 +[\d.]+ ms +goal p99 <= [\d.]+ ms +(PASS|MISS)")


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_quick_latency_bench_prints_every_figure(postgres_url: str) -> None:
    # The bench drops and makes the database it is named; the fixture's own is dropped after.
    url = make_url(postgres_url)
    server = url.set(database="postgres").render_as_string(hide_password=False)
    command = [sys.executable, str(BENCH), "--quick", "--database", str(url.database)]
    environment = {**os.environ, "SHAREPACK_BENCH_POSTGRES_URL": server}

    done = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=1700, check=False
    )

    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    for name in FIGURES:
        shown = [line for line in lines if line.startswith(f"{name} ")]
        assert len(shown) == 1, f"{name}: {shown}"
        assert FIGURE_LINE.search(shown[0]), shown[0]
    assert any(re.match(r" +share_packs +[\d,]+$", line) for line in lines)
    assert any(line.startswith("  SCD2 rows in all") for line in lines)
    assert any(re.match(r"\d of 5 figures within their goal$", line) for line in lines)
