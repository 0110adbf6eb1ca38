"""Reads for the sync jobs, via the SDK: Unity Catalog objects by full name, and the
updates of a pipeline that have ended, with what its event log says of them.

An update's answer (`GET /api/2.0/pipelines/{id}/updates`) gives its state and creation
time only; when it ended and how many rows it wrote are in the pipeline's event log
(`GET /api/2.0/pipelines/{id}/events`, https://docs.databricks.com/api/workspace/pipelines/listpipelineevents):
`update_progress` events carry the update's state in `details.update_progress.state`,
`flow_progress` events the rows a flow wrote in `details.flow_progress.metrics.num_output_rows`
(https://docs.databricks.com/aws/en/dlt/monitor-event-log-schema). The SDK's
`PipelineEvent` type drops `details`, so the log is read as the JSON it is.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from databricks.sdk import WorkspaceClient

from sharepack.workspace.errors import ResourceNotFoundError
from sharepack.workspace.sdk_errors import translated_errors
from sharepack.workspace.state import CatalogObjectState, PipelineRun

FINAL_UPDATE_STATES = frozenset({"COMPLETED", "FAILED", "CANCELED"})
#: Updates asked for per page (the list answers at most as many as asked).
UPDATES_PAGE = 100
#: Events asked for per page (the API allows at most 1000).
EVENTS_PAGE = 250
_KINDS = ("catalog", "schema", "table")


def read_catalog_object(client: WorkspaceClient, full_name: str) -> CatalogObjectState | None:
    """The catalog, schema or table of that name (by its number of parts); None if absent."""
    depth = full_name.count(".")
    if depth > 2:
        return None
    try:
        with translated_errors(f"Reading {_KINDS[depth]} '{full_name}'"):
            if depth == 0:
                catalog = client.catalogs.get(full_name)
                name, kind, owner = catalog.full_name or catalog.name, "CATALOG", catalog.owner
            elif depth == 1:
                schema = client.schemas.get(full_name)
                name, kind, owner = schema.full_name, "SCHEMA", schema.owner
            else:
                table = client.tables.get(full_name)
                table_type = table.table_type.value if table.table_type else "TABLE"
                name, kind, owner = table.full_name, table_type, table.owner
    except ResourceNotFoundError:
        return None
    return CatalogObjectState(full_name=name or full_name, object_type=kind, owner=owner)


def read_catalog_objects(
    client: WorkspaceClient, names: Iterable[str]
) -> Mapping[str, CatalogObjectState]:
    return {
        name: found
        for name in dict.fromkeys(names)
        if (found := read_catalog_object(client, name)) is not None
    }


def read_pipeline_runs(
    client: WorkspaceClient, pipeline_id: str, known: Collection[str] = ()
) -> list[PipelineRun]:
    """The pipeline's ended updates not in `known`, oldest first, with their end and rows
    from the event log; none for a pipeline that no longer exists."""
    try:
        ended = [u for u in _updates(client, pipeline_id) if u["update_id"] not in known]
        if not ended:
            return []
        since = min(int(u["creation_time"]) for u in ended)
        wanted = {u["update_id"] for u in ended}
        ends, rows = ends_and_rows(_events(client, pipeline_id), wanted, since)
    except ResourceNotFoundError:
        return []
    runs = [
        PipelineRun(
            update_id=u["update_id"],
            state=u["state"],
            created=int(u["creation_time"]),
            ended=ends.get(u["update_id"]),
            rows_processed=rows.get(u["update_id"]),
        )
        for u in ended
    ]
    return sorted(runs, key=lambda run: run.created)


def _updates(client: WorkspaceClient, pipeline_id: str) -> Iterator[dict[str, Any]]:
    """The pipeline's updates in a final state, as (update_id, state, creation_time)."""
    token: str | None = None
    while True:
        with translated_errors(f"Listing the updates of pipeline {pipeline_id}"):
            answer = client.pipelines.list_updates(
                pipeline_id, max_results=UPDATES_PAGE, page_token=token
            )
        for update in answer.updates or ():
            state = update.state.value if update.state else None
            if update.update_id and state in FINAL_UPDATE_STATES:
                yield {
                    "update_id": update.update_id,
                    "state": state,
                    "creation_time": update.creation_time or 0,
                }
        token = answer.next_page_token
        if not token:
            return


def _events(client: WorkspaceClient, pipeline_id: str) -> Iterator[dict[str, Any]]:
    """The pipeline's event log, newest first (the API's default order)."""
    query: dict[str, Any] = {"max_results": EVENTS_PAGE}
    while True:
        with translated_errors(f"Reading the event log of pipeline {pipeline_id}"):
            answer = client.api_client.do(
                "GET", f"/api/2.0/pipelines/{pipeline_id}/events", query=query
            )
        if not isinstance(answer, dict):
            return
        yield from answer.get("events") or ()
        token = answer.get("next_page_token")
        if not token:
            return
        query = {"max_results": EVENTS_PAGE, "page_token": token}


def ends_and_rows(
    events: Iterable[Mapping[str, Any]], update_ids: Collection[str], since: int
) -> tuple[dict[str, int], dict[str, int]]:
    """From an event log read newest first: when each of `update_ids` reached its final
    state, and the rows its flows wrote (only for updates whose log reports any); reading
    stops at the first event older than `since` (epoch ms), before the updates asked about."""
    ends: dict[str, int] = {}
    rows: dict[str, int] = {}
    for event in events:
        moment = epoch_ms(event.get("timestamp"))
        if moment is not None and moment < since:
            break
        update_id = (event.get("origin") or {}).get("update_id")
        if not isinstance(update_id, str) or update_id not in update_ids:
            continue
        details = event.get("details") or {}
        if event.get("event_type") == "update_progress":
            state = (details.get("update_progress") or {}).get("state")
            if state in FINAL_UPDATE_STATES and moment is not None:
                ends.setdefault(update_id, moment)
        elif event.get("event_type") == "flow_progress":
            metrics = (details.get("flow_progress") or {}).get("metrics") or {}
            written = metrics.get("num_output_rows")
            if isinstance(written, int):
                rows[update_id] = rows.get(update_id, 0) + written
    return ends, rows


def epoch_ms(timestamp: object) -> int | None:
    """An event's RFC 3339 timestamp (`2021-07-22T06:37:33.083Z`) in epoch milliseconds."""
    if not isinstance(timestamp, str):
        return None
    try:
        return round(datetime.fromisoformat(timestamp).timestamp() * 1000)
    except ValueError:
        return None
