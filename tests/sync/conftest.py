"""Fixtures of the sync job tests: runtimes on the test's database (two of them play two
workers), and records of shares and pipelines as a provisioning run leaves them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings


@pytest.fixture
def worker_settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings of a worker that touches no workspace: the scheduler's own tests."""
    return Settings(
        _env_file=None,
        sharepack_data_dir=tmp_path / "data",
        domain_db_connection_string=database_url,
    )


@pytest.fixture
def two_workers(worker_settings: Settings) -> Iterator[tuple[Runtime, Runtime]]:
    """Two runtimes on one database, each with its own engine, as two processes have."""
    first = build_runtime(worker_settings)
    second = build_runtime(worker_settings, migrate=False)
    yield first, second
    first.close()
    second.close()


def record_share(runtime: Runtime, workspace_url: str, name: str, assets: list[str]) -> None:
    with runtime.database.unit_of_work() as uow:
        uow.shares.upsert(
            workspace_url=workspace_url,
            name=name,
            share_pack_id=uuid.uuid4(),
            created_by="test",
            change_reason="provisioned",
            share_assets=assets,
        )
        uow.commit()


def record_pipeline(
    runtime: Runtime,
    workspace_url: str,
    name: str,
    *,
    databricks_pipeline_id: str | None = None,
    source_table: str | None = None,
    target_table: str | None = None,
) -> uuid.UUID:
    with runtime.database.unit_of_work() as uow:
        record = uow.pipelines.upsert(
            workspace_url=workspace_url,
            name=name,
            share_pack_id=uuid.uuid4(),
            created_by="test",
            change_reason="provisioned",
            databricks_pipeline_id=databricks_pipeline_id,
            source_table=source_table,
            target_table=target_table,
        )
        uow.commit()
    return record.entity_id
