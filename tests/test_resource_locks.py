"""Runs whose packs name the same resource take turns: one's rollback cannot undo what
another has just adopted."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.running.provision import process_share_pack
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.store import SharePackRecord
from sharepack.usecases.plan_apply import read_file
from sharepack.usecases.submit import store_share_pack
from tests.api_server import TEST_OPERATOR
from tests.conftest import REPO_ROOT
from tests.emulator_helpers import write_calls

EXAMPLE = (REPO_ROOT / "examples" / "sharepack.yaml").read_bytes()


@pytest.fixture
def quick(settings: Settings) -> Iterator[Runtime]:
    """A runtime that waits at most 2 s for another pack's locks."""
    runtime = build_runtime(settings.model_copy(update={"sharepack_lock_wait_seconds": 2.0}))
    yield runtime
    runtime.close()


def _stored(runtime: Runtime, emulator: EmulatorServer) -> uuid.UUID:
    loaded = read_file(runtime, EXAMPLE, "sharepack.yaml")
    submitted = store_share_pack(
        runtime,
        loaded,
        loaded.config.metadata.strategy,
        loaded.warnings,
        filename="sharepack.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )
    return submitted.share_pack_id


def _hold(runtime: Runtime, emulator: EmulatorServer, pack: uuid.UUID) -> None:
    with runtime.database.unit_of_work() as uow:
        assert uow.locks.acquire(emulator.workspace_id, ["recipient:sales-analyst"], pack) == []
        uow.commit()


def _record(runtime: Runtime, pack: uuid.UUID) -> SharePackRecord:
    with runtime.database.unit_of_work() as uow:
        return uow.share_packs.get_current(pack)


def test_a_run_waits_for_the_pack_changing_the_same_recipient(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    first, second = _stored(runtime, emulator), _stored(runtime, emulator)
    _hold(runtime, emulator, first)
    run = threading.Thread(target=process_share_pack, args=(runtime, second))
    run.start()
    deadline = time.monotonic() + 30
    while f"Waiting for share pack {first}" not in (
        _record(runtime, second).provisioning_status or ""
    ):
        assert time.monotonic() < deadline, "the second run never said it was waiting"
        time.sleep(0.05)
    assert write_calls(emulator) == []

    with runtime.database.unit_of_work() as uow:
        uow.locks.release(first)
        uow.commit()
    run.join(timeout=60)

    assert _record(runtime, second).share_pack_status == "COMPLETED"
    with runtime.database.unit_of_work() as uow:
        assert uow.locks.acquire(emulator.workspace_id, ["recipient:sales-analyst"], first) == []


def test_a_run_that_waits_too_long_fails_naming_the_holder_and_changes_nothing(
    quick: Runtime, emulator: EmulatorServer
) -> None:
    first, second = _stored(quick, emulator), _stored(quick, emulator)
    _hold(quick, emulator, first)

    process_share_pack(quick, second)

    record = _record(quick, second)
    assert record.share_pack_status == "FAILED"
    assert record.rollback_status == "NOT_NEEDED"
    assert f"Share pack {first} was still changing recipient:sales-analyst" in (
        record.error_message or ""
    )
    assert write_calls(emulator) == []


def test_locks_of_a_pack_that_has_ended_are_taken_over(
    quick: Runtime, emulator: EmulatorServer
) -> None:
    ended, second = _stored(quick, emulator), _stored(quick, emulator)
    _hold(quick, emulator, ended)
    with quick.database.unit_of_work() as uow:
        uow.share_packs.update(
            ended, created_by="test", change_reason="ended", share_pack_status="FAILED"
        )
        uow.commit()

    process_share_pack(quick, second)

    assert _record(quick, second).share_pack_status == "COMPLETED"
