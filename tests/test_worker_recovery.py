"""A worker killed mid-run: the next worker takes the run over and finishes it, once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.runtime import Runtime
from sharepack.settings import Settings
from sharepack.usecases.submit import submit_share_pack
from tests.api_server import TEST_OPERATOR
from tests.conftest import EMULATOR_TOKEN
from tests.emulator_helpers import emulator_calls, write_calls
from tests.test_pipelines_end_to_end import PACK as PIPELINE_PACK

RECIPIENTS = [f"analyst-{i}" for i in range(6)]
SHARES = {
    "sales_share": ["prod_catalog.sales.transactions", "prod_catalog.sales.customers"],
    "finance_share": ["prod_catalog.finance.revenue", "prod_catalog.finance.expenses"],
    "hr_share": ["prod_catalog.hr.employees", "prod_catalog.hr.departments"],
}


def _pack() -> bytes:
    lines = [
        "metadata:",
        "  requestor: ops@example.com",
        "  project_name: Recovery",
        "  business_line: Platform",
        "recipient:",
    ]
    for name in RECIPIENTS:
        lines += [f"  - name: {name}", "    type: D2O", f"    email: {name}@partner.example.com"]
    lines.append("share:")
    for index, (share, tables) in enumerate(SHARES.items()):
        grantees = ", ".join(RECIPIENTS[index * 2 : index * 2 + 2])
        lines += [f"  - name: {share}", f"    recipients: [{grantees}]", "    data_objects:"]
        lines += [f"      - {table}" for table in tables]
    return ("\n".join(lines) + "\n").encode()


def _wait_for(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    worker: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll `condition`; fail at the deadline, or at once if `worker` has exited, with the
    worker's log (a dead worker must not look like a slow one)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker exited ({worker.returncode}) before {what}:\n{_log(worker)}")
        if time.monotonic() > deadline:
            log = f":\n{_log(worker)}" if worker is not None else ""
            pytest.fail(f"timed out after {timeout} s waiting for {what}{log}")
        time.sleep(0.05)


#: Where each worker started by these tests writes its output, by process id.
_WORKER_LOGS: dict[int, Path] = {}


def _log(worker: subprocess.Popen[bytes]) -> str:
    path = _WORKER_LOGS.get(worker.pid)
    return path.read_text(errors="replace")[-4000:] if path and path.is_file() else "(no log)"


def _start_worker(
    settings: Settings, emulator: EmulatorServer, cwd: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DOMAIN_DB_CONNECTION_STRING": settings.database_url,
        "DATABRICKS_TOKEN": EMULATOR_TOKEN,
        "SHAREPACK_WORKSPACE_URLS": emulator.url,
        "SHAREPACK_LEASE_SECONDS": "2",
        "SHAREPACK_WORKER_POLL_SECONDS": "0.1",
        "SHAREPACK_APPLY_CONCURRENCY": "2",
    }
    log = cwd / f"worker-{time.monotonic_ns()}.log"
    command = [sys.executable, "-m", "sharepack.cli.main", "worker"]
    with log.open("wb") as output:
        worker = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=output)
    _WORKER_LOGS[worker.pid] = log
    return worker


def _status(runtime: Runtime, pack_id: uuid.UUID) -> str:
    with runtime.database.unit_of_work() as uow:
        return uow.share_packs.get_current(pack_id).share_pack_status


def _assert_the_whole_pack(state: dict[str, Any]) -> None:
    """The emulator holds every recipient, share object and grant of `_pack()`."""
    assert [r["name"] for r in state["recipients"]] == sorted(RECIPIENTS)
    for share in state["shares"]:
        assert [o["name"] for o in share["objects"]] == SHARES[share["name"]]
    assert sorted(state["grants"]) == sorted(SHARES)


def _assert_each_recipient_created_once(emulator: EmulatorServer) -> None:
    created = [
        c
        for c in emulator_calls(emulator)
        if c["method"] == "POST" and c["path"].endswith("/recipients") and c["status"] == 200
    ]
    assert len(created) == len(RECIPIENTS)


def _kill_a_worker_once(
    settings: Settings,
    emulator: EmulatorServer,
    cwd: Path,
    condition: Callable[[], bool],
    what: str,
) -> None:
    """Start a worker and kill it (SIGKILL) as soon as `condition` holds."""
    worker = _start_worker(settings, emulator, cwd)
    try:
        _wait_for(condition, 60, what, worker)
    finally:
        worker.kill()
        worker.wait(timeout=10)


def _settle_with_a_new_worker(
    runtime: Runtime, settings: Settings, emulator: EmulatorServer, cwd: Path, pack: uuid.UUID
) -> None:
    """Start a worker and wait until the pack's run has ended, then stop the worker."""
    worker = _start_worker(settings, emulator, cwd)
    try:
        _wait_for(lambda: _status(runtime, pack) != "IN_PROGRESS", 120, "the run to end", worker)
    finally:
        worker.terminate()
        worker.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("kill_after_writes", [1, 5, 9])
