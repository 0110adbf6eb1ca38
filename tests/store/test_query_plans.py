"""The searches that scanned whole history tables at scale (bench/latency.py) are served
by their indexes: each statement a repository sends is explained as sent, on SQLite and
PostgreSQL, and its plan must name the index. PostgreSQL is told to avoid scans where it
can, so that the plan of a test's tiny table shows what a large table's would."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event

from sharepack.store import Database, UnitOfWork
from tests.store.conftest import WORKSPACE, MakePack


@dataclass(frozen=True)
class Sent:
    statement: str
    parameters: Any


@contextmanager
def sent_statements(database: Database) -> Iterator[list[Sent]]:
    """Every statement sent to the database meanwhile, as the driver received it."""
    sent: list[Sent] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append(Sent(statement, parameters))

    event.listen(database.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(database.engine, "before_cursor_execute", note)


def plan_of(database: Database, sent: Sent) -> str:
    """The plan the database makes for a statement sent, one line per step."""
    with database.engine.connect() as connection:
        if database.is_sqlite:
            rows = connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {sent.statement}", sent.parameters
            )
            return "\n".join(str(row[-1]) for row in rows)
        connection.exec_driver_sql("SET enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {sent.statement}", sent.parameters)
        return "\n".join(str(row[0]) for row in rows)


def searches_of(
    database: Database, table: str, act: Callable[[UnitOfWork], object]
) -> list[tuple[str, str]]:
    """(statement, plan) of each SELECT or UPDATE `act` sends that names `table`."""
    with sent_statements(database) as sent, database.unit_of_work() as uow:
        act(uow)
        uow.commit()
    searches = [
        s
        for s in sent
        if s.statement.lstrip().upper().startswith(("SELECT", "UPDATE"))
        and f"{table}." in s.statement.replace('"', "")
    ]
    assert searches, f"nothing searched {table}"
    return [(s.statement, plan_of(database, s)) for s in searches]


def uses(index: str, plan: str) -> bool:
    """Whether the plan reads `index` (PostgreSQL: `Index Scan using ix`, `Bitmap Index
    Scan on ix`; SQLite: `SEARCH t USING INDEX ix`)."""
    return re.search(rf"(using|on|index) {index}\b", plan, re.IGNORECASE) is not None


@pytest.mark.parametrize("table", ["share_packs", "recipients", "shares", "pipelines"])
def test_identifying_a_workspace_finds_its_unidentified_rows_by_index(
    database: Database, make_pack: MakePack, table: str
) -> None:
    make_pack()

    searches = searches_of(
        database, table, lambda uow: uow.workspaces.identify(WORKSPACE, "1234567890")
    )

    assert [uses(f"ix_{table}_unidentified", plan) for _, plan in searches] == [True]


def test_ending_a_run_finds_the_packs_request_by_index(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()
    with database.unit_of_work() as uow:
        project = uow.tenancy.resolve("Finance", "Ledger", by="t")
        uow.tenancy.open_request(project.project_id, pack.share_pack_id, "ana@example.com", "t")
        uow.commit()

    searches = searches_of(
        database,
        "requests",
        lambda uow: uow.tenancy.request_ended(pack.share_pack_id, "COMPLETED", by="t"),
    )

    assert uses("ix_requests_share_pack_id", searches[0][1])


def test_an_upload_finds_its_project_among_the_business_lines_by_index(
    database: Database,
) -> None:
    with database.unit_of_work() as uow:
        uow.tenancy.resolve("Finance", "Ledger", by="t")
        uow.commit()

    searches = searches_of(
        database, "projects", lambda uow: uow.tenancy.resolve("Finance", "Ledger", by="t")
    )

    assert [uses("ix_projects_tenant_id", plan) for _, plan in searches] == [True]


def test_a_pruning_pack_finds_its_projects_packs_by_index(
    database: Database, make_pack: MakePack
) -> None:
    make_pack(business_line="Finance", project_name="Ledger")

    searches = searches_of(
        database,
        "share_packs",
        lambda uow: uow.recipients.held_by_project(WORKSPACE, " finance", "LEDGER "),
    )

    assert [uses("ix_share_packs_project_names", plan) for _, plan in searches] == [True]


def test_a_packs_current_version_is_found_by_its_current_index(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()

    searches = searches_of(
        database, "share_packs", lambda uow: uow.share_packs.get_current(pack.share_pack_id)
    )

    assert [uses("uq_share_packs_current", plan) for _, plan in searches] == [True]


def test_a_resources_current_version_is_found_by_its_current_name_index(
    database: Database, make_pack: MakePack
) -> None:
    pack = make_pack()
    with database.unit_of_work() as uow:
        uow.shares.upsert(
            workspace_url=WORKSPACE,
            name="sales",
            share_pack_id=pack.share_pack_id,
            created_by="w",
            change_reason="Provisioned",
        )
        uow.commit()

    searches = searches_of(
        database, "shares", lambda uow: uow.shares.get_current(WORKSPACE, "sales")
    )

    assert [uses("uq_shares_current_name", plan) for _, plan in searches] == [True]


def test_a_search_whose_index_is_gone_is_told_apart(database: Database) -> None:
    # The checks above can fail: without its index, the projects' search names none.
    with database.unit_of_work() as uow:
        uow.tenancy.resolve("Finance", "Ledger", by="t")
        uow.commit()
    schema = "" if database.is_sqlite else "deltashare."
    with database.engine.begin() as connection:
        connection.exec_driver_sql(f"DROP INDEX {schema}ix_projects_tenant_id")

    searches = searches_of(
        database, "projects", lambda uow: uow.tenancy.resolve("Finance", "Ledger", by="t")
    )

    assert [uses("ix_projects_tenant_id", plan) for _, plan in searches] == [False]
