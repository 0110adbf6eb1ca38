"""The metastore, the caller and the Unity Catalog reads the SDK makes."""

from __future__ import annotations

import re
import uuid

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service import catalog

from tests.emulator._support import contract_tables, emulator_only, seed_tables

SEED = emulator_only("reads the emulator's default seed fixture")
SHARING_ID = re.compile(
    r"^(?P<cloud>[a-z]+):(?P<region>[a-z0-9-]+):"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


def test_metastore_summary_gives_the_sharing_identifier(client: WorkspaceClient) -> None:
    summary = client.metastores.summary()

    assert summary.global_metastore_id is not None
    match = SHARING_ID.match(summary.global_metastore_id)
    assert match is not None, summary.global_metastore_id
    assert summary.cloud
    assert summary.region
    assert match["cloud"] == summary.cloud.lower()
    assert match["region"] == summary.region


def test_current_user_has_a_user_name(client: WorkspaceClient) -> None:
    assert client.current_user.me().user_name


@SEED
def test_catalogs_list_gives_every_seeded_catalog(client: WorkspaceClient) -> None:
    expected = {t.split(".")[0] for t in seed_tables()}

    listed = [c.name or "" for c in client.catalogs.list()]

    assert sorted(listed) == sorted(expected)


@SEED
def test_schemas_list_gives_the_schemas_of_a_catalog(client: WorkspaceClient) -> None:
    expected = {t.split(".")[1] for t in seed_tables() if t.startswith("prod_catalog.")}

    listed = list(client.schemas.list("prod_catalog"))

    assert sorted(s.name or "" for s in listed) == sorted(expected)
    assert {s.catalog_name for s in listed} == {"prod_catalog"}


@SEED
def test_tables_list_gives_the_tables_of_a_schema(client: WorkspaceClient) -> None:
    expected = [t for t in seed_tables() if t.startswith("prod_catalog.sales.")]

    listed = [t.full_name or "" for t in client.tables.list("prod_catalog", "sales")]

    assert sorted(listed) == sorted(expected)


def test_table_get_describes_the_table(client: WorkspaceClient) -> None:
    full_name = contract_tables()[0]
    catalog_name, schema_name, table_name = full_name.split(".")

    table = client.tables.get(full_name)

    assert (table.full_name, table.catalog_name, table.schema_name, table.name) == (
        full_name,
        catalog_name,
        schema_name,
        table_name,
    )
    assert table.table_type is not None
    assert table.table_type != catalog.TableType.VIEW


def test_table_exists_tells_present_from_missing(client: WorkspaceClient) -> None:
    full_name = contract_tables()[0]
    missing = f"{full_name.rsplit('.', 1)[0]}.missing_{uuid.uuid4().hex[:8]}"

    assert client.tables.exists(full_name).table_exists
    assert not client.tables.exists(missing).table_exists


def test_missing_table_is_not_found(client: WorkspaceClient) -> None:
    missing = f"{contract_tables()[0].rsplit('.', 1)[0]}.missing_{uuid.uuid4().hex[:8]}"

    with pytest.raises(NotFound, match=f"^Table '{re.escape(missing)}' does not exist\\."):
        client.tables.get(missing)
