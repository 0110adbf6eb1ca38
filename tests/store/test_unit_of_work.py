"""The Unit of Work owns the transaction and reports database failures as StoreError."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from sharepack.errors import NotFoundError, StoreError
from sharepack.store import Database, UnitOfWork
from tests.store.conftest import create_pack


def test_a_failing_statement_surfaces_as_a_store_error(database: Database) -> None:
    def query_a_missing_table() -> None:
        with database.unit_of_work() as uow:
            uow.session.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(StoreError, match=r"Database operation failed on .*no_such_table"):
        query_a_missing_table()


def test_errors_of_our_own_pass_through_unchanged(database: Database) -> None:
    def read_a_missing_pack() -> None:
        with database.unit_of_work() as uow:
            uow.share_packs.get_current(uuid.UUID(int=1))

    with pytest.raises(NotFoundError, match="00000000-0000-0000-0000-000000000001"):
        read_a_missing_pack()


def test_an_explicit_rollback_undoes_what_came_before_it(database: Database) -> None:
    with database.unit_of_work() as uow:
        kept_out = create_pack(uow)
        uow.rollback()
        kept = create_pack(uow)
        uow.commit()

    with database.unit_of_work() as uow:
        assert uow.share_packs.get_current(kept.share_pack_id) == kept
        with pytest.raises(NotFoundError):
            uow.share_packs.get_current(kept_out.share_pack_id)


def test_a_unit_of_work_for_reading_reads_what_was_committed(database: Database) -> None:
    with database.unit_of_work() as uow:
        pack = create_pack(uow)
        uow.commit()

    with database.reading() as uow:
        assert uow.share_packs.get_current(pack.share_pack_id) == pack


def test_a_unit_of_work_for_reading_commits_nothing(database: Database) -> None:
    with database.reading() as uow, pytest.raises(StoreError, match="for reading commits nothing"):
        uow.commit()


@pytest.mark.postgres
def test_reading_on_postgresql_runs_each_statement_on_its_own(
    postgres_database: Database,
) -> None:
    # now() is when the transaction began: the same for two statements of one
    # transaction, later for the second of two that each ran on their own.
    def two_starts(uow: UnitOfWork) -> list[object]:
        return [uow.session.execute(text("SELECT now()")).scalar_one() for _ in range(2)]

    with postgres_database.reading() as uow:
        read_apart = two_starts(uow)
    with postgres_database.unit_of_work() as uow:
        read_together = two_starts(uow)

    assert read_apart[0] != read_apart[1]
    assert read_together[0] == read_together[1]
