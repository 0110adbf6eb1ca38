"""Which recipients could read a table at a moment, from the versions then in effect."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from sharepack.errors import StoreError
from sharepack.store import Database, Reader, ResourceRecord
from tests.store.conftest import WORKSPACE, MakePack

ORDERS = "main.sales.orders"


class Timeline:
    """Commits one change at a time and remembers when each took effect."""

    def __init__(self, database: Database, pack_id: uuid.UUID) -> None:
        self.database = database
        self.pack_id = pack_id

    def recipient(self, name: str, workspace_url: str = WORKSPACE) -> datetime:
        return self._write(
            lambda uow: uow.recipients.upsert(
                workspace_url=workspace_url,
                name=name,
                share_pack_id=self.pack_id,
                created_by="t",
                change_reason="Provisioned",
                recipient_type="D2D",
            )
        )

    def share(self, assets: list[str], recipients: list[str], name: str = "sales") -> datetime:
        return self._write(
            lambda uow: uow.shares.upsert(
                workspace_url=WORKSPACE,
                name=name,
                share_pack_id=self.pack_id,
                created_by="t",
                change_reason="Provisioned",
                share_assets=assets,
                recipients_attached=recipients,
            )
        )

    def delete(self, kind: str, name: str) -> datetime:
        return self._write(
            lambda uow: getattr(uow, kind).soft_delete(
                workspace_url=WORKSPACE, name=name, created_by="t", change_reason="Rollback: x"
            )
        )

    def readers(self, table: str, at: datetime) -> list[str]:
        with self.database.unit_of_work() as uow:
            return uow.queries.recipients_with_access(table, at)

    def _write(self, change: Any) -> datetime:
        with self.database.unit_of_work() as uow:
            record: ResourceRecord = change(uow)
            uow.commit()
        return record.effective_from


@pytest.fixture
def timeline(database: Database, make_pack: MakePack) -> Timeline:
    return Timeline(database, make_pack().share_pack_id)


def test_readers_follow_the_grants_in_effect_at_each_moment(timeline: Timeline) -> None:
    timeline.recipient("acme")
    timeline.recipient("globex")
    granted = timeline.share([ORDERS], ["acme"])
    widened = timeline.share([ORDERS], ["acme", "globex"])
    acme_gone = timeline.delete("recipients", "acme")
    share_gone = timeline.delete("shares", "sales")

    assert timeline.readers(ORDERS, granted - timedelta(microseconds=1)) == []
    assert timeline.readers(ORDERS, granted) == ["acme"]
    assert timeline.readers(ORDERS, widened) == ["acme", "globex"]
    assert timeline.readers(ORDERS, acme_gone) == ["globex"]
    assert timeline.readers(ORDERS, share_gone) == []


def test_sharing_a_whole_schema_shares_its_tables(timeline: Timeline) -> None:
    timeline.recipient("acme")
    shared = timeline.share(["main.sales"], ["acme"])

    assert timeline.readers("MAIN.Sales.Customers", shared) == ["acme"]
    assert timeline.readers("main.finance.ledger", shared) == []


def test_a_grant_to_an_unrecorded_or_foreign_recipient_gives_no_reader(
    timeline: Timeline,
) -> None:
    timeline.recipient("initech", workspace_url="https://adb-2222.22.azuredatabricks.net")
    shared = timeline.share([ORDERS], ["initech", "nobody"])

    assert timeline.readers(ORDERS, shared) == []


def test_a_recipient_granted_by_two_shares_is_listed_once(timeline: Timeline) -> None:
    timeline.recipient("acme")
    timeline.share([ORDERS], ["acme"], name="sales")
    both = timeline.share([ORDERS], ["acme"], name="sales_eu")

    assert timeline.readers(ORDERS, both) == ["acme"]


def test_a_table_name_must_be_catalog_schema_table(timeline: Timeline) -> None:
    with pytest.raises(StoreError, match="'orders' is not a full table name"):
        timeline.readers("orders", datetime.now(UTC))


def test_a_moment_in_another_time_zone_means_the_same_instant(timeline: Timeline) -> None:
    timeline.recipient("acme")
    shared = timeline.share([ORDERS], ["acme"])
    tokyo, new_york = timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))

    assert timeline.readers(ORDERS, (shared - timedelta(microseconds=1)).astimezone(tokyo)) == []
    assert timeline.readers(ORDERS, shared.astimezone(new_york)) == ["acme"]


def test_each_reader_names_its_workspace_and_its_id_when_recorded(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()
    other = "https://adb-2222.22.azuredatabricks.net"
    with database.unit_of_work() as uow:
        for url, workspace_id in ((WORKSPACE, "1111"), (other, None)):
            uow.recipients.upsert(
                workspace_url=url,
                name="acme",
                share_pack_id=pack.share_pack_id,
                created_by="t",
                change_reason="Provisioned",
                workspace_id=workspace_id,
                recipient_type="D2D",
            )
            share = uow.shares.upsert(
                workspace_url=url,
                name="sales",
                share_pack_id=pack.share_pack_id,
                created_by="t",
                change_reason="Provisioned",
                workspace_id=workspace_id,
                share_assets=[ORDERS],
                recipients_attached=["acme"],
            )
        uow.commit()

    with database.unit_of_work() as uow:
        readers = uow.queries.readers(ORDERS, share.effective_from)
        only_other = uow.queries.readers(ORDERS, share.effective_from, workspace_url=other)
        names = uow.queries.recipients_with_access(ORDERS, share.effective_from)

    assert readers == [Reader("acme", WORKSPACE, "1111"), Reader("acme", other, None)]
    assert only_other == [Reader("acme", other, None)]
    assert names == ["acme"]
