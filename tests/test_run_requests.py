"""A pack's request ends with its run: COMPLETED or FAILED, written with the pack's status."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from databricks_emulator.server import EmulatorServer
from sharepack.running.provision import make_worker
from sharepack.runtime import Runtime
from sharepack.store import tables
from sharepack.usecases.submit import submit_share_pack
from tests.api_server import TEST_OPERATOR
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"


def submit_with_request(runtime: Runtime, emulator: EmulatorServer) -> tuple[uuid.UUID, uuid.UUID]:
    """Submit the example as an upload does: it is filed under its business line's tenant
    and project, with a request of its own; the pack's id and the request's."""
    submitted = submit_share_pack(
        runtime,
        content=EXAMPLE.read_bytes(),
        filename="sharepack.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )
    requests = tables.requests
    with runtime.database.unit_of_work() as uow:
        (request_id,) = uow.session.execute(
            select(requests.c.request_id).where(requests.c.share_pack_id == submitted.share_pack_id)
        ).scalars()
        record = uow.share_packs.get_current(submitted.share_pack_id)
        project = uow.projects.get_current(record.project_id) if record.project_id else None
        tenant = uow.tenants.get_current(project.values["tenant_id"]) if project else None
    assert project is not None
    assert tenant is not None
    assert project.values["project_name"] == "Sales Data Q1 2024"
    assert tenant.values["business_line_name"] == "Sales Operations"
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
        ("IN_PROGRESS", TEST_OPERATOR.name),
        ("COMPLETED", "sharepack-worker"),
    ]


def test_a_failed_run_fails_its_request(runtime: Runtime, emulator: EmulatorServer) -> None:
    pack_id, request_id = submit_with_request(runtime, emulator)
    emulator.add_fault(method="PATCH", path_regex="/permissions$", status=500)

    assert make_worker(runtime).run_once()

    assert pack_status(runtime, pack_id) == "FAILED"
    assert request_statuses(runtime, request_id) == [
        ("IN_PROGRESS", TEST_OPERATOR.name),
        ("FAILED", "sharepack-worker"),
    ]
