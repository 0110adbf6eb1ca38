"""Tenancy: a business line and project resolve to one tenant and project, created once,
and each pack's request is opened and ended."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import event, text

from sharepack.errors import StoreError
from sharepack.store import Database
from sharepack.store.tenancy import ProjectRef
from tests.store.conftest import MakePack

#: How long a test waits for another thread to reach the state it needs (not a limit on
#: how fast anything must be: passing tests never wait this long).
PATIENCE_SECONDS = 60


def resolve(database: Database, business_line: str, project: str) -> ProjectRef:
    with database.unit_of_work() as uow:
        ref = uow.tenancy.resolve(business_line, project, by="ana@example.com")
        uow.commit()
    return ref


def test_resolving_creates_the_tenant_and_project_once(database: Database) -> None:
    first = resolve(database, "Corporate Finance", "Q1 Data Share")

    again = resolve(database, "Corporate Finance", "Q1 Data Share")

    assert again == first
    with database.unit_of_work() as uow:
        tenant = uow.tenants.get_current(first.tenant_id)
        project = uow.projects.get_current(first.project_id)
        tenants = uow.tenants.list_current()
    assert [t.entity_id for t in tenants] == [first.tenant_id]
    assert tenant.values["business_line_name"] == "Corporate Finance"
    assert (tenant.version, tenant.created_by) == (1, "ana@example.com")
    assert project.values["project_name"] == "Q1 Data Share"
    assert project.values["tenant_id"] == first.tenant_id


def test_names_match_ignoring_case_and_surrounding_spaces(database: Database) -> None:
    first = resolve(database, "  Légal Services ", " Contracts ")

    for line, project in (("légal services", "CONTRACTS"), ("LÉGAL SERVICES  ", "contracts")):
        assert resolve(database, line, project) == first
    with database.unit_of_work() as uow:
        tenant = uow.tenants.get_current(first.tenant_id)
        project_version = uow.projects.get_current(first.project_id)
    assert tenant.values["business_line_name"] == "Légal Services"
    assert project_version.values["project_name"] == "Contracts"


def test_a_project_name_is_its_tenants_own(database: Database) -> None:
    finance = resolve(database, "Finance", "Quarterly")
    legal = resolve(database, "Legal", "Quarterly")
    finance_other = resolve(database, "Finance", "Monthly")

    assert finance.tenant_id != legal.tenant_id
    assert len({finance.project_id, legal.project_id, finance_other.project_id}) == 3
    assert finance_other.tenant_id == finance.tenant_id


def test_a_renamed_tenant_is_found_by_its_current_name(database: Database) -> None:
    old = resolve(database, "Finance", "Quarterly")
    with database.unit_of_work() as uow:
        uow.tenants.update(
            old.tenant_id,
            created_by="admin",
            change_reason="Renamed",
            business_line_name="Corporate Finance",
        )
        uow.commit()

    assert resolve(database, "corporate finance", "Quarterly") == old
    assert resolve(database, "Finance", "Quarterly").tenant_id != old.tenant_id


@pytest.mark.parametrize(
    ("line", "project", "says"), [(" ", "Q1", "business line"), ("Fin", "", "project")]
)
def test_a_blank_name_is_refused(database: Database, line: str, project: str, says: str) -> None:
    with pytest.raises(StoreError, match=f"A {says}.* is needed"), database.unit_of_work() as uow:
        uow.tenancy.resolve(line, project, by="ana@example.com")


def test_a_request_is_opened_in_progress_and_ended(database: Database, make_pack: MakePack) -> None:
    pack = make_pack()
    ref = resolve(database, "Finance", "Quarterly")
    with database.unit_of_work() as uow:
        request_id = uow.tenancy.open_request(
            ref.project_id, pack.share_pack_id, requested_by="ana@example.com", by="api"
        )
        uow.commit()

    with database.unit_of_work() as uow:
        uow.tenancy.request_ended(pack.share_pack_id, "COMPLETED", by="sharepack-worker")
        uow.commit()

    with database.unit_of_work() as uow:
        history = uow.requests.history(request_id)
    assert [(v.version, v.values["request_status"]) for v in history] == [
        (1, "IN_PROGRESS"),
        (2, "COMPLETED"),
    ]
    assert history[0].values == {
        "project_id": ref.project_id,
        "share_pack_id": pack.share_pack_id,
        "request_type": "PROVISION",
        "requested_by": "ana@example.com",
        "request_status": "IN_PROGRESS",
    }
    assert history[1].created_by == "sharepack-worker"


def test_ending_a_pack_without_an_open_request_changes_nothing(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()
    ref = resolve(database, "Finance", "Quarterly")
    with database.unit_of_work() as uow:
        request_id = uow.tenancy.open_request(
            ref.project_id, pack.share_pack_id, requested_by="ana@example.com", by="api"
        )
        uow.tenancy.request_ended(pack.share_pack_id, "FAILED", by="sharepack-worker")
        uow.commit()

    with database.unit_of_work() as uow:
        uow.tenancy.request_ended(pack.share_pack_id, "COMPLETED", by="sharepack-worker")
        uow.tenancy.request_ended(uuid.uuid4(), "COMPLETED", by="sharepack-worker")
        uow.commit()

    with database.unit_of_work() as uow:
        statuses = [v.values["request_status"] for v in uow.requests.history(request_id)]
    assert statuses == ["IN_PROGRESS", "FAILED"]


def test_a_request_ends_only_completed_or_failed(database: Database, make_pack: MakePack) -> None:
    pack = make_pack()

    with pytest.raises(StoreError, match="not 'DONE'"), database.unit_of_work() as uow:
        uow.tenancy.request_ended(pack.share_pack_id, "DONE", by="sharepack-worker")


def test_a_pack_carries_its_submitter_and_project(database: Database, make_pack: MakePack) -> None:
    ref = resolve(database, "Finance", "Quarterly")
    pack = make_pack(submitted_by="key:ci", project_id=ref.project_id)
    unfiled = make_pack()

    with database.unit_of_work() as uow:
        moved = uow.share_packs.update(
            unfiled.share_pack_id,
            created_by="admin",
            change_reason="Filed",
            project_id=ref.project_id,
        )
        status_only = uow.share_packs.update(
            pack.share_pack_id, created_by="w", change_reason="Done", share_pack_status="COMPLETED"
        )
        uow.commit()

    assert (pack.submitted_by, pack.project_id) == ("key:ci", ref.project_id)
    assert (unfiled.submitted_by, unfiled.project_id) == (None, None)
    assert (moved.submitted_by, moved.project_id) == (None, ref.project_id)
    assert (status_only.submitted_by, status_only.project_id) == ("key:ci", ref.project_id)


@pytest.mark.postgres
def test_two_uploads_naming_a_new_business_line_at_once_make_one_tenant(
    postgres_database: Database,
) -> None:
    # The first holds its new, uncommitted tenant until the second is seen waiting on a
    # lock; without one the second would make its own tenant, unseen, and both commit.
    database = postgres_database
    first_resolved = threading.Event()
    refs: dict[str, ProjectRef] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with database.unit_of_work() as uow:
                refs["first"] = uow.tenancy.resolve("New Line", "Launch", by="ana@example.com")
                first_resolved.set()
                wait_for_a_blocked_session(database)
                uow.commit()
        except BaseException as exc:
            errors.append(exc)
            first_resolved.set()

    def second() -> None:
        try:
            first_resolved.wait(PATIENCE_SECONDS)
            refs["second"] = resolve(database, " new line", "LAUNCH ")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert refs["first"] == refs["second"]
    with database.unit_of_work() as uow:
        assert [t.entity_id for t in uow.tenants.list_current()] == [refs["first"].tenant_id]
        assert [p.entity_id for p in uow.projects.list_current()] == [refs["first"].project_id]


def wait_for_a_blocked_session(database: Database) -> None:
    """Return once another session of this database waits on a lock (or, failing that,
    after `PATIENCE_SECONDS`, letting the test show what happened without one)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + PATIENCE_SECONDS
    with database.engine.connect() as connection:
        while time.monotonic() < deadline:
            if connection.execute(query).scalar_one() > 0:
                return
            connection.rollback()
            time.sleep(0.01)


@pytest.mark.postgres
def test_a_known_business_line_and_project_are_found_without_their_locks(
    postgres_database: Database,
) -> None:
    # Most uploads name a known pair: they need not queue behind each other's locks.
    # A new project is looked for again under its name's lock (one lock, not two).
    resolve(postgres_database, "Finance", "Ledger")

    known = locks_taken(postgres_database, "Finance", "Ledger")
    new = locks_taken(postgres_database, "Finance", "Payroll")

    assert (known, new) == (0, 1)


def locks_taken(database: Database, line: str, project: str) -> int:
    """How many advisory locks resolving (and committing) the pair takes."""
    taken: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "pg_advisory_xact_lock" in statement:
            taken.append(statement)

    event.listen(database.engine, "before_cursor_execute", note)
    try:
        resolve(database, line, project)
    finally:
        event.remove(database.engine, "before_cursor_execute", note)
    return len(taken)
