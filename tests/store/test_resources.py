"""Recipients, shares and pipelines: one current version per workspace and name."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from sharepack.errors import StoreError
from sharepack.store import Database, SharePackRecord
from sharepack.store.resources import REDACTED, ResourceRepository
from tests.store.conftest import WORKSPACE, MakePack

OTHER_WORKSPACE = "https://adb-2222.22.azuredatabricks.net"
TOKYO = timezone(timedelta(hours=9))


def test_the_first_upsert_records_version_one(database: Database, make_pack: MakePack) -> None:
    pack = make_pack()

    with database.unit_of_work() as uow:
        recipient = uow.recipients.upsert(
            workspace_url=WORKSPACE,
            name="acme-analysts",
            share_pack_id=pack.share_pack_id,
            created_by="worker",
            change_reason="Provisioned",
            recipient_type="D2O",
            recipient_contact_email="ops@acme.example",
            ip_access_list=["10.0.0.0/24"],
        )
        uow.commit()

    with database.unit_of_work() as uow:
        current = uow.recipients.get_current(WORKSPACE, "acme-analysts")
    assert current == recipient
    assert (recipient.version, recipient.share_pack_id) == (1, pack.share_pack_id)
    assert recipient.fields["ip_access_list"] == ["10.0.0.0/24"]


def test_upserting_the_same_values_writes_no_new_version(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()
    values: dict[str, Any] = {"databricks_share_id": "sales", "share_assets": ["main.sales.orders"]}

    with database.unit_of_work() as uow:
        first = uow.shares.upsert(
            workspace_url=WORKSPACE,
            name="sales",
            share_pack_id=pack.share_pack_id,
            created_by="w",
            change_reason="Provisioned",
            **values,
        )
        again = uow.shares.upsert(
            workspace_url=WORKSPACE,
            name="sales",
            share_pack_id=pack.share_pack_id,
            created_by="w",
            change_reason="Provisioned again",
            **values,
        )
        uow.commit()

    assert again == first


def test_a_change_or_a_new_pack_makes_a_new_version(
    database: Database, make_pack: MakePack
) -> None:
    first_pack, second_pack = make_pack(), make_pack()

    with database.unit_of_work() as uow:
        v1 = uow.shares.upsert(
            workspace_url=WORKSPACE,
            name="sales",
            share_pack_id=first_pack.share_pack_id,
            created_by="w",
            change_reason="Provisioned",
            share_assets=["main.sales.orders"],
        )
        v2 = uow.shares.upsert(
            workspace_url=WORKSPACE,
            name="sales",
            share_pack_id=second_pack.share_pack_id,
            created_by="w",
            change_reason="Updated",
            share_assets=["main.sales.orders", "main.sales.customers"],
        )
        uow.commit()

    with database.unit_of_work() as uow:
        history = uow.shares.history(WORKSPACE, "sales")
        by_id = uow.shares.history_of(v1.entity_id)
    assert [v.version for v in history] == [1, 2]
    assert history == by_id
    assert v2.entity_id == v1.entity_id
    assert v2.share_pack_id == second_pack.share_pack_id
    assert history[0].effective_to == history[1].effective_from
    with database.unit_of_work() as uow:
        assert uow.shares.list_for_pack(first_pack.share_pack_id) == []
        assert uow.shares.list_for_pack(second_pack.share_pack_id) == [v2]


def test_a_soft_delete_is_a_new_version_and_a_later_upsert_restores(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()
    with database.unit_of_work() as uow:
        uow.pipelines.upsert(
            workspace_url=WORKSPACE,
            name="orders_cdc",
            share_pack_id=pack.share_pack_id,
            created_by="w",
            change_reason="Provisioned",
            source_table="main.raw.orders",
            target_table="main.sales.orders",
            scd_type="2",
        )
        deleted = uow.pipelines.soft_delete(
            workspace_url=WORKSPACE,
            name="orders_cdc",
            created_by="w",
            change_reason="Rollback: share failed",
        )
        deleted_again = uow.pipelines.soft_delete(
            workspace_url=WORKSPACE, name="orders_cdc", created_by="w", change_reason="again"
        )
        live_after_delete = uow.pipelines.list_for_pack(pack.share_pack_id)
        restored = uow.pipelines.upsert(
            workspace_url=WORKSPACE,
            name="orders_cdc",
            share_pack_id=pack.share_pack_id,
            created_by="w",
            change_reason="Provisioned again",
            source_table="main.raw.orders",
            target_table="main.sales.orders",
            scd_type="2",
        )
        uow.commit()

    assert deleted is not None
    assert (deleted.version, deleted.is_deleted) == (2, True)
    assert deleted.fields["target_table"] == "main.sales.orders"
    assert deleted_again is None
    assert live_after_delete == []
    assert (restored.version, restored.is_deleted) == (3, False)


def test_recipient_secrets_are_masked_not_stored(database: Database, make_pack: MakePack) -> None:
    pack = make_pack()

    with database.unit_of_work() as uow:
        recipient = uow.recipients.upsert(
            workspace_url=WORKSPACE,
            name="acme",
            share_pack_id=pack.share_pack_id,
            created_by="w",
            change_reason="Provisioned",
            recipient_type="D2O",
            activation_url="https://example.com/activate#token=s3cr3t",
            bearer_token="s3cr3t",
        )
        uow.commit()

    assert recipient.fields["activation_url"] == REDACTED
    assert recipient.fields["bearer_token"] == REDACTED


def test_an_unknown_field_is_refused_with_its_name(database: Database, make_pack: MakePack) -> None:
    pack = make_pack()

    with database.unit_of_work() as uow, pytest.raises(StoreError, match="shares has no column"):
        uow.shares.upsert(
            workspace_url=WORKSPACE,
            name="sales",
            share_pack_id=pack.share_pack_id,
            created_by="w",
            change_reason="Provisioned",
            colour="blue",
        )


def test_the_same_name_in_another_workspace_is_another_resource(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()

    with database.unit_of_work() as uow:
        here = uow.shares.upsert(
            workspace_url=WORKSPACE,
            name="sales",
            share_pack_id=pack.share_pack_id,
            created_by="w",
            change_reason="Provisioned",
        )
        there = uow.shares.upsert(
            workspace_url="https://adb-2222.22.azuredatabricks.net",
            name="sales",
            share_pack_id=pack.share_pack_id,
            created_by="w",
            change_reason="Provisioned",
        )
        listed = uow.shares.list_current(WORKSPACE)
        uow.commit()

    assert here.entity_id != there.entity_id
    assert listed == [here]


def test_what_a_pack_created_stays_its_after_another_pack_updates_or_deletes_it(
    database: Database, make_pack: MakePack
) -> None:
    creator, updater = make_pack(), make_pack()
    with database.unit_of_work() as uow:
        for name in ("acme", "globex"):
            uow.recipients.upsert(
                workspace_url=WORKSPACE,
                name=name,
                share_pack_id=creator.share_pack_id,
                created_by="w",
                change_reason="Provisioned",
                recipient_type="D2O",
            )
        uow.shares.upsert(
            workspace_url=WORKSPACE,
            name="sales",
            share_pack_id=creator.share_pack_id,
            created_by="w",
            change_reason="Provisioned",
            share_assets=["main.sales.orders"],
        )
        uow.pipelines.upsert(
            workspace_url=WORKSPACE,
            name="orders_cdc",
            share_pack_id=updater.share_pack_id,
            created_by="w",
            change_reason="Provisioned",
        )
        uow.commit()
    with database.unit_of_work() as uow:
        widened = uow.shares.upsert(
            workspace_url=WORKSPACE,
            name="sales",
            share_pack_id=updater.share_pack_id,
            created_by="w",
            change_reason="Updated",
            share_assets=["main.sales.orders", "main.sales.customers"],
        )
        globex_gone = uow.recipients.soft_delete(
            workspace_url=WORKSPACE, name="globex", created_by="w", change_reason="Removed"
        )
        uow.commit()

    with database.unit_of_work() as uow:
        created = uow.queries.created_by_pack(creator.share_pack_id)
        by_updater = uow.queries.created_by_pack(updater.share_pack_id)
        acme = uow.recipients.get_current(WORKSPACE, "acme")
        still_listed = uow.shares.list_for_pack(creator.share_pack_id)

    assert created.shares == [widened]
    assert created.shares[0].share_pack_id == updater.share_pack_id
    assert created.recipients == [acme, globex_gone]
    assert created.pipelines == []
    assert (by_updater.recipients, by_updater.shares) == ([], [])
    assert [p.name for p in by_updater.pipelines] == ["orders_cdc"]
    assert still_listed == []  # list_for_pack: only what the pack's version is current on


def test_what_an_unknown_pack_created_is_nothing(database: Database) -> None:
    with database.unit_of_work() as uow:
        created = uow.queries.created_by_pack(uuid.uuid4())

    assert (created.recipients, created.shares, created.pipelines) == ([], [], [])


def test_as_of_gives_the_version_in_effect_at_each_moment(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()
    versions = []
    for reason, assets in (("Provisioned", ["a.b.c"]), ("Updated", ["a.b.c", "a.b.d"])):
        with database.unit_of_work() as uow:
            versions.append(
                uow.shares.upsert(
                    workspace_url=WORKSPACE,
                    name="sales",
                    share_pack_id=pack.share_pack_id,
                    created_by="w",
                    change_reason=reason,
                    share_assets=assets,
                )
            )
            uow.commit()
    with database.unit_of_work() as uow:
        deleted = uow.shares.soft_delete(
            workspace_url=WORKSPACE, name="sales", created_by="w", change_reason="Rollback: x"
        )
        uow.commit()
    assert deleted is not None
    first, second = versions
    tick = timedelta(microseconds=1)

    with database.unit_of_work() as uow:

        def version_at(moment: datetime) -> int | None:
            found = uow.shares.as_of(WORKSPACE, "sales", moment)
            return found.version if found is not None else None

        in_effect = [
            version_at(moment)
            for moment in (
                first.effective_from - tick,
                first.effective_from,
                second.effective_from - tick,
                second.effective_from,
                deleted.effective_from - tick,
                deleted.effective_from,
                deleted.effective_from + timedelta(days=3650),
            )
        ]
        first_then = uow.shares.as_of(WORKSPACE, "sales", first.effective_from)
        gone = uow.shares.as_of(WORKSPACE, "sales", deleted.effective_from)
        naive = uow.shares.as_of(WORKSPACE, "sales", second.effective_from.replace(tzinfo=None))
        in_tokyo = uow.shares.as_of(WORKSPACE, "sales", second.effective_from.astimezone(TOKYO))
        elsewhere = uow.shares.as_of(OTHER_WORKSPACE, "sales", deleted.effective_from)

    assert in_effect == [None, 1, 1, 2, 2, 3, 3]
    assert first_then == replace(first, is_current=False, effective_to=second.effective_from)
    assert gone == deleted
    assert deleted.is_deleted
    assert naive == in_tokyo
    assert naive is not None
    assert naive.fields["share_assets"] == ["a.b.c", "a.b.d"]
    assert elsewhere is None


def _provisioned(
    repository: ResourceRepository, name: str, pack: SharePackRecord, **fields: Any
) -> None:
    repository.upsert(
        workspace_url=fields.pop("workspace_url", WORKSPACE),
        name=name,
        share_pack_id=pack.share_pack_id,
        created_by="w",
        change_reason="Provisioned",
        **fields,
    )


def test_what_a_project_holds_is_what_its_packs_provisioned_and_nobody_took_over(
    database: Database, make_pack: MakePack
) -> None:
    first = make_pack(business_line="Sales", project_name="Q1 Data")
    second = make_pack(business_line="sales ", project_name="q1 data")
    other = make_pack(business_line="Sales", project_name="Q2 Data")
    elsewhere = make_pack(
        business_line="Sales", project_name="Q1 Data", workspace_url="https://adb-2.net"
    )
    with database.unit_of_work() as uow:
        for name, pack in (("acme", first), ("globex", second), ("initech", first)):
            _provisioned(uow.recipients, name, pack, recipient_type="D2O")
        _provisioned(uow.shares, "sales", first)
        _provisioned(uow.shares, "remote", elsewhere, workspace_url="https://adb-2.net")
        # Another project's pack takes the share over; a recipient is deleted.
        _provisioned(uow.shares, "sales", other)
        uow.recipients.soft_delete(
            workspace_url=WORKSPACE, name="initech", created_by="w", change_reason="Removed"
        )
        uow.commit()

    with database.unit_of_work() as uow:
        held = uow.queries.held_by_project(WORKSPACE, "Sales", "Q1 Data")
        held_by_other = uow.queries.held_by_project(WORKSPACE, "Sales", "Q2 Data")

    assert [r.name for r in held.recipients] == ["acme", "globex"]
    assert (held.shares, held.pipelines) == ([], [])
    assert [s.name for s in held_by_other.shares] == ["sales"]
    assert held_by_other.recipients == []
