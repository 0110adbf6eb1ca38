"""Run claims fence a run's writes: only the newest claim's Units of Work commit."""

from __future__ import annotations

import uuid

import pytest

from sharepack.errors import LeaseLostError
from sharepack.store import Database
from tests.store.conftest import MakePack


def test_each_claim_of_a_run_gets_a_greater_fence(database: Database) -> None:
    run_id = uuid.uuid4()
    with database.unit_of_work() as uow:
        first = uow.run_claims.claim(run_id, "worker-a")
        second = uow.run_claims.claim(run_id, "worker-b")
        other = uow.run_claims.claim(uuid.uuid4(), "worker-a")
        uow.commit()

    assert (first.fence, second.fence, other.fence) == (1, 2, 1)


def test_a_superseded_claim_commits_nothing(database: Database, make_pack: MakePack) -> None:
    pack = make_pack()
    run_id = pack.share_pack_id
    with database.unit_of_work() as uow:
        old = uow.run_claims.claim(run_id, "paused-worker")
        uow.commit()
    with database.unit_of_work() as uow:
        new = uow.run_claims.claim(run_id, "worker-that-took-over")
        uow.commit()

    with database.fenced(old).unit_of_work() as uow:
        uow.share_packs.update(
            run_id, created_by="paused-worker", change_reason="late", share_pack_status="FAILED"
        )
        with pytest.raises(LeaseLostError):
            uow.commit()
    with database.fenced(new).unit_of_work() as uow:
        uow.share_packs.update(
            run_id, created_by="worker", change_reason="current", provisioning_status="Step 4/8"
        )
        uow.commit()

    with database.unit_of_work() as uow:
        current = uow.share_packs.get_current(run_id)
    assert current.share_pack_status == pack.share_pack_status
    assert current.provisioning_status == "Step 4/8"


def test_reads_through_a_superseded_claim_still_work(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()
    with database.unit_of_work() as uow:
        old = uow.run_claims.claim(pack.share_pack_id, "a")
        uow.run_claims.claim(pack.share_pack_id, "b")
        uow.commit()

    with database.fenced(old).unit_of_work() as uow:
        assert uow.share_packs.get_current(pack.share_pack_id) == pack
