"""Concurrent writers of one business key leave one gap-free, non-overlapping history."""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import pytest

from sharepack.store import Database
from sharepack.store.records import ResourceRecord, SharePackRecord
from sharepack.store.scd2 import END_OF_TIME
from tests.store.conftest import WORKSPACE, MakePack

PROCESSES = 8
UPDATES_PER_PROCESS = 200
UPSERTS_PER_PROCESS = 50


def update_pack_repeatedly(url: str, pack_id: str, worker: int, count: int, start: Any) -> None:
    """One writer process: `count` transactions, each one SCD2 update of the same pack."""
    database = Database(url)
    start.wait()
    for n in range(count):
        with database.unit_of_work() as uow:
            uow.share_packs.update(
                uuid.UUID(pack_id),
                created_by=f"writer-{worker}",
                change_reason=f"update {n}",
                provisioning_status=f"{worker}:{n}",
            )
            uow.commit()
    database.dispose()


def upsert_recipient_repeatedly(
    url: str, pack_id: str, worker: int, count: int, start: Any
) -> None:
    """One writer process: upserts of one recipient that does not exist yet, each changing it."""
    database = Database(url)
    start.wait()
    for n in range(count):
        with database.unit_of_work() as uow:
            uow.recipients.upsert(
                workspace_url=WORKSPACE,
                name="contended",
                share_pack_id=uuid.UUID(pack_id),
                created_by=f"writer-{worker}",
                change_reason=f"upsert {n}",
                recipient_type="D2O",
                description=f"{worker}:{n}",
            )
            uow.commit()
    database.dispose()


def run_writers(target: Any, url: str, pack_id: uuid.UUID, count: int) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    writers = [
        context.Process(target=target, args=(url, str(pack_id), worker, count, start))
        for worker in range(PROCESSES)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=600)
    assert [w.exitcode for w in writers] == [0] * PROCESSES


def assert_one_unbroken_history(history: Sequence[SharePackRecord | ResourceRecord]) -> None:
    assert [v.version for v in history] == list(range(1, len(history) + 1))
    assert [v.is_current for v in history] == [False] * (len(history) - 1) + [True]
    assert history[-1].effective_to == END_OF_TIME
    for earlier, later in pairwise(history):
        assert earlier.effective_from < later.effective_from
        assert earlier.effective_to == later.effective_from


def writes_in_order(values: list[str]) -> dict[str, list[int]]:
    """Each writer's sequence numbers in the order its versions appear."""
    by_writer: dict[str, list[int]] = {}
    for value in values:
        writer, n = value.split(":")
        by_writer.setdefault(writer, []).append(int(n))
    return by_writer


@pytest.mark.slow
def test_eight_processes_updating_one_pack_leave_one_unbroken_history(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()

    run_writers(update_pack_repeatedly, database.url, pack.share_pack_id, UPDATES_PER_PROCESS)

    with database.unit_of_work() as uow:
        history = uow.share_packs.history(pack.share_pack_id)
    assert len(history) == 1 + PROCESSES * UPDATES_PER_PROCESS
    assert_one_unbroken_history(history)
    ordered = writes_in_order([v.provisioning_status or "" for v in history[1:]])
    assert ordered == {str(w): list(range(UPDATES_PER_PROCESS)) for w in range(PROCESSES)}


@pytest.mark.slow
def test_eight_processes_upserting_one_new_recipient_create_it_once(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()

    run_writers(upsert_recipient_repeatedly, database.url, pack.share_pack_id, UPSERTS_PER_PROCESS)

    with database.unit_of_work() as uow:
        history = uow.recipients.history(WORKSPACE, "contended")
    assert len({v.entity_id for v in history}) == 1
    assert len(history) == PROCESSES * UPSERTS_PER_PROCESS
    assert_one_unbroken_history(history)
    ordered = writes_in_order([v.fields["description"] for v in history])
    assert ordered == {str(w): list(range(UPSERTS_PER_PROCESS)) for w in range(PROCESSES)}
