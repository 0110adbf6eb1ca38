"""The worker and the messages it meets that name no work."""

from __future__ import annotations

import uuid

import pytest

from databricks_emulator.testing import EmulatorServer
from sharepack.service.direct import read_file
from sharepack.service.process import make_worker
from sharepack.service.runtime import Runtime
from sharepack.service.submit import store_share_pack
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"


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
