"""A rollback undoes only the run's own changes, and undoing again is safe.

Repros of the rollback's edges: an owner who changes what the run touched while it runs
keeps that change (and the outcome says so); a worker killed between an undo call and
its journal write leaves a run the next worker settles as rolled back, with a history
that matches the workspace.
"""

from __future__ import annotations

import uuid

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sharing import AuthenticationType, IpAccessList

from databricks_emulator.server import EmulatorServer
from sharepack.running.provision import make_worker, process_share_pack
from sharepack.running.worker import Worker
from sharepack.runtime import Runtime
from sharepack.store import SharePackRecord
from sharepack.usecases.submit import submit_share_pack
from tests.api_server import TEST_OPERATOR
from tests.conftest import REPO_ROOT
from tests.workspace_hooks import Hook, Killed, expire_leases, hooked

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"
RECIPIENT = "sales-analyst"
SHARE = "sales_q1_share"
ADMIN_IP = "203.0.113.7"


def _submit(runtime: Runtime, emulator: EmulatorServer, content: bytes) -> uuid.UUID:
    submitted = submit_share_pack(
        runtime,
        content=content,
        filename="pack.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )
    return submitted.share_pack_id


def _record(runtime: Runtime, pack_id: uuid.UUID) -> SharePackRecord:
    with runtime.database.unit_of_work() as uow:
        return uow.share_packs.get_current(pack_id)


def _ips(client: WorkspaceClient) -> list[str]:
    found = client.recipients.get(RECIPIENT).ip_access_list
    return sorted(found.allowed_ip_addresses or []) if found else []


def test_an_owners_change_made_during_the_run_is_kept_and_reported(
    runtime: Runtime, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    # The recipient exists with one IP; the pack changes its IPs, then its grant fails.
    workspace_client.recipients.create(
        RECIPIENT,
        AuthenticationType.TOKEN,
        comment="External analyst",
        ip_access_list=IpAccessList(allowed_ip_addresses=["10.0.0.1"]),
    )
    content = EXAMPLE.read_bytes().replace(b"strategy: NEW", b"strategy: UPDATE")
    pack_id = _submit(runtime, emulator, content)
    emulator.add_fault(method="PATCH", path_regex="/permissions$", status=500, times=100)

    def admin_adds_an_ip() -> None:
        ips = [*_ips(workspace_client), ADMIN_IP]
        workspace_client.recipients.update(
            RECIPIENT, ip_access_list=IpAccessList(allowed_ip_addresses=ips)
        )

    # While the run is under way (before it grants the share), an admin adds an IP.
    busy = hooked(runtime, Hook("update_share_grants", before=admin_adds_an_ip))
    assert make_worker(busy).run_once()

    record = _record(runtime, pack_id)
    assert record.share_pack_status == "FAILED"
    assert record.rollback_status == "ROLLED_BACK_WITH_CONFLICTS", record.error_message
    assert _ips(workspace_client) == ["10.0.0.1", ADMIN_IP]
    assert record.error_message is not None
    assert ADMIN_IP in record.error_message


def test_an_undo_repeated_after_a_crash_counts_as_done(
    runtime: Runtime, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    pack_id = _submit(runtime, emulator, EXAMPLE.read_bytes())
    emulator.add_fault(method="PATCH", path_regex="/permissions$", status=500, times=100)

    def die() -> None:
        raise Killed

    # The second change of the share's objects is the undo of the first: the worker dies
    # right after it, before the journal records it.
    dying = hooked(runtime, Hook("update_share_objects", nth=2, after=die))
    try:
        Worker(dying, process_share_pack).run_once()
    except Killed:
        pass
    else:  # pragma: no cover - the hook always fires
        raise AssertionError("the worker was not killed")
    expire_leases(runtime)

    assert make_worker(runtime).run_once()

    record = _record(runtime, pack_id)
    assert record.share_pack_status == "FAILED"
    assert record.rollback_status == "ROLLED_BACK", record.error_message
    state = emulator.state()
    assert state["recipients"] == []
    assert state["shares"] == []
    with runtime.database.unit_of_work() as uow:
        share = uow.shares.history(emulator.url, SHARE)
        recipient = uow.recipients.history(emulator.url, RECIPIENT)
    assert share[-1].is_deleted
    assert recipient[-1].is_deleted


def test_reads_that_fail_once_during_the_rollback_still_end_rolled_back(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = _submit(runtime, emulator, EXAMPLE.read_bytes())
    emulator.add_fault(method="PATCH", path_regex="/permissions$", status=500)

    def reads_start_failing() -> None:
        # From here the next reads of the share meet a 500: the rollback reads it to check
        # what the failed grant did, to undo the objects, and to verify.
        emulator.add_fault(method="GET", path_regex=f"/shares/{SHARE}$", status=500, times=2)

    failing = hooked(runtime, Hook("update_share_grants", before=reads_start_failing))
    assert make_worker(failing).run_once()

    record = _record(runtime, pack_id)
    assert (record.share_pack_status, record.rollback_status) == ("FAILED", "ROLLED_BACK"), (
        record.error_message
    )
    assert emulator.state()["shares"] == []
    assert runtime.queue.depth() == 0
