"""A run reads the workspace once: each resource before the plan, listings where a pack
names many, and nothing after its writes (what it leaves is known from what it did)."""

from __future__ import annotations

import re

import httpx

from databricks_emulator.server import EmulatorServer
from sharepack.runtime import Runtime
from sharepack.usecases.plan_apply import apply_file, read_file
from tests.api_server import TEST_OPERATOR
from tests.emulator_helpers import emulator_calls

TABLES = [f"prod_catalog.reads.t{i}" for i in range(8)]
RECIPIENTS = [f"reader-{i:02d}" for i in range(12)]


def _pack() -> bytes:
    recipients = "\n".join(
        f"  - {{name: {name}, type: D2O, email: {name}@partner.example.com}}" for name in RECIPIENTS
    )
    shares = "\n".join(
        f"  - {{name: reads_{s}, recipients: [{', '.join(RECIPIENTS[s::3])}], "
        f"data_objects: [{', '.join(TABLES[s::3])}]}}"
        for s in range(3)
    )
    return f"""
metadata:
  requestor: ops@example.com
  project_name: Reads once
  business_line: Sales Operations
recipient:
{recipients}
share:
{shares}
""".encode()


def test_a_run_reads_each_resource_once_and_nothing_after_its_writes(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    httpx.post(f"{emulator.url}/_emulator/tables", json={"tables": TABLES}).raise_for_status()
    loaded = read_file(runtime, _pack(), "reads.yaml")

    record = apply_file(
        runtime, loaded, filename="reads.yaml", workspace_url=emulator.url, caller=TEST_OPERATOR
    )

    assert record.share_pack_status == "COMPLETED"
    calls = [(c["method"], c["path"]) for c in emulator_calls(emulator)]
    first_write = next(i for i, (method, _) in enumerate(calls) if method != "GET")
    reads = [path for method, path in calls if method == "GET"]
    assert all(method != "GET" for method, _ in calls[first_write:]), calls[first_write:]
    # Twelve recipients: one listing, not a GET each.
    assert reads.count("/api/2.1/unity-catalog/recipients") == 1
    assert not [p for p in reads if p.startswith("/api/2.1/unity-catalog/recipients/")]
    # Eight tables of one schema: one page of table summaries.
    assert reads.count("/api/2.1/unity-catalog/table-summaries") == 1
    assert not [p for p in reads if p.startswith("/api/2.1/unity-catalog/tables")]
    # Each share once (none exists yet: no grants to read).
    share_reads = [p for p in reads if p.startswith("/api/2.1/unity-catalog/shares/")]
    assert sorted(share_reads) == [f"/api/2.1/unity-catalog/shares/reads_{s}" for s in range(3)]


def test_a_pipeline_the_run_creates_is_not_looked_up_again(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    from tests.test_pipelines_end_to_end import PACK

    loaded = read_file(runtime, PACK, "daily.yaml")

    record = apply_file(
        runtime, loaded, filename="daily.yaml", workspace_url=emulator.url, caller=TEST_OPERATOR
    )

    assert record.share_pack_status == "COMPLETED"
    calls = [(c["method"], c["path"]) for c in emulator_calls(emulator)]
    created = calls.index(("POST", "/api/2.0/pipelines"))
    # Its update and its schedule job use the id the create answered: no listing, no GET.
    after = [path for method, path in calls[created:] if method == "GET"]
    looked_up = [p for p in after if re.fullmatch(r"/api/2\.0/pipelines(/[^/]+)?", p)]
    assert not looked_up, after
