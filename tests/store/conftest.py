"""Store fixtures: packs to hang resources on, and a PostgreSQL-only database."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sharepack.store import Database, SharePackRecord, UnitOfWork

WORKSPACE = "https://adb-1111.11.azuredatabricks.net"

MakePack = Callable[..., SharePackRecord]


def create_pack(uow: UnitOfWork, **overrides: Any) -> SharePackRecord:
    """Version 1 of a pack with plausible values; `overrides` by keyword of `create`."""
    values: dict[str, Any] = {
        "share_pack_id": uuid.uuid4(),
        "share_pack_name": "SharePack_ana@example.com_20240130_143022",
        "requested_by": "ana@example.com",
        "strategy": "NEW",
        "config": {"metadata": {"requestor": "ana@example.com"}},
        "file_name": "pack.yaml",
        "file_format": "yaml",
        "workspace_url": WORKSPACE,
        "status": "IN_PROGRESS",
        "provisioning_status": "Queued",
        "created_by": "api",
        "change_reason": "Uploaded",
    }
    values.update(overrides)
    return uow.share_packs.create(**values)


@pytest.fixture
def make_pack(database: Database) -> MakePack:
    """Create and commit a pack; returns its first version."""

    def make(**overrides: Any) -> SharePackRecord:
        with database.unit_of_work() as uow:
            record = create_pack(uow, **overrides)
            uow.commit()
        return record

    return make


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[Database]:
    """A migrated database on PostgreSQL only, for SQL that is PostgreSQL's own."""
    database = Database(postgres_url)
    database.upgrade()
    yield database
    database.dispose()
