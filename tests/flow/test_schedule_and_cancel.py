"""A scheduled pack is not applied before its time; a pack cancelled before its run leaves
the workspace untouched and says FAILED with "Cancelled by ..."."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.errors import PackStateError, PermissionDeniedError
from sharepack.identity.principal import ALL_BUSINESS_LINES, Role
from sharepack.queue.memory import InMemoryQueue
from sharepack.running.worker import Worker
from sharepack.runtime import Runtime
from sharepack.usecases.approvals import cancel
from tests.flow.conftest import (
    OWNER_1,
    REQUESTOR,
    current,
    person,
    recipient_names,
    submit_example,
    work_all,
)

ADMIN = person("ada@example.com", role=Role.ADMIN, lines=(ALL_BUSINESS_LINES,))


def test_a_scheduled_pack_is_not_applied_before_its_time(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    later = datetime.now(UTC) + timedelta(hours=2)
    pack_id = submit_example(runtime, emulator, not_before=later)

    pack = current(runtime, pack_id)
    assert pack.share_pack_status == "IN_PROGRESS"
    assert pack.not_before is not None
    assert abs((pack.not_before - later).total_seconds()) < 1
    assert (pack.provisioning_status or "").startswith("Scheduled: not before ")
    assert work_all(runtime) == 0  # its message is not visible before its time
    assert runtime.queue.depth() == 1
    assert "sales-analyst" not in recipient_names(emulator)


def test_a_scheduled_pack_runs_once_its_time_has_come(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=2)
    text = EXAMPLE_AT(soon)
    pack_id = submit_example(runtime, emulator, text=text)  # not_before from the file
    assert current(runtime, pack_id).not_before is not None

    deadline = time.monotonic() + 60
    while current(runtime, pack_id).share_pack_status == "IN_PROGRESS":
        assert time.monotonic() < deadline
        work_all(runtime)
        time.sleep(0.1)

    done = current(runtime, pack_id)
    assert done.share_pack_status == "COMPLETED", done.error_message
    assert done.started_at is not None
    assert done.started_at >= soon - timedelta(seconds=1)
    assert "sales-analyst" in recipient_names(emulator)


def EXAMPLE_AT(moment: datetime) -> str:  # noqa: N802 - reads as the example, at a time
    from tests.flow.conftest import EXAMPLE

    text = EXAMPLE.read_text()
    return text.replace(
        "  strategy: NEW\n", f"  strategy: NEW\n  not_before: {moment.isoformat()}\n", 1
    )


def test_a_message_seen_before_its_time_is_delayed_again_not_run(runtime: Runtime) -> None:
    """Azure shows a message after at most 7 days: a later time is reached by delaying
    again, with the processor never called."""
    queue = InMemoryQueue()
    far = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    queue.enqueue({"share_pack_id": str(uuid.uuid4()), "not_before": far})
    called: list[uuid.UUID] = []
    worker = Worker(_with_queue(runtime, queue), lambda _runtime, pack_id: called.append(pack_id))

    assert worker.run_once() is True  # seen, and put back
    assert worker.run_once() is False  # invisible now
    assert called == []
    assert queue.depth() == 1


def _with_queue(runtime: Runtime, queue: InMemoryQueue) -> Runtime:
    import dataclasses

    return dataclasses.replace(runtime, queue=queue)


def test_a_scheduled_pack_cancelled_before_its_run_leaves_the_workspace_untouched(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(runtime, emulator, not_before=datetime.now(UTC) + timedelta(hours=1))

    cancelled = cancel(runtime, REQUESTOR, pack_id)

    assert cancelled.share_pack_status == "FAILED"
    assert cancelled.error_message == "Cancelled by john.doe@example.com"
    assert cancelled.rollback_status == "NOT_NEEDED"
    assert work_all(runtime) == 0
    assert current(runtime, pack_id).share_pack_status == "FAILED"
    assert "sales-analyst" not in recipient_names(emulator)


def test_a_queued_pack_cancelled_before_a_worker_takes_it_is_never_run(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(runtime, emulator)

    cancel(runtime, ADMIN, pack_id)

    assert work_all(runtime) == 1
    pack = current(runtime, pack_id)
    assert pack.share_pack_status == "FAILED"
    assert pack.error_message == "Cancelled by ada@example.com"
    assert pack.started_at is None
    assert "sales-analyst" not in recipient_names(emulator)


def test_a_pack_awaiting_approval_can_be_cancelled(
    governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(governed, emulator)

    cancel(governed, REQUESTOR, pack_id)

    pack = current(governed, pack_id)
    assert pack.share_pack_status == "FAILED"
    assert pack.error_message == "Cancelled by john.doe@example.com"


def test_only_the_requestor_submitter_or_an_admin_may_cancel(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(runtime, emulator, not_before=datetime.now(UTC) + timedelta(hours=1))

    with pytest.raises(PermissionDeniedError, match="only its requestor"):
        cancel(runtime, OWNER_1, pack_id)
    assert current(runtime, pack_id).share_pack_status == "IN_PROGRESS"


def test_a_pack_whose_run_has_started_or_ended_cannot_be_cancelled(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(runtime, emulator)
    assert work_all(runtime) == 1
    assert current(runtime, pack_id).share_pack_status == "COMPLETED"

    with pytest.raises(PackStateError, match="nothing to cancel"):
        cancel(runtime, REQUESTOR, pack_id)

    started = submit_example(runtime, emulator)
    with runtime.database.unit_of_work() as uow:
        uow.share_packs.start_run(started, created_by="tests")
        uow.commit()
    with pytest.raises(PackStateError, match="can no longer be cancelled"):
        cancel(runtime, REQUESTOR, started)
