"""The Unit of Work owns the transaction and reports database failures as StoreError."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from sharepack.errors import NotFoundError, StoreError
from sharepack.store import Database
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
