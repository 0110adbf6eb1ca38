"""Share packs as SCD2 versions: every change closes one version and opens the next."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from sharepack.errors import NotFoundError, StoreError
from sharepack.store import Database
from sharepack.store import scd2 as scd2_module
from sharepack.store.scd2 import END_OF_TIME
from sharepack.store.tables import share_packs
from tests.store.conftest import MakePack, create_pack


def test_a_new_pack_is_version_one_current_until_the_end_of_time(database: Database) -> None:
    with database.unit_of_work() as uow:
        created = create_pack(uow, share_pack_name="SharePack_ana_1")
        uow.commit()

    with database.unit_of_work() as uow:
        current = uow.share_packs.get_current(created.share_pack_id)

    assert current == created
    assert (current.version, current.is_current, current.is_deleted) == (1, True, False)
    assert current.effective_to == END_OF_TIME
    assert current.created_at == current.effective_from
    assert current.config == {"metadata": {"requestor": "ana@example.com"}}


def test_an_update_closes_the_current_version_and_opens_the_next(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()

    with database.unit_of_work() as uow:
        uow.share_packs.update(
            pack.share_pack_id,
            created_by="worker",
            change_reason="Step 1/8",
            provisioning_status="Step 1/8: Reading the workspace",
        )
        updated = uow.share_packs.update(
            pack.share_pack_id,
            created_by="worker",
            change_reason="Failed",
            share_pack_status="FAILED",
            error_message="share 'x' could not be created",
        )
        uow.commit()

    with database.unit_of_work() as uow:
        history = uow.share_packs.history(pack.share_pack_id)
    assert [v.version for v in history] == [1, 2, 3]
    assert [v.is_current for v in history] == [False, False, True]
    assert history[0].effective_to == history[1].effective_from
    assert history[1].effective_to == history[2].effective_from
    assert history[2] == updated
    assert updated.share_pack_status == "FAILED"
    assert updated.provisioning_status == "Step 1/8: Reading the workspace"
    assert updated.created_at == history[0].effective_from
    assert updated.change_reason == "Failed"


def test_the_version_in_effect_at_a_moment_is_found(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()
    with database.unit_of_work() as uow:
        second = uow.share_packs.update(
            pack.share_pack_id,
            created_by="worker",
            change_reason="Done",
            share_pack_status="COMPLETED",
        )
        uow.commit()

    with database.unit_of_work() as uow:
        before = uow.share_packs.as_of(
            pack.share_pack_id, pack.effective_from - timedelta(seconds=1)
        )
        during_first = uow.share_packs.as_of(pack.share_pack_id, pack.effective_from)
        at_second = uow.share_packs.as_of(pack.share_pack_id, second.effective_from)

    assert before is None
    assert during_first is not None
    assert during_first.version == 1
    assert at_second is not None
    assert at_second.share_pack_status == "COMPLETED"


def test_versions_strictly_follow_each_other_when_the_clock_stands_still(
    database: Database, make_pack: MakePack, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = make_pack()
    monkeypatch.setattr(scd2_module, "database_now", lambda _session: pack.effective_from)

    with database.unit_of_work() as uow:
        for step in range(3):
            uow.share_packs.update(
                pack.share_pack_id,
                created_by="t",
                change_reason=f"step {step}",
                provisioning_status=f"step {step}",
            )
        uow.commit()

    with database.unit_of_work() as uow:
        history = uow.share_packs.history(pack.share_pack_id)
    starts = [v.effective_from for v in history]
    assert starts == sorted(set(starts))
    assert all(a.effective_to == b.effective_from for a, b in itertools.pairwise(history))


def test_a_soft_deleted_pack_keeps_its_history(database: Database, make_pack: MakePack) -> None:
    pack = make_pack()

    with database.unit_of_work() as uow:
        deleted = uow.share_packs.soft_delete(
            pack.share_pack_id, created_by="admin", change_reason="Rollback: share failed"
        )
        uow.commit()

    with database.unit_of_work() as uow:
        history = uow.share_packs.history(pack.share_pack_id)
        live = uow.share_packs.list_current()
    assert deleted.is_deleted
    assert deleted.version == 2
    assert [v.is_deleted for v in history] == [False, True]
    assert pack.share_pack_id not in {p.share_pack_id for p in live}


def test_every_version_needs_a_change_reason(database: Database, make_pack: MakePack) -> None:
    pack = make_pack()

    with database.unit_of_work() as uow, pytest.raises(StoreError, match="change_reason"):
        uow.share_packs.update(pack.share_pack_id, created_by="t", change_reason=" ")


def test_changes_name_real_business_columns(database: Database, make_pack: MakePack) -> None:
    pack = make_pack()

    with database.unit_of_work() as uow:
        with pytest.raises(StoreError, match=r"share_packs has no column.*colour"):
            uow.share_packs.update(pack.share_pack_id, created_by="t", change_reason="r", colour=1)
        with pytest.raises(StoreError, match="version are set by SCD2"):
            uow.share_packs.update(pack.share_pack_id, created_by="t", change_reason="r", version=9)


def test_an_unknown_pack_is_not_found(database: Database) -> None:
    missing = uuid.uuid4()

    with database.unit_of_work() as uow:
        with pytest.raises(NotFoundError, match=str(missing)):
            uow.share_packs.get_current(missing)
        with pytest.raises(NotFoundError, match=str(missing)):
            uow.share_packs.update(missing, created_by="t", change_reason="r", strategy="UPDATE")
        assert uow.share_packs.history(missing) == []


def test_a_pack_id_cannot_be_created_twice(database: Database, make_pack: MakePack) -> None:
    pack = make_pack()

    with database.unit_of_work() as uow, pytest.raises(StoreError, match="conflicts"):
        create_pack(uow, share_pack_id=pack.share_pack_id)


def test_the_database_refuses_a_second_current_version(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()
    with database.unit_of_work() as uow:
        row = dict(
            uow.session.execute(select(share_packs).where(share_packs.c.is_current.is_(True)))
            .mappings()
            .one()
        )
        row.update(record_id=uuid.uuid4(), version=2)

        with pytest.raises(IntegrityError):
            uow.session.execute(insert(share_packs).values(**row))
    assert row["share_pack_id"] == pack.share_pack_id


def test_leaving_a_unit_of_work_without_commit_rolls_back(database: Database) -> None:
    with database.unit_of_work() as uow:
        pack = create_pack(uow)

    with database.unit_of_work() as uow, pytest.raises(NotFoundError):
        uow.share_packs.get_current(pack.share_pack_id)


def test_list_current_filters_by_status(database: Database, make_pack: MakePack) -> None:
    failed = make_pack(status="FAILED")
    make_pack(status="IN_PROGRESS")

    with database.unit_of_work() as uow:
        listed = uow.share_packs.list_current(status="FAILED")

    assert [p.share_pack_id for p in listed] == [failed.share_pack_id]


def test_listed_packs_carry_when_they_were_created(database: Database, make_pack: MakePack) -> None:
    pack = make_pack()
    with database.unit_of_work() as uow:
        uow.share_packs.update(pack.share_pack_id, created_by="w", change_reason="Step 2")
        uow.commit()

    with database.unit_of_work() as uow:
        (listed,) = uow.share_packs.list_current()

    assert listed.version == 2
    assert listed.created_at == pack.effective_from
