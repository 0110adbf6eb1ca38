"""A holder that lost its run (paused past its lease) stops, and writes nothing more.

Each claim of a run moves its fencing token on; the journal, the history and the status
commit only for the newest claim. A lease keeper that has not confirmed its lease for
half a lease confirms it before the next workspace call, so a holder paused past its
lease learns it lost the message before it acts.
"""

from __future__ import annotations

import time
import uuid

import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.errors import LeaseLostError
from sharepack.running.provision import make_worker, mark_failed, process_share_pack
from sharepack.running.worker import LeaseKeeper, Worker
from sharepack.runtime import Runtime
from sharepack.usecases.submit import submit_share_pack
from sharepack.workspace.guarded import guarded
from tests.api_server import TEST_OPERATOR
from tests.conftest import REPO_ROOT
from tests.workspace_hooks import Hook, expire_leases, hooked

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"


def _submit(runtime: Runtime, emulator: EmulatorServer) -> uuid.UUID:
    submitted = submit_share_pack(
        runtime,
        content=EXAMPLE.read_bytes(),
        filename="sharepack.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )
    return submitted.share_pack_id


def test_a_holder_whose_run_was_taken_over_writes_no_outcome(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = _submit(runtime, emulator)

    def another_worker_takes_over() -> None:
        expire_leases(runtime)
        assert make_worker(runtime).run_once()

    # The first holder froze just before creating the share; another took the run over.
    frozen = hooked(runtime, Hook("create_share", before=another_worker_takes_over))
    first = Worker(frozen, process_share_pack, give_up=mark_failed)

    assert first.run_once()

    with runtime.database.unit_of_work() as uow:
        history = uow.share_packs.history(pack_id)
    statuses = [version.share_pack_status for version in history]
    assert statuses[-1] == "COMPLETED"
    assert statuses.count("COMPLETED") == 1
    assert "FAILED" not in statuses
    # Nothing the first holder did after the take-over reached the history.
    completed_at = next(i for i, v in enumerate(history) if v.share_pack_status == "COMPLETED")
    assert completed_at == len(history) - 1
    state = emulator.state()
    assert [r["name"] for r in state["recipients"]] == ["sales-analyst"]
    assert [s["name"] for s in state["shares"]] == ["sales_q1_share"]
    assert runtime.queue.depth() == 0


def test_a_holder_paused_past_its_lease_stops_before_its_next_call(
    runtime: Runtime, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.queue.enqueue({"share_pack_id": str(uuid.uuid4())})
    claimed = runtime.queue.claim(worker_id="paused", lease_seconds=60)
    assert claimed is not None
    calls: list[str] = []

    class Counting:
        url = emulator.url

        def read_state(self, **_: object) -> None:
            calls.append("read_state")

    with LeaseKeeper(runtime, claimed, 60) as keeper:
        workspace = guarded(Counting(), keeper.check)  # type: ignore[arg-type]
        workspace.read_state()
        # Paused for longer than the lease; another worker claimed the message meanwhile.
        expire_leases(runtime)
        assert runtime.queue.claim(worker_id="other", lease_seconds=60) is not None
        now = time.monotonic()
        monkeypatch.setattr(time, "monotonic", lambda: now + 61)

        with pytest.raises(LeaseLostError):
            workspace.read_state()

    assert calls == ["read_state"]


def test_a_holder_paused_past_its_lease_that_nobody_took_carries_on(
    runtime: Runtime, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.queue.enqueue({"share_pack_id": str(uuid.uuid4())})
    claimed = runtime.queue.claim(worker_id="paused", lease_seconds=60)
    assert claimed is not None

    with LeaseKeeper(runtime, claimed, 60) as keeper:
        now = time.monotonic()
        monkeypatch.setattr(time, "monotonic", lambda: now + 61)
        keeper.check()  # confirms the lease again: nobody else holds the message

    assert runtime.queue.claim(worker_id="other", lease_seconds=60) is None
