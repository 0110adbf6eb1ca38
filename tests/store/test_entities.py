"""The seeds' other tables: SCD2 entities and append-only logs under the same rules."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

import pytest

from sharepack.errors import NotFoundError, StoreError
from sharepack.store import Database
from tests.store.conftest import MakePack


def test_a_tenant_keeps_every_version(database: Database) -> None:
    with database.unit_of_work() as uow:
        tenant = uow.tenants.create(
            created_by="admin", change_reason="Onboarded", business_line_name="Legal"
        )
        renamed = uow.tenants.update(
            tenant.entity_id,
            created_by="admin",
            change_reason="Renamed",
            business_line_name="Legal & Compliance",
        )
        deleted = uow.tenants.soft_delete(
            tenant.entity_id, created_by="admin", change_reason="Offboarded"
        )
        uow.commit()

    with database.unit_of_work() as uow:
        history = uow.tenants.history(tenant.entity_id)
        first = uow.tenants.as_of(tenant.entity_id, tenant.effective_from)
        live = uow.tenants.list_current()
    assert [(v.version, v.values["business_line_name"], v.is_deleted) for v in history] == [
        (1, "Legal", False),
        (2, "Legal & Compliance", False),
        (3, "Legal & Compliance", True),
    ]
    assert history[1] == replace(renamed, is_current=False, effective_to=deleted.effective_from)
    assert first == history[0]
    assert live == []


def test_deleting_twice_or_an_unknown_entity_is_refused(database: Database) -> None:
    with database.unit_of_work() as uow:
        user = uow.users.create(created_by="sync", change_reason="Synced", email="a@example.com")
        uow.users.soft_delete(user.entity_id, created_by="sync", change_reason="Left")

        with pytest.raises(StoreError, match="already deleted"):
            uow.users.soft_delete(user.entity_id, created_by="sync", change_reason="Left")
        with pytest.raises(NotFoundError, match="No projects entity"):
            uow.projects.get_current(uuid.uuid4())


def test_a_request_links_a_project_and_a_pack(database: Database, make_pack: MakePack) -> None:
    pack = make_pack()

    with database.unit_of_work() as uow:
        project = uow.projects.create(
            created_by="api", change_reason="Requested", project_name="Sales Q1"
        )
        request = uow.requests.create(
            created_by="api",
            change_reason="Uploaded",
            project_id=project.entity_id,
            share_pack_id=pack.share_pack_id,
            request_type="NEW",
            requested_by="ana@example.com",
            request_status="SUBMITTED",
        )
        uow.commit()

    with database.unit_of_work() as uow:
        current = uow.requests.get_current(request.entity_id)
    assert current.values["share_pack_id"] == pack.share_pack_id
    assert current.values["project_id"] == project.entity_id


def test_log_rows_are_appended_with_the_database_time(database: Database) -> None:
    with database.unit_of_work() as uow:
        older = uow.job_metrics.append(
            pipeline_id=uuid.uuid4(), duration_seconds=Decimal("12.500"), run_status="COMPLETED"
        )
        newer = uow.sync_jobs.append(sync_type="AD_USERS", sync_status="COMPLETED")
        uow.commit()

    with database.unit_of_work() as uow:
        metrics = uow.job_metrics.recent()
        syncs = uow.sync_jobs.recent()
    assert [m.values["duration_seconds"] for m in metrics] == [Decimal("12.500")]
    assert syncs[0].entry_id == newer.entry_id
    assert older.created_at <= newer.created_at


def test_recent_entries_can_be_those_with_given_values(database: Database) -> None:
    with database.unit_of_work() as uow:
        ok = uow.sync_jobs.append(sync_type="directory", sync_status="SUCCEEDED")
        uow.sync_jobs.append(sync_type="directory", sync_status="FAILED")
        uow.sync_jobs.append(sync_type="AD_USERS", sync_status="SUCCEEDED")
        uow.commit()

    with database.unit_of_work() as uow:
        found = uow.sync_jobs.recent(5, sync_type="directory", sync_status="SUCCEEDED")
    assert [entry.entry_id for entry in found] == [ok.entry_id]


def test_a_log_refuses_columns_it_does_not_have(database: Database) -> None:
    with database.unit_of_work() as uow, pytest.raises(StoreError, match=r"job_metrics.*colour"):
        uow.job_metrics.append(colour="blue")


def test_audit_trail_and_notifications_are_kept_per_entity(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()

    with database.unit_of_work() as uow:
        uow.audit_trail.record(
            entity_type="share_pack",
            entity_id=pack.share_pack_id,
            action="ROLLBACK",
            performed_by="worker",
            details={"reason": "share failed"},
        )
        uow.notifications.record(
            share_pack_id=pack.share_pack_id,
            recipient_email="ana@example.com",
            subject="Share pack rolled back",
            body="...",
            delivery_status="SENT",
        )
        uow.commit()

    with database.unit_of_work() as uow:
        audit = uow.audit_trail.for_entity(pack.share_pack_id)
        sent = uow.notifications.for_pack(pack.share_pack_id)
    assert [(a.action, a.details) for a in audit] == [("ROLLBACK", {"reason": "share failed"})]
    assert [n.subject for n in sent] == ["Share pack rolled back"]
