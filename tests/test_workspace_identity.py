"""A workspace is known by its own id, not by the spelling of its URL.

The emulator listens on 127.0.0.1 and `localhost` resolves to it: `http://localhost:P`
and `http://127.0.0.1:P` are two URLs (each must be allow-listed) of one workspace, and
packs naming the same resources through either take turns.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from sharepack.engine import ActionStatus
from sharepack.engine.actions import ActionKind, PlanAction
from sharepack.running.provision import Observer, process_share_pack
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.store import SharePackRecord
from sharepack.workspace.errors import WorkspaceUnavailableError
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.sdk import SdkWorkspace, make_client
from tests.api_server import ServedApi, running_api
from tests.conftest import EMULATOR_TOKEN
from tests.emulator_helpers import write_calls

TERMINAL = {"COMPLETED", "FAILED"}
SHARE = "sales_q1_share"
RECIPIENT = "sales-analyst"


def _pack(requestor: str, *, ips: str, comment: str, table: str) -> bytes:
    return f"""
metadata:
  requestor: {requestor}
  project_name: Identity {requestor}
  business_line: Sales Operations
recipient:
  - name: {RECIPIENT}
    type: D2O
    email: analyst@partner.example.com
    allowed_ips: [{ips}]
share:
  - name: {SHARE}
    comment: {comment}
    recipients: [{RECIPIENT}]
    data_objects: [{table}]
