"""Unity Catalog reads (catalogs, schemas, tables), the metastore, and the current user."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request

from databricks_emulator.emulator import (
    CLOUD,
    CURRENT_USER,
    GLOBAL_METASTORE_ID,
    METASTORE_ID,
    REGION,
)
from databricks_emulator.errors import invalid
from databricks_emulator.paging import listing, page
from databricks_emulator.routes_common import base_url, emulator

catalog_router = APIRouter()
_UC = "/api/2.1/unity-catalog"


def _by_full_name(item: dict[str, Any]) -> str:
    return str(item["full_name"])


@catalog_router.get(f"{_UC}/catalogs")
async def list_catalogs(
    request: Request, max_results: int | None = None, page_token: str | None = None
) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        everything = [em.catalog.catalog_info(n) for n in em.catalog.catalogs]
        paging = em.paging
    return listing("catalogs", everything, _by_full_name, max_results, page_token, paging=paging)


@catalog_router.get(f"{_UC}/catalogs/{{name}}")
async def get_catalog(request: Request, name: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        return em.catalog.catalog_info(name)


@catalog_router.get(f"{_UC}/schemas")
async def list_schemas(
    request: Request,
    catalog_name: str,
    max_results: int | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        em.catalog.require_catalog(catalog_name)
        everything = [em.catalog.schema_info(n) for n in em.catalog.schema_names(catalog_name)]
        paging = em.paging
    return listing("schemas", everything, _by_full_name, max_results, page_token, paging=paging)


@catalog_router.get(f"{_UC}/schemas/{{full_name}}")
async def get_schema(request: Request, full_name: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        return em.catalog.schema_info(full_name)


@catalog_router.get(f"{_UC}/tables")
async def list_tables(
    request: Request,
    catalog_name: str,
    schema_name: str,
    max_results: int | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    em = emulator(request)
    schema = f"{catalog_name}.{schema_name}"
    with em.lock:
        em.catalog.require_schema(schema)
        everything = [em.catalog.table_info(n) for n in em.catalog.table_names(schema)]
        paging = em.paging
    if max_results is None and len(everything) > UNPAGED_TABLES:
        raise invalid(TOO_MANY_TABLES)
    return listing("tables", everything, _by_full_name, max_results, page_token, paging=paging)


#: Unpaged, a schema's table list is refused past a size: the text a workspace answered
#: (open-metadata/OpenMetadata issue #31664). The size is the emulator's (unverified).
UNPAGED_TABLES = 1000
TOO_MANY_TABLES = (
    "The ListTables result set is too large to return in a single response. Please adopt the "
    "paginated version of this API by setting max_results and paging through results with "
    "page_token. Error code #UC-PGRQD"
)


#: `tables.list_summaries`' page length: "a server configured value (10000, as of
#: 1/5/2024)", the databricks-sdk docstring of `TablesAPI.list_summaries` (also the most
#: one page may hold).
SUMMARIES_PAGE = 10000


def _like(pattern: str | None) -> re.Pattern[str]:
    """A SQL LIKE pattern (`%` any run, `_` any one character); empty or absent: all."""
    if not pattern:
        return re.compile(".*", re.DOTALL)
    parts = ("." if c == "_" else ".*" if c == "%" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


@catalog_router.get(f"{_UC}/table-summaries")
async def list_table_summaries(
    request: Request,
    catalog_name: str,
    schema_name_pattern: str | None = None,
    table_name_pattern: str | None = None,
    max_results: int | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    """The catalog's tables whose schema and name match the patterns: full name and type."""
    em = emulator(request)
    schemas, tables = _like(schema_name_pattern), _like(table_name_pattern)
    with em.lock:
        em.catalog.require_catalog(catalog_name)
        everything = [
            {"full_name": info["full_name"], "table_type": info["table_type"]}
            for schema in em.catalog.schema_names(catalog_name)
            if schemas.fullmatch(schema.split(".", 1)[1])
            for name in em.catalog.table_names(schema)
            if tables.fullmatch(name.rsplit(".", 1)[1])
            for info in [em.catalog.table_info(name)]
        ]
        paging = em.paging
    chunk, token = page(
        everything,
        _by_full_name,
        max_results,
        page_token,
        paging=paging,
        default_size=SUMMARIES_PAGE,
        max_size=SUMMARIES_PAGE,
        unpaged_when_absent=False,
    )
    return {"tables": chunk, **({"next_page_token": token} if token else {})}


@catalog_router.get(f"{_UC}/tables/{{full_name}}/exists")
async def table_exists(request: Request, full_name: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        return {"table_exists": em.catalog.has_table(full_name)}


@catalog_router.get(f"{_UC}/tables/{{full_name}}")
async def get_table(request: Request, full_name: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        return em.catalog.table_info(full_name)


@catalog_router.get(f"{_UC}/metastore_summary")
async def metastore_summary() -> dict[str, Any]:
    return {
        "metastore_id": METASTORE_ID,
        "global_metastore_id": GLOBAL_METASTORE_ID,
        "name": "emulator-metastore",
        "cloud": CLOUD,
        "region": REGION,
        "owner": CURRENT_USER,
        "delta_sharing_scope": "INTERNAL_AND_EXTERNAL",
        "delta_sharing_recipient_token_lifetime_in_seconds": 0,
        "delta_sharing_organization_name": "sharepack-emulator",
    }


@catalog_router.get(f"{_UC}/current-metastore-assignment")
async def current_metastore_assignment(request: Request) -> dict[str, Any]:
    return {
        "metastore_id": METASTORE_ID,
        "workspace_id": int(emulator(request).workspace_id),
        "default_catalog_name": "main",
    }


@catalog_router.get("/api/2.0/preview/scim/v2/Me")
async def me() -> dict[str, Any]:
    return {
        "id": "1000",
        "userName": CURRENT_USER,
        "displayName": "sharepack emulator",
        "active": True,
        "emails": [{"value": CURRENT_USER, "primary": True, "type": "work"}],
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    }


@catalog_router.get("/.well-known/databricks-config")
async def host_metadata(request: Request) -> dict[str, Any]:
    """What `Config()` asks every host for at construction (`_resolve_host_metadata`)."""
    return {
        "oidc_endpoint": f"{base_url(request)}/oidc",
        "workspace_id": emulator(request).workspace_id,
    }
