"""The worker and the messages it meets that name no work."""

from __future__ import annotations

import uuid

import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.engine import names_of, plan, read_names
from sharepack.engine.apply import run_action
from sharepack.packfile.models import SharePackConfig
from sharepack.running.provision import make_worker, mark_failed
from sharepack.running.saved_run import StoreJournal, save_before_state
from sharepack.runtime import Runtime
from sharepack.store import ResourceRecord, SharePackRecord
from sharepack.usecases.plan_apply import read_file
from sharepack.usecases.submit import store_share_pack, submit_share_pack
from tests.api_server import TEST_OPERATOR
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"
RECIPIENT = "sales-analyst"
TABLE = "prod_catalog.sales.transactions"


def test_message_for_a_pack_that_was_never_stored_is_dropped(runtime: Runtime) -> None:
    # An Azure message is sent before the pack's row commits; if the commit fails, the
    # message names a pack that does not exist. It is no work, not an error to retry.
    runtime.queue.enqueue({"share_pack_id": str(uuid.uuid4())})

    worked = make_worker(runtime).run_once()

    assert worked
    assert runtime.queue.depth() == 0


@pytest.mark.parametrize("body", [{}, {"share_pack_id": "not-a-uuid"}, {"share_pack_id": 7}])
def test_message_without_a_share_pack_id_is_dropped_with_an_error_logged(
    runtime: Runtime, body: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    runtime.queue.enqueue(body)

    worked = make_worker(runtime).run_once()

    assert worked
    assert runtime.queue.depth() == 0
    assert f"names no share pack: {body!r}; dropped" in caplog.text


def test_worker_taking_over_a_no_rollback_cli_run_leaves_its_changes(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    # `sharepack apply --no-rollback` died after storing its pack: a worker takes it over
    # and must keep the operator's choice, not its own setting, when the run fails.
    loaded = read_file(runtime, EXAMPLE.read_bytes(), "sharepack.yaml")
    submitted = store_share_pack(
        runtime,
        loaded,
        loaded.config.metadata.strategy,
        loaded.warnings,
        filename="sharepack.yaml",
        workspace_url=emulator.url,
        held_by="cli:gone",
        auto_rollback=False,
        caller=TEST_OPERATOR,
    )
    assert submitted.message is not None
    runtime.queue.release(submitted.message)
    emulator.add_fault(method="PATCH", path_regex="/permissions$", status=500)

    assert make_worker(runtime).run_once()

    with runtime.database.unit_of_work() as uow:
        record = uow.share_packs.get_current(submitted.share_pack_id)
    assert record.share_pack_status == "FAILED"
    assert record.rollback_status == "LEFT_IN_PLACE"
    assert [r["name"] for r in emulator.state()["recipients"]] == ["sales-analyst"]


def _submit_example(runtime: Runtime, emulator: EmulatorServer) -> uuid.UUID:
    submitted = submit_share_pack(
        runtime,
        content=EXAMPLE.read_bytes(),
        filename="sharepack.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )
    return submitted.share_pack_id


def _first_attempt_created_the_recipient(
    runtime: Runtime, emulator: EmulatorServer, pack_id: uuid.UUID
) -> None:
    """What a worker killed in its first attempt leaves: the before-state, and the
    recipient's creation journalled DONE (it died before recording it in the history)."""
    with runtime.database.unit_of_work() as uow:
        config = SharePackConfig.model_validate(uow.share_packs.get_current(pack_id).config)
    names = names_of(config)
    workspace = runtime.workspace_for(emulator.url)
    before = read_names(workspace, names)
    save_before_state(runtime.database, pack_id, emulator.url, names, before)
    create = next(a for a in plan(config, before).actions if a.resource == RECIPIENT)
    run_action(create, workspace, StoreJournal(runtime.database, pack_id, 1))
    assert [r["name"] for r in emulator.state()["recipients"]] == [RECIPIENT]


def _outcome(runtime: Runtime, pack_id: uuid.UUID) -> tuple[SharePackRecord, list[ResourceRecord]]:
    with runtime.database.unit_of_work() as uow:
        record = uow.share_packs.get_current(pack_id)
        history = uow.recipients.history(record.workspace_url, RECIPIENT)
    return record, history


def test_resumed_run_that_can_no_longer_plan_is_rolled_back_without_retrying(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = _submit_example(runtime, emulator)
    _first_attempt_created_the_recipient(runtime, emulator, pack_id)
    # Since the first attempt the shared table was dropped: the pack can never apply now.
    emulator.add_fault(
        method="GET",
        path_regex=f"/tables/{TABLE}$",
        status=404,
        error_code="TABLE_DOES_NOT_EXIST",
        times=1000,
    )

    assert make_worker(runtime).run_once()

    record, history = _outcome(runtime, pack_id)
    assert record.share_pack_status == "FAILED"
    assert record.rollback_status == "ROLLED_BACK", record.error_message
    assert record.error_message is not None
    assert TABLE in record.error_message
    assert runtime.queue.depth() == 0
    assert emulator.state()["recipients"] == []
    assert [(v.is_deleted, v.change_reason.split(":")[0]) for v in history] == [
        (False, f"Provisioning {record.share_pack_name}"),
        (True, "Rollback"),
    ]


def test_giving_up_a_taken_over_run_rolls_back_what_its_attempts_did(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = _submit_example(runtime, emulator)
    _first_attempt_created_the_recipient(runtime, emulator, pack_id)

    mark_failed(runtime, pack_id, "Gave up after 5 attempts: the workspace timed out")

    record, history = _outcome(runtime, pack_id)
    assert record.share_pack_status == "FAILED"
    assert record.rollback_status == "ROLLED_BACK", record.error_message
    assert record.error_message == "Gave up after 5 attempts: the workspace timed out"
    assert emulator.state()["recipients"] == []
    assert history[-1].is_deleted
    assert history[-1].change_reason.startswith("Rollback: ")


def test_giving_up_while_the_workspace_fails_says_what_is_still_in_place(
    runtime: Runtime, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sharepack.running.worker.MAX_ATTEMPTS", 1)
    pack_id = _submit_example(runtime, emulator)
    _first_attempt_created_the_recipient(runtime, emulator, pack_id)
    emulator.add_fault(method="*", path_regex="^/api/", status=500, times=10_000)

    assert make_worker(runtime).run_once()

    emulator.clear_faults()
    record, history = _outcome(runtime, pack_id)
    assert record.share_pack_status == "FAILED"
    assert record.rollback_status == "ROLLBACK_FAILED"
    assert record.error_message is not None
    assert record.error_message.startswith("Gave up after 1 attempts: ")
    assert f"still in place: create recipient {RECIPIENT}" in record.error_message
    assert runtime.queue.depth() == 0
    assert [r["name"] for r in emulator.state()["recipients"]] == [RECIPIENT]
    # The history tells the truth: the recipient exists, as the pack's.
    assert not history[-1].is_deleted
    assert history[-1].share_pack_id == pack_id
