"""Migration 0005 on a database that already holds data: history rows keep their URL and
get an empty `workspace_id`; resource locks, keyed on the workspace's id from now on,
start empty (they live only while a run does)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from sharepack.store import Database
from sharepack.store.scd2 import END_OF_TIME
from tests.store.conftest import schema_outline

URL = "https://adb-1111.11.azuredatabricks.net"
BEFORE = "0004"


@pytest.fixture
def before_identity(database_url: str) -> Iterator[Database]:
    """A database migrated up to the revision before workspace identity."""
    database = Database(database_url)
    command.upgrade(database.alembic_config(), BEFORE)
    yield database
    database.dispose()


def _table(
    database: Database, name: str, schema: str, *columns: sa.ColumnClause[Any]
) -> sa.TableClause:
    return sa.table(name, *columns, schema=None if database.is_sqlite else schema)


def _versioned(key: str) -> dict[str, object]:
    return {
        "record_id": uuid.uuid4(),
        key: uuid.uuid4(),
        "workspace_url": URL,
        "effective_from": datetime(2025, 1, 1, tzinfo=UTC),
        "effective_to": END_OF_TIME,
        "is_current": True,
        "is_deleted": False,
        "version": 1,
        "created_by": "before",
        "change_reason": "written before 0005",
    }


def _version_columns(key: str) -> list[sa.ColumnClause[Any]]:
    return [
        sa.column("record_id", sa.Uuid()),
        sa.column(key, sa.Uuid()),
        sa.column("workspace_url", sa.String()),
        sa.column("effective_from", sa.DateTime(timezone=True)),
        sa.column("effective_to", sa.DateTime(timezone=True)),
        sa.column("is_current", sa.Boolean()),
        sa.column("is_deleted", sa.Boolean()),
        sa.column("version", sa.Integer()),
        sa.column("created_by", sa.String()),
        sa.column("change_reason", sa.String()),
    ]


def _write_rows_as_0004_did(database: Database) -> uuid.UUID:
    pack = _versioned("share_pack_id")
    packs = _table(
        database,
        "share_packs",
        "deltashare",
        *_version_columns("share_pack_id"),
        sa.column("share_pack_name", sa.String()),
        sa.column("share_pack_status", sa.String()),
        sa.column("strategy", sa.String()),
        sa.column("requested_by", sa.String()),
        sa.column("config", sa.JSON()),
    )
    recipient = _versioned("recipient_id")
    recipients = _table(
        database,
        "recipients",
        "deltashare",
        *_version_columns("recipient_id"),
        sa.column("recipient_name", sa.String()),
        sa.column("recipient_type", sa.String()),
    )
    locks = _table(
        database,
        "resource_locks",
        "sharepack",
        sa.column("workspace_url", sa.String()),
        sa.column("resource", sa.String()),
        sa.column("share_pack_id", sa.Uuid()),
        sa.column("acquired_at", sa.DateTime(timezone=True)),
    )
    with database.engine.begin() as connection:
        connection.execute(
            sa.insert(packs).values(
                **pack,
                share_pack_name="SharePack_ana@example.com_20250101_000000",
                share_pack_status="COMPLETED",
                strategy="NEW",
                requested_by="ana@example.com",
                config={"metadata": {}},
            )
        )
        connection.execute(
            sa.insert(recipients).values(**recipient, recipient_name="acme", recipient_type="D2O")
        )
        connection.execute(
            sa.insert(locks).values(
                workspace_url=URL,
                resource="recipient:acme",
                share_pack_id=pack["share_pack_id"],
                acquired_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )
    share_pack_id = pack["share_pack_id"]
    assert isinstance(share_pack_id, uuid.UUID)
    return share_pack_id


def test_rows_written_before_keep_their_url_and_have_no_id_yet(before_identity: Database) -> None:
    pack_id = _write_rows_as_0004_did(before_identity)

    before_identity.upgrade()

    with before_identity.unit_of_work() as uow:
        pack = uow.share_packs.get_current(pack_id)
        (recipient,) = uow.recipients.list_current(URL)
        assert uow.locks.acquire("1234", ["recipient:acme"], uuid.uuid4()) == []
    assert (pack.workspace_url, pack.workspace_id) == (URL, None)
    assert (recipient.name, recipient.workspace_url, recipient.workspace_id) == ("acme", URL, None)


def test_the_next_run_of_that_url_fills_the_id_in_only_where_there_was_none(
    before_identity: Database,
) -> None:
    pack_id = _write_rows_as_0004_did(before_identity)
    before_identity.upgrade()

    with before_identity.unit_of_work() as uow:
        filled = uow.workspaces.identify(URL, "1111")
        uow.workspaces.identify(URL, "2222")  # rows with an id keep it
        uow.workspaces.identify("https://elsewhere.example", "3333")
        uow.commit()

    with before_identity.unit_of_work() as uow:
        pack = uow.share_packs.get_current(pack_id)
        (recipient,) = uow.recipients.list_current(URL)
        history = uow.share_packs.history(pack_id)
    assert filled == 2
    assert (pack.workspace_id, recipient.workspace_id) == ("1111", "1111")
    assert [(v.version, v.change_reason) for v in history] == [(1, "written before 0005")]


def test_downgrading_and_upgrading_again_gives_the_same_schema(before_identity: Database) -> None:
    before_identity.upgrade()
    upgraded = schema_outline(before_identity)

    command.downgrade(before_identity.alembic_config(), BEFORE)
    before_identity.upgrade()

    assert schema_outline(before_identity) == upgraded
