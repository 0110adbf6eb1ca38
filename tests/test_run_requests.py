"""A pack's request ends with its run: COMPLETED or FAILED, written with the pack's status."""

from __future__ import annotations

import uuid

from databricks_emulator.server import EmulatorServer
from sharepack.running.provision import make_worker
from sharepack.runtime import Runtime
from sharepack.usecases.submit import submit_share_pack
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"


def submit_with_request(runtime: Runtime, emulator: EmulatorServer) -> tuple[uuid.UUID, uuid.UUID]:
    """Submit the example and open its request, as an upload filed under a project does."""
    submitted = submit_share_pack(
        runtime, content=EXAMPLE.read_bytes(), filename="sharepack.yaml", workspace_url=emulator.url
    )
    with runtime.database.unit_of_work() as uow:
        ref = uow.tenancy.resolve("Corporate Finance", "Q1 Data Share", by="ana@example.com")
        request_id = uow.tenancy.open_request(
            ref.project_id, submitted.share_pack_id, requested_by="ana@example.com", by="api"
        )
        uow.commit()
    return submitted.share_pack_id, request_id


def request_statuses(runtime: Runtime, request_id: uuid.UUID) -> list[tuple[str, str]]:
    with runtime.database.unit_of_work() as uow:
        history = uow.requests.history(request_id)
    return [(v.values["request_status"], v.created_by) for v in history]


def pack_status(runtime: Runtime, pack_id: uuid.UUID) -> str:
    with runtime.database.unit_of_work() as uow:
        return uow.share_packs.get_current(pack_id).share_pack_status


def test_a_completed_run_completes_its_request(runtime: Runtime, emulator: EmulatorServer) -> None:
    pack_id, request_id = submit_with_request(runtime, emulator)

    assert make_worker(runtime).run_once()

    assert pack_status(runtime, pack_id) == "COMPLETED"
    assert request_statuses(runtime, request_id) == [
        ("IN_PROGRESS", "api"),
        ("COMPLETED", "sharepack-worker"),
    ]


def test_a_failed_run_fails_its_request(runtime: Runtime, emulator: EmulatorServer) -> None:
    pack_id, request_id = submit_with_request(runtime, emulator)
    emulator.add_fault(method="PATCH", path_regex="/permissions$", status=500)

    assert make_worker(runtime).run_once()

    assert pack_status(runtime, pack_id) == "FAILED"
    assert request_statuses(runtime, request_id) == [
        ("IN_PROGRESS", "api"),
        ("FAILED", "sharepack-worker"),
    ]
