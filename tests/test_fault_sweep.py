"""A failure at any mutating call ends FAILED with the workspace and database as before."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.runtime import Runtime
from sharepack.store import SharePackRecord
from sharepack.usecases.plan_apply import apply_file, read_file
from tests.api_server import TEST_OPERATOR
from tests.emulator_helpers import emulator_state, write_calls

BENCH_TABLES = [f"bench_catalog.bench.t{i:04d}" for i in range(130)]
MUTATING = "POST|PATCH|PUT|DELETE"
PRODUCED = "prod_catalog.sales.daily_feed_output"


def _pack() -> bytes:
    lines = [
        "metadata:",
        "  requestor: ops@example.com",
        "  project_name: Sweep",
        "  business_line: Platform",
        "recipient:",
        "  - {name: partner-a, type: D2O, allowed_ips: [10.1.0.0/16]}",
        "  - {name: partner-b, type: D2O, email: b@partner.example.com}",
        "  - name: internal",
        "    type: D2D",
        '    metastore_id: "azure:westeurope:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"',
        "share:",
        "  - name: big_share",
        "    recipients: [partner-a, internal]",
        "    data_objects:",
        *[f"      - {table}" for table in BENCH_TABLES],
        "  - name: sales_share",
        "    recipients: [partner-b]",
        f"    data_objects: [prod_catalog.sales.transactions, prod_catalog.sales, {PRODUCED}]",
        "    pipelines:",
        "      - name: daily_feed",
        "        source_asset: raw_catalog.sales.transactions",
        f"        target_asset: {PRODUCED}",
        "        key_columns: [transaction_id]",
        '        schedule: {cron: "0 2 * * *", timezone: UTC}',
    ]
    return ("\n".join(lines) + "\n").encode()


def _apply(runtime: Runtime, emulator: EmulatorServer) -> SharePackRecord:
    loaded = read_file(runtime, _pack(), "sweep.yaml")
    return apply_file(
        runtime, loaded, filename="sweep.yaml", workspace_url=emulator.url, caller=TEST_OPERATOR
    )


def _state(emulator: EmulatorServer) -> Any:
    """Everything but workspace files: the generic notebook is installed once and kept."""
    state = emulator_state(emulator)
    state.pop("workspace_files")
    return state


RECIPIENTS = ("partner-a", "partner-b", "internal")
SHARES = ("big_share", "sales_share")


def _live_records(runtime: Runtime, pack_id: uuid.UUID) -> list[str]:
    with runtime.database.unit_of_work() as uow:
        live = [
            *uow.recipients.list_for_pack(pack_id),
            *uow.shares.list_for_pack(pack_id),
            *uow.pipelines.list_for_pack(pack_id),
        ]
    return [record.name for record in live]


def _pack_versions(runtime: Runtime, record: SharePackRecord) -> dict[str, list[tuple[bool, str]]]:
    """Per recipient and share, the versions this pack wrote: (deleted, change reason)."""
    url, versions = record.workspace_url, {}
    with runtime.database.unit_of_work() as uow:
        histories = [
            *((n, uow.recipients.history(url, n)) for n in RECIPIENTS),
            *((n, uow.shares.history(url, n)) for n in SHARES),
        ]
    for name, history in histories:
        ours = [
            (v.is_deleted, v.change_reason)
            for v in history
            if v.share_pack_id == record.share_pack_id
        ]
        if ours:
            versions[name] = ours
    return versions


def _assert_tracked_then_rolled_back(
    versions: dict[str, list[tuple[bool, str]]], record: SharePackRecord
) -> None:
    """Each record the run wrote: live versions as its actions finished, then one deleted
    version whose reason starts 'Rollback:'."""
    for name, ours in versions.items():
        *tracked, last = ours
        assert tracked, name
        assert all(not deleted for deleted, _ in tracked), name
        assert all(
            reason.startswith(f"Provisioning {record.share_pack_name}: ") for _, reason in tracked
        )
        assert last[0], f"{name} was not deleted"
        assert last[1].startswith("Rollback: "), name


def _count_writes_of_a_clean_run(runtime: Runtime, emulator: EmulatorServer) -> int:
    record = _apply(runtime, emulator)
    assert record.share_pack_status == "COMPLETED", record.error_message
    writes = len(write_calls(emulator))
    httpx.post(f"{emulator.url}/_emulator/reset").raise_for_status()
    return writes


@pytest.mark.slow
@pytest.mark.parametrize("applied", [False, True], ids=["refused", "made-then-500"])
def test_a_500_at_every_mutating_call_is_rolled_back_completely(
    runtime: Runtime, emulator: EmulatorServer, applied: bool
) -> None:
    """`applied`: the workspace makes the change and then answers 500 (a timeout after
    commit, as a caller sees it): the run cannot know, and must still leave nothing."""
    writes = _count_writes_of_a_clean_run(runtime, emulator)
    # recipients, shares, object batches, grants; notebook folder and import, pipeline,
    # its first update and its schedule job
    assert writes == 3 + 2 + (2 + 1) + 2 + 2 + 1 + 1 + 1

    for index in range(1, writes + 1):
        before = _state(emulator)
        httpx.post(
            f"{emulator.url}/_emulator/faults",
            json={
                "method": MUTATING,
                "path_regex": "^/api/",
                "nth": index,
                "status": 500,
                "applied": applied,
            },
        ).raise_for_status()

        record = _apply(runtime, emulator)

        with runtime.database.unit_of_work() as uow:
            assert uow.pipelines.list_for_pack(record.share_pack_id) == []
        assert record.share_pack_status == "FAILED", f"fault at write {index}"
        assert record.rollback_status == "ROLLED_BACK", (index, record.error_message)
        assert _state(emulator) == before, f"fault at write {index} left changes"
        assert _live_records(runtime, record.share_pack_id) == []
        versions = _pack_versions(runtime, record)
        _assert_tracked_then_rolled_back(versions, record)
        if index > 1:  # some action was DONE before the fault: the history shows it
            assert versions, f"fault at write {index}: no version was written"
        if index == writes:  # every recipient had been created
            assert sorted(n for n in versions if n in RECIPIENTS) == sorted(RECIPIENTS)
        httpx.post(f"{emulator.url}/_emulator/reset").raise_for_status()


@pytest.mark.slow
def test_a_burst_of_429s_is_retried_and_the_run_completes(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    httpx.post(
        f"{emulator.url}/_emulator/faults",
        json={
            "method": "PATCH",
            "path_regex": "/shares/",
            "nth": 1,
            "times": 3,
            "status": 429,
            "error_code": "REQUEST_LIMIT_EXCEEDED",
            "message": "Too many requests",
            "retry_after": 1,
        },
    ).raise_for_status()

    record = _apply(runtime, emulator)

    assert record.share_pack_status == "COMPLETED", record.error_message
    shares = {s["name"]: s for s in _state(emulator)["shares"]}
    assert len(shares["big_share"]["objects"]) == len(BENCH_TABLES)
