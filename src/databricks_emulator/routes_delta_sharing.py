"""The Delta Sharing open protocol a partner's client speaks, under the profile's endpoint
`/api/2.0/delta-sharing/metastores/{metastore_id}`, and the table files it downloads.

Every call is authenticated with the recipient's bearer token (not the workspace token) and
checked against its IP access list; what it sees is read live (`partner_access.py`).
Answers follow delta-io/delta-sharing PROTOCOL.md: lists page with `maxResults`/`pageToken`
-> `nextPageToken` (the reference server's bounds: 0..500, default 500); `version` and
`metadata` carry `Delta-Table-Version`; `metadata` and `query` answer `application/x-ndjson`.
Answers are always in parquet format: the emulator does not take up the
`delta-sharing-capabilities` header, which PROTOCOL.md allows ("Server that doesn't
recognize the header ... the format of the response must always be parquet"), and the
Python client's default (auto-resolved) path then reads parquet.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from databricks_emulator.catalog import now_ms
from databricks_emulator.emulator import Emulator
from databricks_emulator.errors import ApiError
from databricks_emulator.paging import decode_token, encode_token
from databricks_emulator.partition_filter import readable, recipient_properties
from databricks_emulator.partner_access import (
    SharedTable,
    authenticate,
    find_table,
    share_id,
    shared_schemas,
    shared_tables,
    visible_share,
    visible_shares,
)
from databricks_emulator.partner_errors import bad_parameter, forbidden, malformed, not_found
from databricks_emulator.routes_activation import DELTA_SHARING_PREFIX
from databricks_emulator.routes_common import base_url, emulator
from databricks_emulator.table_data import (
    FIRST_VERSION,
    PARTITION_COLUMNS,
    SCHEMA_STRING,
    DataFile,
)

FILES_PREFIX = "/delta-sharing-files"
MAX_RESULTS = 500
NDJSON = "application/x-ndjson; charset=utf-8"
VERSION_HEADER = "Delta-Table-Version"
T = TypeVar("T")

delta_sharing_router = APIRouter(prefix=f"{DELTA_SHARING_PREFIX}/{{metastore_id}}")
files_router = APIRouter(prefix=FILES_PREFIX)
TABLE_PATH = "/shares/{share}/schemas/{schema}/tables/{table}"


def caller(em: Emulator, request: Request, metastore_id: str) -> str:
    """The calling recipient's name (under the lock); this metastore's endpoint only."""
    host = request.client.host if request.client else None
    recipient = authenticate(em.sharing, request.headers.get("authorization"), host)
    if metastore_id.lower() != em.sharing.metastore_id:
        raise not_found(f"metastore '{metastore_id}' not found")
    return str(recipient["name"])


def asked_table(
    em: Emulator, request: Request, metastore_id: str, share: str, schema: str, table: str
) -> tuple[str, SharedTable]:
    """The calling recipient and the table it asks for, as it sees it (under the lock)."""
    recipient = caller(em, request, metastore_id)
    return recipient, find_table(em.sharing, recipient, share, schema, table)


def protocol_page(
    items: Sequence[T], key: Callable[[T], str], max_results: str | None, page_token: str | None
) -> dict[str, Any]:
    """`{items, nextPageToken?}`; `maxResults=0` answers no items and a token to go on."""
    size = MAX_RESULTS
    if max_results is not None:
        try:
            size = int(max_results)
        except ValueError:
            raise bad_parameter(
                "expected a number but the string didn't have the appropriate format"
            ) from None
        if not 0 <= size <= MAX_RESULTS:
            raise bad_parameter(
                f"Acceptable values of 'maxResults' are 0 to {MAX_RESULTS}, inclusive. "
                f"(Default: {MAX_RESULTS})"
            )
    ordered = sorted(items, key=key)
    after = ""
    if page_token:
        try:
            after, _ = decode_token(page_token)
        except ApiError:
            raise bad_parameter("invalid 'nextPageToken'") from None
        ordered = [item for item in ordered if key(item) > after]
    chunk = ordered[:size]
    answer: dict[str, Any] = {"items": [*chunk]}
    if len(ordered) > size:
        answer["nextPageToken"] = encode_token(key(chunk[-1]) if chunk else after)
    return answer


def _table_item(table: SharedTable, share: dict[str, Any]) -> dict[str, str]:
    return {
        "name": table.name,
        "schema": table.schema,
        "share": table.share,
        "shareId": share_id(share),
        "id": _table_id(table),
    }


def _table_id(table: SharedTable) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"table:{table.source}"))


@delta_sharing_router.get("/shares")
async def list_shares(
    request: Request,
    metastore_id: str,
    maxResults: str | None = None,  # noqa: N803 - the protocol's parameter names
    pageToken: str | None = None,  # noqa: N803
) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        recipient = caller(em, request, metastore_id)
        items = [
            {"name": s["name"], "id": share_id(s)} for s in visible_shares(em.sharing, recipient)
        ]
    return protocol_page(items, lambda i: str(i["name"]), maxResults, pageToken)


@delta_sharing_router.get("/shares/{share}")
async def get_share(request: Request, metastore_id: str, share: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        found = visible_share(em.sharing, caller(em, request, metastore_id), share)
        return {"share": {"name": found["name"], "id": share_id(found)}}


@delta_sharing_router.get("/shares/{share}/schemas")
async def list_schemas(
    request: Request,
    metastore_id: str,
    share: str,
    maxResults: str | None = None,  # noqa: N803
    pageToken: str | None = None,  # noqa: N803
) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        found = visible_share(em.sharing, caller(em, request, metastore_id), share)
        items = [{"name": s, "share": found["name"]} for s in shared_schemas(em.sharing, found)]
    return protocol_page(items, lambda i: str(i["name"]), maxResults, pageToken)


@delta_sharing_router.get("/shares/{share}/schemas/{schema}/tables")
async def list_tables(
    request: Request,
    metastore_id: str,
    share: str,
    schema: str,
    maxResults: str | None = None,  # noqa: N803
    pageToken: str | None = None,  # noqa: N803
) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        found = visible_share(em.sharing, caller(em, request, metastore_id), share)
        if schema.lower() not in shared_schemas(em.sharing, found):
            raise not_found(f"schema '{schema}' not found")
        items = [
            _table_item(t, found)
            for t in shared_tables(em.sharing, found)
            if t.schema == schema.lower()
        ]
    return protocol_page(items, lambda i: str(i["name"]), maxResults, pageToken)


@delta_sharing_router.get("/shares/{share}/all-tables")
async def list_all_tables(
    request: Request,
    metastore_id: str,
    share: str,
    maxResults: str | None = None,  # noqa: N803
    pageToken: str | None = None,  # noqa: N803
) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        found = visible_share(em.sharing, caller(em, request, metastore_id), share)
        items = [_table_item(t, found) for t in shared_tables(em.sharing, found)]
    return protocol_page(items, lambda i: f"{i['schema']}.{i['name']}", maxResults, pageToken)


@delta_sharing_router.api_route(f"{TABLE_PATH}/version", methods=["GET", "HEAD"])
async def table_version(
    request: Request, metastore_id: str, share: str, schema: str, table: str
) -> Response:
    """The current version in `Delta-Table-Version`; `startingTimestamp` needs history."""
    em = emulator(request)
    with em.lock:
        _, shared = asked_table(em, request, metastore_id, share, schema, table)
        if request.query_params.get("startingTimestamp") is not None:
            require_history(shared)
        version = em.catalog.require_table(shared.source).version
    return Response(headers={VERSION_HEADER: str(version)})


@delta_sharing_router.get(f"{TABLE_PATH}/metadata")
async def table_metadata(
    request: Request, metastore_id: str, share: str, schema: str, table: str
) -> Response:
    em = emulator(request)
    with em.lock:
        _, shared = asked_table(em, request, metastore_id, share, schema, table)
        if request.query_params.get("version") is not None:
            require_history(shared)
        version = em.catalog.require_table(shared.source).version
    lines = [{"protocol": {"minReaderVersion": 1}}, {"metaData": metadata_of(shared)}]
    return ndjson(lines, version)


@delta_sharing_router.post(f"{TABLE_PATH}/query")
async def query_table(
    request: Request, metastore_id: str, share: str, schema: str, table: str
) -> Response:
    """The table's files the object lets the recipient read (hints may be ignored: BEST
    EFFORT in PROTOCOL.md); time travel only with history sharing, from `start_version`."""
    body = await _query_body(request)
    em = emulator(request)
    with em.lock:
        recipient, shared = asked_table(em, request, metastore_id, share, schema, table)
        current = em.catalog.require_table(shared.source).version
        version, header_version = _query_version(shared, body, current)
        files = em.table_files.files(shared.source, version)
        properties = recipient_properties(em.sharing.recipients[recipient])
        now = now_ms()
        lines: list[dict[str, Any]] = [
            {"protocol": {"minReaderVersion": 1}},
            {"metaData": metadata_of(shared)},
        ]
        for file in files:
            if not readable(file.partition_values, shared.partitions, properties):
                continue
            action = file_action(em, base_url(request), file, now)
            if any(body.get(k) is not None for k in ("version", "timestamp", "startingVersion")):
                action.update(version=version, timestamp=now)
            lines.append({"file" if body.get("startingVersion") is None else "add": action})
    return ndjson(lines, header_version)


def file_action(em: Emulator, base: str, file: DataFile, now: int) -> dict[str, Any]:
    """A File (PROTOCOL.md) for `file`, under a new download token (under the lock)."""
    token, expires = em.table_files.presign(file, now)
    return {
        "url": f"{base}{FILES_PREFIX}/{token}/{file.path.name}",
        "id": file.id,
        "partitionValues": file.partition_values,
        "size": file.size,
        "stats": file.stats,
        "expirationTimestamp": expires,
    }


@files_router.api_route("/{token}/{file_name}", methods=["GET", "HEAD"])
async def download_file(request: Request, token: str, file_name: str) -> FileResponse:
    """A table file behind a presigned-like token; an unknown or expired token is refused."""
    em = emulator(request)
    with em.lock:
        path = em.table_files.resolve(token, now_ms())
    if path is None or path.name != file_name:
        raise forbidden("The file URL is invalid or has expired.")
    return FileResponse(path, media_type="application/octet-stream")


async def _query_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        raise malformed(f"Malformed request body: {exc}") from None
    if not isinstance(body, dict):
        raise malformed("The request body must be a JSON object.")
    return body


def _query_version(shared: SharedTable, body: dict[str, Any], current: int) -> tuple[int, int]:
    """(version whose files to answer, version for the header), refusing what the reference
    server refuses (`DeltaSharingService.scala` queryTable)."""
    asked = [k for k in ("version", "timestamp", "startingVersion") if body.get(k) is not None]
    if not asked:
        return current, current
    if len(asked) > 1:  # the reference server's ErrorStrings.multipleParametersSetErrorMsg
        raise bad_parameter("Please only provide one of: version,timestamp,startingVersion")
    require_history(shared)
    if asked[0] == "timestamp":  # the emulator keeps no commit times: the latest version
        return current, current
    number = body[asked[0]]
    if not isinstance(number, int) or number < 0:
        raise bad_parameter(f"{asked[0]} cannot be negative.")
    if number < shared.start_version:
        raise bad_parameter(f"You can only query table data since version {shared.start_version}.")
    if not FIRST_VERSION <= number <= current:  # Delta's VersionNotFoundException
        raise bad_parameter(
            f"Cannot time travel Delta table to version {number}. "
            f"Available versions: [{FIRST_VERSION}, {current}]."
        )
    if asked[0] == "startingVersion":
        return current, number
    return number, number


def require_history(shared: SharedTable) -> None:
    if not shared.history_shared:
        raise bad_parameter(
            "Reading table by version or timestamp is not supported because history sharing "
            f"is not enabled on table: {shared.share}.{shared.schema}.{shared.name}"
        )


def metadata_of(shared: SharedTable) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "id": _table_id(shared),
        "name": shared.name,
        "format": {"provider": "parquet"},
        "schemaString": SCHEMA_STRING,
        "partitionColumns": list(PARTITION_COLUMNS),
    }
    if shared.share_object.get("cdf_enabled"):
        metadata["configuration"] = {"delta.enableChangeDataFeed": "true"}
    return metadata


def ndjson(lines: list[dict[str, Any]], version: int) -> Response:
    content = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    return Response(content, media_type=NDJSON, headers={VERSION_HEADER: str(version)})