def test_killed_worker_run_is_finished_by_the_next_worker_without_duplicates(
    runtime: Runtime,
    settings: Settings,
    emulator: EmulatorServer,
    tmp_path: Path,
    kill_after_writes: int,
) -> None:
    httpx.post(f"{emulator.url}/_emulator/latency", json={"ms": 150}).raise_for_status()
    submitted = submit_share_pack(
        runtime,
        content=_pack(),
        filename="pack.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )
    pack_id = submitted.share_pack_id

    _kill_a_worker_once(
        settings,
        emulator,
        tmp_path,
        lambda: len(write_calls(emulator)) >= kill_after_writes,
        "the first writes",
    )
    assert _status(runtime, pack_id) == "IN_PROGRESS"

    _settle_with_a_new_worker(runtime, settings, emulator, tmp_path, pack_id)

    assert _status(runtime, pack_id) == "COMPLETED"
    _assert_the_whole_pack(emulator.state())
    _assert_each_recipient_created_once(emulator)


@pytest.mark.slow
def test_worker_killed_while_rolling_back_leaves_the_next_to_settle_the_run(
    runtime: Runtime, settings: Settings, emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.set_latency(150)
    before = emulator.state()
    # The 9th write fails once, so the first worker starts undoing; it is killed two
    # undo calls later, mid-rollback.
    emulator.add_fault(method="POST|PATCH|DELETE", path_regex="^/api/", nth=9, status=500)
    submitted = submit_share_pack(
        runtime,
        content=_pack(),
        filename="pack.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )
    _kill_a_worker_once(
        settings,
        emulator,
        tmp_path,
        lambda: len([c for c in write_calls(emulator) if c["method"] == "DELETE"]) >= 2,
        "the rollback to begin",
    )
    assert _status(runtime, submitted.share_pack_id) == "IN_PROGRESS"

    _settle_with_a_new_worker(runtime, settings, emulator, tmp_path, submitted.share_pack_id)

    # Settled one way or the other, never half: all of the pack, or none of it.
    pack_id = submitted.share_pack_id
    with runtime.database.unit_of_work() as uow:
        record = uow.share_packs.get_current(pack_id)
        live = uow.recipients.list_for_pack(pack_id)
        versions = [
            v
            for name in RECIPIENTS
            for v in uow.recipients.history(emulator.url, name)
            if v.share_pack_id == pack_id
        ]
    state = emulator.state()
    if record.share_pack_status == "COMPLETED":
        _assert_the_whole_pack(state)
        assert sorted(r.name for r in live) == sorted(RECIPIENTS)
    else:
        assert record.rollback_status == "ROLLED_BACK", record.error_message
        state.pop("workspace_files")
        before.pop("workspace_files")
        assert state == before
        assert live == []
        # Recipients were created before the 9th write failed: the history shows them,
        # then their deletion by the rollback.
        assert any(not v.is_deleted for v in versions)
        assert any(v.is_deleted and v.change_reason.startswith("Rollback: ") for v in versions)


@pytest.mark.slow
@pytest.mark.parametrize("signal_sent", [signal.SIGTERM, signal.SIGINT], ids=["term", "int"])
def test_worker_asked_to_stop_finishes_the_run_in_hand_then_exits(
    runtime: Runtime,
    settings: Settings,
    emulator: EmulatorServer,
    tmp_path: Path,
    signal_sent: signal.Signals,
) -> None:
    emulator.set_latency(150)
    submitted = submit_share_pack(
        runtime,
        content=_pack(),
        filename="pack.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )
    worker = _start_worker(settings, emulator, tmp_path)
    try:
        _wait_for(lambda: len(write_calls(emulator)) >= 2, 60, "the first writes")
        worker.send_signal(signal_sent)
        returncode = worker.wait(timeout=60)
    finally:
        worker.kill()

    assert returncode == 0
    assert _status(runtime, submitted.share_pack_id) == "COMPLETED"
    assert runtime.queue.depth() == 0


def _start_apply(
    settings: Settings, emulator: EmulatorServer, cwd: Path
) -> subprocess.Popen[bytes]:
    (cwd / "pack.yaml").write_bytes(_pack())
    env = {
        **os.environ,
        "DOMAIN_DB_CONNECTION_STRING": settings.database_url,
        "DATABRICKS_TOKEN": EMULATOR_TOKEN,
        "SHAREPACK_LEASE_SECONDS": "2",
        "SHAREPACK_APPLY_CONCURRENCY": "2",
    }
    command = [
        sys.executable, "-m", "sharepack.cli.main", "apply", "pack.yaml",
        "--workspace", emulator.url, "--json",
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # A runner started in the background (nohup, `cmd &` in a script) ignores SIGINT,
        # and so would the CLI it starts: Ctrl-C must reach it as it does from a terminal.
        preexec_fn=_interruptible,
    )


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kill_after_writes", "signal_sent"),
    [(1, signal.SIGKILL), (6, signal.SIGKILL), (3, signal.SIGINT)],
    ids=["killed-early", "killed-late", "ctrl-c"],
)
def test_stopped_cli_apply_is_finished_by_a_worker_without_duplicates(
    runtime: Runtime,
    settings: Settings,
    emulator: EmulatorServer,
    tmp_path: Path,
    kill_after_writes: int,
    signal_sent: signal.Signals,
) -> None:
    emulator.set_latency(150)
    cli = _start_apply(settings, emulator, tmp_path)
    try:
        _wait_for(lambda: len(write_calls(emulator)) >= kill_after_writes, 60, "the first writes")
    finally:
        cli.send_signal(signal_sent)
        _, stderr = cli.communicate(timeout=30)
    with runtime.database.unit_of_work() as uow:
        (pack,) = uow.share_packs.list_current()
    assert pack.share_pack_status == "IN_PROGRESS"
    if signal_sent is signal.SIGINT:
        assert cli.returncode == 130
        said = " ".join(stderr.decode().split())
        assert f"Share pack {pack.share_pack_id} stopped before it ended (interrupted)" in said

    _settle_with_a_new_worker(runtime, settings, emulator, tmp_path, pack.share_pack_id)

    assert _status(runtime, pack.share_pack_id) == "COMPLETED"
    _assert_the_whole_pack(emulator.state())
    _assert_each_recipient_created_once(emulator)


@pytest.mark.slow
def test_worker_killed_while_its_pipeline_runs_is_finished_with_that_one_update(
    runtime: Runtime, settings: Settings, emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.set_pipeline_step_ms(2500)  # the update outlasts the lease: the next worker meets it
    submitted = submit_share_pack(
        runtime,
        content=PIPELINE_PACK,
        filename="daily.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )
    started_update = re.compile(r"^/api/2\.0/pipelines/[^/]+/updates$")

    _kill_a_worker_once(
        settings,
        emulator,
        tmp_path,
        lambda: any(
            c["method"] == "POST" and started_update.match(c["path"])
            for c in emulator_calls(emulator)
        ),
        "the pipeline's update to start",
    )
    assert _status(runtime, submitted.share_pack_id) == "IN_PROGRESS"

    _settle_with_a_new_worker(runtime, settings, emulator, tmp_path, submitted.share_pack_id)

    assert _status(runtime, submitted.share_pack_id) == "COMPLETED"
    state = emulator.state()
    (pipeline,) = state["pipelines"]
    assert len(pipeline["updates"]) == 1
    assert len(state["jobs"]) == 1
    (share,) = state["shares"]
    assert [o["name"] for o in share["objects"]] == ["prod_catalog.sales.daily_summary"]


@pytest.mark.slow
def test_worker_killed_after_its_job_create_was_sent_twice_leaves_one_schedule_job(
    runtime: Runtime, settings: Settings, emulator: EmulatorServer, tmp_path: Path
) -> None:
    # The first create takes effect and answers 503: the SDK sends it again. That one
    # takes effect too, and its answer never comes back before the worker is killed.
    create = "^/api/2.2/jobs/create$"
    emulator.add_fault(method="POST", path_regex=create, status=503, applied=True)
    emulator.add_fault(
        method="POST", path_regex=create, nth=2, status=503, applied=True, delay_ms=5_000
    )
    submitted = submit_share_pack(
        runtime,
        content=PIPELINE_PACK,
        filename="daily.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )

    _kill_a_worker_once(
        settings,
        emulator,
        tmp_path,
        lambda: len(emulator.state()["jobs"]) == 2,
        "the job create to take effect twice",
    )
    assert _status(runtime, submitted.share_pack_id) == "IN_PROGRESS"

    _settle_with_a_new_worker(runtime, settings, emulator, tmp_path, submitted.share_pack_id)

    assert _status(runtime, submitted.share_pack_id) == "COMPLETED"
    (job,) = emulator.state()["jobs"]
    assert job["name"] == "daily_summary_feed_schedule"
