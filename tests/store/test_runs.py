"""A run's journal and snapshots, as the engine records them."""

from __future__ import annotations

import threading
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from sharepack.errors import NotFoundError, StoreError
from sharepack.store import Database
from tests.store.conftest import WORKSPACE, MakePack


def test_the_journal_keeps_each_action_in_order_with_its_outcome(
    database: Database, make_pack: MakePack
) -> None:
    pack, run_id = make_pack(), uuid.uuid4()

    with database.unit_of_work() as uow:
        first = uow.run_journal.started(
            run_id=run_id,
            share_pack_id=pack.share_pack_id,
            action_id="create-recipient:acme",
            action_kind="CREATE_RECIPIENT",
            resource="recipient:acme",
            payload={"name": "acme"},
            before_state=None,
            inverse={"kind": "DELETE_RECIPIENT", "name": "acme"},
        )
        second = uow.run_journal.started(
            run_id=run_id,
            share_pack_id=pack.share_pack_id,
            action_id="create-share:sales",
            action_kind="CREATE_SHARE",
            resource="share:sales",
        )
        uow.run_journal.finished(run_id=run_id, action_id="create-recipient:acme", status="DONE")
        uow.run_journal.finished(
            run_id=run_id, action_id="create-share:sales", status="FAILED", error="quota"
        )
        uow.commit()

    with database.unit_of_work() as uow:
        entries = uow.run_journal.entries(run_id)
    assert (first, second) == (1, 2)
    assert [(e.seq, e.action_id, e.status, e.error) for e in entries] == [
        (1, "create-recipient:acme", "DONE", None),
        (2, "create-share:sales", "FAILED", "quota"),
    ]
    assert entries[0].inverse == {"kind": "DELETE_RECIPIENT", "name": "acme"}
    assert all(e.finished_at is not None and e.finished_at >= e.started_at for e in entries)


def test_an_outcome_needs_a_started_action_and_a_known_status(database: Database) -> None:
    run_id = uuid.uuid4()

    with database.unit_of_work() as uow:
        with pytest.raises(NotFoundError, match="no journal entry for action 'x'"):
            uow.run_journal.finished(run_id=run_id, action_id="x", status="DONE")
        with pytest.raises(StoreError, match="'MAYBE' is not one of"):
            uow.run_journal.finished(run_id=run_id, action_id="x", status="MAYBE")


def test_snapshots_are_kept_listed_and_cleaned_up(database: Database, make_pack: MakePack) -> None:
    pack, run_id = make_pack(), uuid.uuid4()
    content = zlib.compress(b'{"share:sales": null}')

    with database.unit_of_work() as uow:
        saved = uow.snapshots.save(
            workspace_url=WORKSPACE,
            resources=["share:sales"],
            content=content,
            compressed=True,
            run_id=run_id,
            share_pack_id=pack.share_pack_id,
            label="before apply",
        )
        uow.snapshots.save(workspace_url=WORKSPACE, resources=[], content=b"{}", compressed=False)
        uow.commit()

    with database.unit_of_work() as uow:
        fetched = uow.snapshots.get(saved.snapshot_id)
        of_run = uow.snapshots.list(run_id=run_id)
        kept = uow.snapshots.delete_older_than(days=1)
        removed = uow.snapshots.delete_older_than(days=-1)
        uow.commit()
    assert fetched == saved
    assert zlib.decompress(fetched.content) == b'{"share:sales": null}'
    assert of_run == [saved]
    assert (kept, removed) == (0, 2)


def test_an_unknown_snapshot_is_not_found(database: Database) -> None:
    missing = uuid.uuid4()

    with database.unit_of_work() as uow, pytest.raises(NotFoundError, match=str(missing)):
        uow.snapshots.get(missing)


def test_two_units_of_work_journaling_one_run_get_distinct_sequence_numbers(
    database: Database, make_pack: MakePack
) -> None:
    pack, run_id = make_pack(), uuid.uuid4()
    start = threading.Barrier(4)

    def journal(action: int) -> int:
        start.wait()
        with database.unit_of_work() as uow:
            seq = uow.run_journal.started(
                run_id=run_id,
                share_pack_id=pack.share_pack_id,
                action_id=f"action-{action}",
                action_kind="CREATE_SHARE",
                resource=f"share:{action}",
            )
            uow.commit()
        return seq

    with ThreadPoolExecutor(max_workers=4) as pool:
        sequence_numbers = sorted(pool.map(journal, range(4)))

    assert sequence_numbers == [1, 2, 3, 4]
