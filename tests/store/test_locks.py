"""Resource locks: all or none, per pack, per workspace (by its id), given back at the end."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from sharepack.store import Database
from sharepack.store.locks import HeldLock

WORKSPACE = "1111111111111111"  # a workspace id, as the workspace answers it


def _acquire(database: Database, pack: uuid.UUID, *resources: str) -> list[HeldLock] | None:
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
        held = uow.locks.acquire("2222222222222222", ["recipient:acme"], uuid.uuid4())
        uow.commit()

    assert held == []


def test_packs_racing_for_the_same_locks_get_them_one_at_a_time(database: Database) -> None:
    resources = [f"recipient:r{i}" for i in range(5)]
    for round_ in range(10):
        packs = [uuid.uuid4() for _ in range(4)]
        start = threading.Barrier(len(packs))

        def race(pack: uuid.UUID, start: threading.Barrier = start) -> list[HeldLock] | None:
            start.wait()
            with database.unit_of_work() as uow:
                held = uow.locks.acquire(WORKSPACE, resources, pack)
                uow.commit()
            return held

        with ThreadPoolExecutor(max_workers=len(packs)) as pool:
            answers = list(pool.map(race, packs))

        winners = [pack for pack, held in zip(packs, answers, strict=True) if held == []]
        assert len(winners) == 1, (round_, answers)
        with database.unit_of_work() as uow:
            assert uow.locks.release(winners[0]) == len(resources)
            uow.commit()
