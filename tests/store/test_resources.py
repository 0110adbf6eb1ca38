"""Recipients, shares and pipelines: one current version per workspace and name."""

from __future__ import annotations

import pytest

from sharepack.errors import StoreError
from sharepack.store import Database
from sharepack.store.resources import REDACTED
from tests.store.conftest import WORKSPACE, MakePack


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
    values = {"databricks_share_id": "sales", "share_assets": ["main.sales.orders"]}

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
