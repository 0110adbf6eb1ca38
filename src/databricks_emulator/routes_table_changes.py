"""`GET .../tables/{table}/changes`: a table's change data feed, as a partner reads it.

PROTOCOL.md, Read Change Data Feed from a Table: a protocol line, a metaData line, then
data change actions (`add`, `cdf`, `remove`), each with its `version` and `timestamp`.
The emulator's history is its table versions: version 1 inserts the table's rows, and each
re-materialisation (a pipeline update) replaces them, so version v > 1 removes the files of
v - 1 and adds its own. Only with history sharing; refusal texts are the reference server's
(delta-io/delta-sharing `DeltaSharingService.scala` queryCDF, `DeltaSharingCDCReader.scala`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from databricks_emulator.catalog import now_ms
from databricks_emulator.partition_filter import readable, recipient_properties
from databricks_emulator.partner_access import SharedTable
from databricks_emulator.partner_errors import bad_parameter
from databricks_emulator.routes_activation import DELTA_SHARING_PREFIX
from databricks_emulator.routes_common import base_url, emulator
from databricks_emulator.routes_delta_sharing import (
    TABLE_PATH,
    asked_table,
    file_action,
    metadata_of,
    ndjson,
)
from databricks_emulator.table_data import FIRST_VERSION

changes_router = APIRouter(prefix=f"{DELTA_SHARING_PREFIX}/{{metastore_id}}")


@changes_router.get(f"{TABLE_PATH}/changes")
async def table_changes(
    request: Request, metastore_id: str, share: str, schema: str, table: str
) -> Response:
    em = emulator(request)
    with em.lock:
        recipient, shared = asked_table(em, request, metastore_id, share, schema, table)
        if not shared.history_shared:
            raise bad_parameter(f"cdf is not enabled on table {share}.{schema}.{table}")
        current = em.catalog.require_table(shared.source).version
        start, end = _bounds(shared, request.query_params, current)
        properties = recipient_properties(em.sharing.recipients[recipient])
        now = now_ms()
        lines: list[dict[str, Any]] = [
            {"protocol": {"minReaderVersion": 1}},
            {"metaData": metadata_of(shared)},
        ]
        for version in range(max(start, FIRST_VERSION), end + 1):
            steps = [("add", version)]
            if version > FIRST_VERSION:  # a re-materialisation replaces the previous files
                steps.insert(0, ("remove", version - 1))
            for kind, files_version in steps:
                for file in em.table_files.files(shared.source, files_version):
                    if readable(file.partition_values, shared.partitions, properties):
                        action = file_action(em, base_url(request), file, now)
                        action.update(version=version, timestamp=now)
                        lines.append({kind: action})
    return ndjson(lines, start)


def _bounds(shared: SharedTable, params: Any, current: int) -> tuple[int, int]:
    """The inclusive versions asked: `startingVersion` (a timestamp means the latest, the
    emulator keeping no commit times) through `endingVersion`, at most the current one."""
    try:
        start = int(params.get("startingVersion", current))
        end = min(int(params.get("endingVersion", current)), current)
    except ValueError:
        raise bad_parameter(
            "expected a number but the string didn't have the appropriate format"
        ) from None
    if shared.start_version > start:
        raise bad_parameter(
            f"You can only query table changes since version {shared.start_version}."
        )
    if start > end:
        raise bad_parameter(
            f"startingVersion({start}) must be smaller than or equal to endingVersion({end})."
        )
    return start, end
