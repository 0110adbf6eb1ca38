"""Resource locks: all or none, per pack, given back at the end."""

from __future__ import annotations

import uuid

from sharepack.store import Database
from sharepack.store.locks import HeldLock

WORKSPACE = "https://adb-1.azuredatabricks.net"


def _acquire(database: Database, pack: uuid.UUID, *resources: str) -> list[HeldLock]:
    with database.unit_of_work() as uow:
        held = uow.locks.acquire(WORKSPACE, resources, pack)
        uow.commit()
    return held


def test_a_pack_takes_all_its_locks_or_none(database: Database) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    assert _acquire(database, first, "recipient:acme", "share:sales") == []

    held = _acquire(database, second, "share:other", "share:sales", "recipient:new")

    assert held == [HeldLock("share:sales", first)]
    assert _acquire(database, uuid.uuid4(), "share:other", "recipient:new") == []


def test_a_pack_taking_its_own_locks_again_gets_them(database: Database) -> None:
    pack = uuid.uuid4()
    assert _acquire(database, pack, "recipient:acme") == []

    assert _acquire(database, pack, "recipient:acme", "share:sales") == []


def test_released_locks_can_be_taken_by_another_pack(database: Database) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    _acquire(database, first, "recipient:acme", "share:sales")

    with database.unit_of_work() as uow:
        released = uow.locks.release(first)
        uow.commit()

    assert released == 2
    assert _acquire(database, second, "share:sales") == []


def test_locks_are_per_workspace(database: Database) -> None:
    _acquire(database, uuid.uuid4(), "recipient:acme")

    with database.unit_of_work() as uow:
        held = uow.locks.acquire(
            "https://adb-2.azuredatabricks.net", ["recipient:acme"], uuid.uuid4()
        )
        uow.commit()

    assert held == []
