"""The audit trail: who, how, with what outcome, from where; searched newest first; and
append-only in the database itself, whatever code holds the connection."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from sharepack.errors import StoreError
from sharepack.store import Database
from sharepack.store.logs import AuditEntry
from tests.store.conftest import schema_outline

REFUSAL = "audit_trail is append-only"


def record_in_turn(database: Database, *entries: dict[str, Any]) -> list[AuditEntry]:
    """Record each entry in its own transaction, each strictly after the one before by the
    database's clock (SQLite's counts milliseconds), so their order is known."""
    written: list[AuditEntry] = []
    for values in entries:
        while True:  # the clock moves on within a millisecond: this ends
            with database.unit_of_work() as uow:
                entry = uow.audit_trail.record(**{"entity_type": "share_pack", **values})
                if not written or entry.created_at > written[-1].created_at:
                    uow.commit()
                    written.append(entry)
                    break
    return written


def entry(performed_by: str, business_line: str | None, **more: Any) -> dict[str, Any]:
    return {
        "entity_id": uuid.uuid4(),
        "action": "UPLOAD",
        "performed_by": performed_by,
        "business_line": business_line,
        **more,
    }


def audit_table(database: Database) -> str:
    return "audit_trail" if database.is_sqlite else "deltashare.audit_trail"


def test_an_entry_keeps_how_and_where_the_caller_came_from(database: Database) -> None:
    (written,) = record_in_turn(
        database,
        entry(
            "key:ci",
            "Corporate Finance",
            details={"file": "pack.yaml"},
            auth_method="api_key",
            outcome="refused",
            client_address="203.0.113.7",
            user_agent="curl/8.5.0",
        ),
    )

    with database.unit_of_work() as uow:
        (read,) = uow.audit_trail.for_entity(written.entity_id)  # type: ignore[arg-type]

    assert read == written
    assert (read.auth_method, read.outcome, read.business_line) == (
        "api_key",
        "refused",
        "Corporate Finance",
    )
    assert (read.client_address, read.user_agent) == ("203.0.113.7", "curl/8.5.0")


def test_an_entry_recorded_as_before_leaves_the_new_fields_empty(database: Database) -> None:
    pack_id = uuid.uuid4()
    with database.unit_of_work() as uow:
        uow.audit_trail.record(
            entity_type="share_pack", entity_id=pack_id, action="ROLLBACK", performed_by="w"
        )
        uow.commit()

    with database.unit_of_work() as uow:
        (read,) = uow.audit_trail.for_entity(pack_id)

    assert (read.action, read.details) == ("ROLLBACK", None)
    assert [read.auth_method, read.outcome, read.business_line] == [None, None, None]
    assert [read.client_address, read.user_agent] == [None, None]


def test_search_is_newest_first_and_filters_by_principal_line_and_time(
    database: Database,
) -> None:
    written = record_in_turn(
        database,
        entry("ana@example.com", "Corporate Finance"),
        entry("key:ci", "Légal"),
        entry("Ana@Example.com", "corporate finance "),
        entry("ana@example.com.evil", "Corporate Finance"),
        entry("bob@example.com", None),
        entry("ana@example.com", "LÉGAL"),
    )
    audit = [e.audit_id for e in written]

    with database.unit_of_work() as uow:
        everything = uow.audit_trail.search()
        ana = uow.audit_trail.search(principal="ANA@example.com")
        finance = uow.audit_trail.search(business_line="  CORPORATE FINANCE")
        legal = uow.audit_trail.search(business_line="légal")
        ana_finance = uow.audit_trail.search(
            principal="ana@example.com", business_line="Corporate Finance"
        )
        recent = uow.audit_trail.search(since=written[2].created_at)
        newest_two = uow.audit_trail.search(limit=2)

    def ids(found: list[AuditEntry]) -> list[uuid.UUID]:
        return [e.audit_id for e in found]

    assert ids(everything) == audit[::-1]
    assert ids(ana) == [audit[5], audit[2], audit[0]]
    assert ids(finance) == [audit[3], audit[2], audit[0]]
    assert ids(legal) == [audit[5], audit[1]]
    assert ids(ana_finance) == [audit[2], audit[0]]
    assert ids(recent) == [audit[5], audit[4], audit[3], audit[2]]
    assert ids(newest_two) == [audit[5], audit[4]]


def test_search_refuses_a_limit_below_one(database: Database) -> None:
    refused = pytest.raises(StoreError, match="limit must be at least 1, not 0")
    with refused, database.unit_of_work() as uow:
        uow.audit_trail.search(limit=0)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET performed_by = 'someone else'",
        "UPDATE {table} SET outcome = 'ok' WHERE outcome = 'refused'",
        "DELETE FROM {table}",
    ],
)
def test_the_database_refuses_to_change_or_delete_audit_rows(
    database: Database, statement: str
) -> None:
    (written,) = record_in_turn(database, entry("ana@example.com", "Finance", outcome="refused"))

    with pytest.raises(sa.exc.DBAPIError, match=REFUSAL), database.engine.begin() as connection:
        connection.execute(sa.text(statement.format(table=audit_table(database))))

    with database.unit_of_work() as uow:
        assert uow.audit_trail.search() == [written]


def test_a_unit_of_work_that_changes_an_audit_row_fails_as_a_store_error(
    database: Database,
) -> None:
    record_in_turn(database, entry("ana@example.com", "Finance"))

    with pytest.raises(StoreError, match=REFUSAL), database.unit_of_work() as uow:
        uow.session.execute(sa.text(f"DELETE FROM {audit_table(database)}"))


@pytest.mark.postgres
def test_postgresql_refuses_to_truncate_the_audit_trail(postgres_database: Database) -> None:
    (written,) = record_in_turn(postgres_database, entry("ana@example.com", "Finance"))

    refused = pytest.raises(sa.exc.DBAPIError, match=REFUSAL)
    with refused, postgres_database.engine.begin() as connection:
        connection.execute(sa.text("TRUNCATE deltashare.audit_trail"))

    with postgres_database.unit_of_work() as uow:
        assert uow.audit_trail.search() == [written]


def test_downgrading_identity_lifts_the_refusal_and_upgrading_restores_it(
    database: Database,
) -> None:
    (kept,) = record_in_turn(database, entry("ana@example.com", "Finance", outcome="ok"))
    table = audit_table(database)
    config = database.alembic_config()
    before = schema_outline(database)

    command.downgrade(config, "0005")
    with database.engine.begin() as connection:
        columns = {
            c["name"]
            for c in sa.inspect(connection).get_columns(
                "audit_trail", schema=None if database.is_sqlite else "deltashare"
            )
        }
        # Without the triggers the row can be changed: show it, then put it back.
        connection.execute(sa.text(f"UPDATE {table} SET performed_by = 'changed'"))
        connection.execute(sa.text(f"UPDATE {table} SET performed_by = 'ana@example.com'"))
    database.upgrade()

    assert schema_outline(database) == before
    assert "outcome" not in columns
    assert "performed_by" in columns
    with pytest.raises(sa.exc.DBAPIError, match=REFUSAL), database.engine.begin() as connection:
        connection.execute(sa.text(f"DELETE FROM {table}"))
    with database.unit_of_work() as uow:
        (after,) = uow.audit_trail.search()
    assert (after.audit_id, after.performed_by, after.created_at) == (
        kept.audit_id,
        "ana@example.com",
        kept.created_at,
    )
    assert after.outcome is None  # the column went with the downgrade
