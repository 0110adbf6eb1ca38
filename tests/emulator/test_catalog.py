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


CONTROLS = emulator_only("adds tables through the emulator's controls")


@CONTROLS
def test_table_summaries_list_a_schema_in_one_page_with_each_type(
    client: WorkspaceClient,
) -> None:
    # `tables.list_summaries` pages by up to 10,000 (the SDK's docstring of it), where
    # `tables.list` pages by 50: a schema's tables are found in one call.
    schema = f"s_{uuid.uuid4().hex[:8]}"
    names = [f"main.{schema}.t{i:03d}" for i in range(120)]
    _add_tables(client, [*names, {"name": f"main.{schema}.v", "table_type": "VIEW"}])

    summaries = list(client.tables.list_summaries("main", schema_name_pattern=schema))

    assert {s.full_name for s in summaries} == {*names, f"main.{schema}.v"}
    kinds = {s.full_name: s.table_type for s in summaries}
    assert kinds[f"main.{schema}.v"] is catalog.TableType.VIEW
    assert kinds[names[0]] is catalog.TableType.MANAGED


@CONTROLS
def test_table_summaries_match_like_patterns_and_page_when_asked(client: WorkspaceClient) -> None:
    tag = uuid.uuid4().hex[:6]
    _add_tables(client, [f"main.a{tag}x.t1", f"main.a{tag}y.t2", f"main.b{tag}.t3"])

    # `_` is any one character, as in SQL LIKE; `%` any run.
    one_char = {
        s.full_name for s in client.tables.list_summaries("main", schema_name_pattern=f"a{tag}_")
    }
    assert one_char == {f"main.a{tag}x.t1", f"main.a{tag}y.t2"}
    by_table = client.tables.list_summaries(
        "main", schema_name_pattern=f"%{tag}%", table_name_pattern="t3"
    )
    assert {s.full_name for s in by_table} == {f"main.b{tag}.t3"}
    first = client.api_client.do(
        "GET",
        "/api/2.1/unity-catalog/table-summaries",
        query={"catalog_name": "main", "schema_name_pattern": f"a{tag}%", "max_results": 1},
    )
    assert isinstance(first, dict)
    assert len(first["tables"]) == 1
    assert first["next_page_token"]


def _add_tables(client: WorkspaceClient, tables: list[object]) -> None:
    import httpx

    httpx.post(f"{client.config.host}/_emulator/tables", json={"tables": tables}).raise_for_status()