""".encode()


FIRST = _pack(
    "first@example.com", ips="192.168.1.0/24", comment="First", table="prod_catalog.sales.returns"
)
SECOND = _pack(
    "second@example.com", ips="198.51.100.50", comment="Second", table="prod_catalog.sales.orders"
)


def _by_name(emulator: EmulatorServer) -> str:
    return f"http://localhost:{emulator.port}"


@pytest.fixture
def both_urls(settings: Settings, emulator: EmulatorServer) -> Iterator[Runtime]:
    """A runtime whose allow-list names the emulator by its address and by `localhost`."""
    allowed = [emulator.url, _by_name(emulator)]
    runtime = build_runtime(settings.model_copy(update={"sharepack_workspace_urls": allowed}))
    yield runtime
    runtime.close()


def _upload(api: ServedApi, workspace_url: str, content: bytes) -> uuid.UUID:
    response = httpx.post(
        f"{api}/workflow/sharepack/upload",
        headers={"X-Workspace-URL": workspace_url, **api.headers},
        files={"file": ("pack.yaml", content, "application/x-yaml")},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["SharePackId"])


def _record(runtime: Runtime, pack: uuid.UUID) -> SharePackRecord:
    with runtime.database.unit_of_work() as uow:
        return uow.share_packs.get_current(pack)


def _until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


class _Run(threading.Thread):
    """`process_share_pack` in a thread of its own, keeping what it raised."""

    def __init__(self, runtime: Runtime, pack: uuid.UUID, observer: Observer | None = None):
        super().__init__(name=f"run-{pack}", daemon=True)
        self.error: BaseException | None = None
        self._args = (runtime, pack, observer)

    def run(self) -> None:
        try:
            process_share_pack(*self._args)
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc


class _HoldAt:
    """A progress callback that holds the run once `action` has started, until released."""

    def __init__(self, kind: ActionKind, resource: str) -> None:
        self._kind, self._resource = kind, resource
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self, action: PlanAction, status: ActionStatus) -> None:
        started = status is ActionStatus.PENDING
        if started and action.kind is self._kind and action.resource == self._resource:
            self.reached.set()
            self.release.wait(timeout=120)


def test_packs_naming_one_workspace_by_two_urls_take_turns(
    both_urls: Runtime, emulator: EmulatorServer
) -> None:
    runtime = both_urls
    with running_api(runtime, with_worker=False) as api:
        first = _upload(api, _by_name(emulator), FIRST)
        second = _upload(api, emulator.url, SECOND)
    # The first run's call adding its objects fails, so it rolls back what it created.
    # It is held from the moment it makes that call (answered meanwhile) until released:
    # in progress, holding its locks, with its recipient and share in the workspace.
    emulator.add_fault(
        method="PATCH", path_regex=f"/shares/{SHARE}$", status=400, message="Injected"
    )
    hold = _HoldAt(ActionKind.UPDATE_SHARE_OBJECTS, SHARE)
    first_run = _Run(runtime, first, Observer(progress=hold))
    second_run = _Run(runtime, second)
    first_run.start()
    try:
        _until(hold.reached.is_set, "the first run never started adding its objects")
        _until(
            lambda: any(c["status"] == 400 for c in emulator.calls()),
            "the first run's objects call was never answered",
        )
        _until(
            lambda: [r["name"] for r in emulator.state()["recipients"]] == [RECIPIENT],
            "the first run never created its recipient",
        )
        writes_before = len(write_calls(emulator))

        second_run.start()
        waiting = f"Waiting for share pack {first}"
        _until(
            lambda: (
                waiting in (_record(runtime, second).provisioning_status or "")
                or _record(runtime, second).share_pack_status in TERMINAL
            ),
            "the second run neither waited nor ended",
        )

        second_now = _record(runtime, second)
        assert waiting in (second_now.provisioning_status or ""), (
            "the second pack did not wait for the first, which holds the same recipient and "
            f"share of the same workspace by another URL: {second_now.share_pack_status}, "
            f"{second_now.provisioning_status}"
        )
        assert len(write_calls(emulator)) == writes_before
    finally:
        hold.release.set()
        for run in (first_run, second_run):
            if run.ident is not None:
                run.join(timeout=60)

    assert (first_run.error, second_run.error) == (None, None)
    first_end, second_end = _record(runtime, first), _record(runtime, second)
    assert (first_end.share_pack_status, first_end.rollback_status) == ("FAILED", "ROLLED_BACK")
    assert second_end.share_pack_status == "COMPLETED", second_end.error_message
    state = emulator.state()
    (recipient,) = state["recipients"]
    assert recipient["name"] == RECIPIENT
    assert recipient["ip_access_list"]["allowed_ip_addresses"] == ["198.51.100.50"]
    (share,) = state["shares"]
    assert (share["name"], share["comment"]) == (SHARE, "Second")
    assert [o["name"] for o in share["objects"]] == ["prod_catalog.sales.orders"]
    assert state["grants"] == {SHARE: {RECIPIENT: ["SELECT"]}}
    assert first_end.workspace_id == second_end.workspace_id == emulator.workspace_id
    assert (first_end.workspace_url, second_end.workspace_url) == (
        _by_name(emulator),
        emulator.url,
    )


def test_a_run_records_the_workspace_id_beside_the_url(
    both_urls: Runtime, emulator: EmulatorServer
) -> None:
    with running_api(both_urls, with_worker=False) as api:
        pack = _upload(api, f"HTTP://LOCALHOST:{emulator.port}/", SECOND)

    process_share_pack(both_urls, pack)

    with both_urls.database.unit_of_work() as uow:
        record = uow.share_packs.get_current(pack)
        versions = uow.share_packs.history(pack)
        recipients = uow.recipients.history(_by_name(emulator), RECIPIENT)
        shares = uow.shares.history(_by_name(emulator), SHARE)
    assert record.share_pack_status == "COMPLETED", record.error_message
    assert record.workspace_url == _by_name(emulator)
    # The upload's version too: the run filled it in as it read the workspace's id.
    assert {v.workspace_id for v in versions} == {emulator.workspace_id}
    assert recipients
    assert shares
    assert {v.workspace_id for v in [*recipients, *shares]} == {emulator.workspace_id}


def test_rows_written_before_get_the_id_from_the_next_run_of_their_url(
    both_urls: Runtime, emulator: EmulatorServer
) -> None:
    elsewhere = "https://adb-9.9.azuredatabricks.net"
    with both_urls.database.unit_of_work() as uow:
        for url in (emulator.url, elsewhere):
            uow.recipients.upsert(
                workspace_url=url,
                name="earlier-partner",
                share_pack_id=None,
                created_by="before",
                change_reason="Recorded before workspace ids",
                recipient_type="D2O",
            )
        uow.commit()
    with running_api(both_urls, with_worker=False) as api:
        pack = _upload(api, emulator.url, SECOND)

    process_share_pack(both_urls, pack)

    with both_urls.database.unit_of_work() as uow:
        here = uow.recipients.history(emulator.url, "earlier-partner")
        there = uow.recipients.history(elsewhere, "earlier-partner")
        first_version = uow.share_packs.history(pack)[0]
    assert [(v.version, v.workspace_id) for v in here] == [(1, emulator.workspace_id)]
    assert [(v.version, v.workspace_id) for v in there] == [(1, None)]
    assert first_version.workspace_id == emulator.workspace_id


class _Silent(SdkWorkspace):
    """The emulator, but as a workspace that cannot say which one it is."""

    @property
    def workspace_id(self) -> str:
        raise WorkspaceUnavailableError("Reading the id of the workspace: no answer")


def test_a_workspace_that_cannot_say_its_id_fails_the_pack_having_changed_nothing(
    settings: Settings, emulator: EmulatorServer
) -> None:
    def silent(url: str) -> Workspace:
        return _Silent(make_client(url, token=EMULATOR_TOKEN))

    quiet = build_runtime(settings, workspace_for=silent)
    try:
        with running_api(quiet, with_worker=False) as api:
            pack = _upload(api, emulator.url, SECOND)

        process_share_pack(quiet, pack)

        record = _record(quiet, pack)
    finally:
        quiet.close()
    assert (record.share_pack_status, record.rollback_status) == ("FAILED", "NOT_NEEDED")
    assert "no answer" in (record.error_message or "")
    assert write_calls(emulator) == []


def test_every_version_a_rolled_back_run_writes_names_the_workspace(
    runtime: Runtime, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    # A share there before the run that no pack recorded: the rollback records it again
    # as the workspace holds it, beside the recipient the run created and deletes.
    workspace_client.shares.create(SHARE, comment="There before")
    emulator.add_fault(
        method="PATCH", path_regex=f"/shares/{SHARE}$", status=400, message="Injected"
    )
    with running_api(runtime, with_worker=False) as api:
        pack = _upload(api, emulator.url, SECOND)

    process_share_pack(runtime, pack)

    with runtime.database.unit_of_work() as uow:
        record = uow.share_packs.get_current(pack)
        recipients = uow.recipients.history(emulator.url, RECIPIENT)
        shares = uow.shares.history(emulator.url, SHARE)
    assert record.rollback_status == "ROLLED_BACK", record.error_message
    assert recipients[-1].is_deleted
    assert shares[-1].change_reason.startswith("Rollback:")
    assert {v.workspace_id for v in [*recipients, *shares]} == {emulator.workspace_id}
