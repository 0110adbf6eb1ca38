"""Versions and log entries take their time from the database's clock, never Python's:
several processes on several hosts write one history, and only the database's clock is
shared by them all."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta, tzinfo

import pytest
from sqlalchemy import text

from sharepack.store import Database
from tests.store.conftest import WORKSPACE, create_pack

#: Where Python's clock is sent while the store writes: far enough that a time taken
#: from it could never fall between two readings of the database's clock.
FAR_OFF = datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)
#: SQLite's clock counts milliseconds; a version one microsecond after its predecessor
#: (see `scd2.version_time`) may be read back "after" a later reading of that clock.
SQLITE_CLOCK_STEP = timedelta(milliseconds=1)


class FarOffClock(datetime):
    """`datetime` whose `now` and `utcnow` answer FAR_OFF; everything else unchanged."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> FarOffClock:
        return cls.fromtimestamp(FAR_OFF.timestamp(), tz=tz)

    @classmethod
    def utcnow(cls) -> FarOffClock:
        return cls.fromtimestamp(FAR_OFF.timestamp(), tz=UTC).replace(tzinfo=None)


@pytest.fixture
def far_off_python_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every store module that imported `datetime` sees Python's clock at FAR_OFF."""
    for name, module in list(sys.modules.items()):
        if name.startswith("sharepack.store") and getattr(module, "datetime", None) is datetime:
            monkeypatch.setattr(module, "datetime", FarOffClock)


def database_clock(database: Database) -> datetime:
    """The database server's clock, read here in SQL of the test's own."""
    with database.engine.connect() as connection:
        if database.is_sqlite:
            value = connection.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"))
            return datetime.fromisoformat(str(value.scalar_one())).replace(tzinfo=UTC)
        moment = connection.execute(text("SELECT clock_timestamp()")).scalar_one()
        assert isinstance(moment, datetime)
        return moment.astimezone(UTC)


@pytest.mark.usefixtures("far_off_python_clock")
def test_every_write_is_stamped_by_the_database_clock(database: Database) -> None:
    assert datetime.now(UTC) - FAR_OFF > timedelta(days=365)  # the real clock is elsewhere
    before = database_clock(database)

    with database.unit_of_work() as uow:
        pack = create_pack(uow)
        updated = uow.share_packs.update(pack.share_pack_id, created_by="w", change_reason="Step")
        share = uow.shares.upsert(
            workspace_url=WORKSPACE,
            name="sales",
            share_pack_id=pack.share_pack_id,
            created_by="w",
            change_reason="Provisioned",
        )
        deleted = uow.shares.soft_delete(
            workspace_url=WORKSPACE, name="sales", created_by="w", change_reason="Rollback: x"
        )
        tenant = uow.tenants.create(
            created_by="admin", change_reason="Onboarded", business_line_name="Finance"
        )
        metric = uow.job_metrics.append(run_status="SUCCESS")
        uow.commit()
    after = database_clock(database)
    assert deleted is not None

    stamps = {
        "share pack v1": pack.effective_from,
        "share pack v2": updated.effective_from,
        "share v1": share.effective_from,
        "share v2 (deleted)": deleted.effective_from,
        "tenant v1": tenant.effective_from,
        "job metric": metric.created_at,
    }
    latest = after + (SQLITE_CLOCK_STEP if database.is_sqlite else timedelta(0))
    assert {what: before <= at <= latest for what, at in stamps.items()} == dict.fromkeys(
        stamps, True
    ), (before, stamps, after)
    assert pack.created_at == pack.effective_from
