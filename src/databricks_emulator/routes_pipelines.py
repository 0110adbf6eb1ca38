"""`/api/2.0/pipelines` and `/api/2.0/workspace`, as databricks-sdk calls them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from databricks_emulator.errors import invalid
from databricks_emulator.paging import decode_token, listing, page
from databricks_emulator.routes_common import emulator, json_body

pipelines_router = APIRouter()
_PIPELINES = "/api/2.0/pipelines"
_WORKSPACE = "/api/2.0/workspace"
MAX_PIPELINES_PAGE = 100


@pipelines_router.post(_PIPELINES)
async def create_pipeline(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        return em.pipelines.create(body)


@pipelines_router.get(_PIPELINES)
async def list_pipelines(
    request: Request,
    max_results: int | None = None,
    page_token: str | None = None,
    filter: str | None = None,
) -> dict[str, Any]:
    if max_results is not None and max_results > MAX_PIPELINES_PAGE:
        raise invalid(f"max_results must be at most {MAX_PIPELINES_PAGE}, got {max_results}.")
    em = emulator(request)
    with em.lock:
        statuses = em.pipelines.statuses(filter)
    return listing(
        "statuses",
        statuses,
        lambda s: str(s["pipeline_id"]),
        max_results or 25,
        page_token,
        max_size=MAX_PIPELINES_PAGE,
    )


@pipelines_router.get(f"{_PIPELINES}/{{pipeline_id}}")
async def get_pipeline(request: Request, pipeline_id: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        return em.pipelines.view(pipeline_id)


@pipelines_router.put(f"{_PIPELINES}/{{pipeline_id}}")
async def edit_pipeline(request: Request, pipeline_id: str) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        em.pipelines.edit(pipeline_id, body)
    return {}


@pipelines_router.delete(f"{_PIPELINES}/{{pipeline_id}}")
async def delete_pipeline(
    request: Request, pipeline_id: str, cascade: bool = True
) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        em.pipelines.delete(pipeline_id, cascade)
    return {}


@pipelines_router.post(f"{_PIPELINES}/{{pipeline_id}}/updates")
async def start_update(request: Request, pipeline_id: str) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        return {"update_id": em.pipelines.start_update(pipeline_id, body)}


@pipelines_router.get(f"{_PIPELINES}/{{pipeline_id}}/updates")
async def list_updates(
    request: Request,
    pipeline_id: str,
    max_results: int | None = None,
    page_token: str | None = None,
    until_update_id: str | None = None,
) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        position = {
            u.update_id: i for i, u in enumerate(em.pipelines.pipeline(pipeline_id).updates)
        }
        # Newest first: page on a key that sorts that way and stays put as updates are added.
        keyed = [
            (f"{10**9 - position[u.update_id]:010d}", u.view())
            for u in em.pipelines.updates_newest_first(pipeline_id, until_update_id)
        ]
    chunk, token = page(keyed, lambda kv: kv[0], max_results or 25, page_token)
    return {"updates": [v for _, v in chunk], **({"next_page_token": token} if token else {})}


@pipelines_router.get(f"{_PIPELINES}/{{pipeline_id}}/updates/{{update_id}}")
async def get_update(request: Request, pipeline_id: str, update_id: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        return {"update": em.pipelines.update(pipeline_id, update_id).view()}


#: The events list's page size when none is asked for, and its largest.
EVENTS_PAGE = 25
MAX_EVENTS_PAGE = 1000


@pipelines_router.get(f"{_PIPELINES}/{{pipeline_id}}/events")
async def list_events(
    request: Request,
    pipeline_id: str,
    max_results: int | None = None,
    order_by: list[str] | None = Query(default=None),
    filter: str | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    """The pipeline's event log, as https://docs.databricks.com/api/workspace/pipelines/listpipelineevents
    answers: newest first unless `order_by` is `["timestamp asc"]`, 25 a page by default,
    at most 1000. A page token keeps the order of the listing it came from (the SDK sends
    `order_by` again with it). The emulator reads no `filter`: it refuses one rather than
    answer with events the filter would have left out."""
    if filter:
        raise invalid(f"The emulator does not evaluate event filters: '{filter}'.")
    if max_results is not None and max_results > MAX_EVENTS_PAGE:
        raise invalid(f"max_results must be at most {MAX_EVENTS_PAGE}.")
    orders = [o.strip().lower() for o in order_by or ()]
    if any(o not in ("timestamp asc", "timestamp desc") for o in orders):
        raise invalid(f"Unsupported order_by {order_by}: use 'timestamp asc' or 'timestamp desc'.")
    ascending = orders[:1] == ["timestamp asc"]
    if page_token:
        ascending = decode_token(page_token)[0].startswith("a")
    em = emulator(request)
    with em.lock:
        events = list(em.pipelines.pipeline(pipeline_id).events)

    def key(event: dict[str, Any]) -> str:
        number = int(event["sequence"]["control_plane_seq_no"])
        return f"a{number:012d}" if ascending else f"d{10**12 - number:012d}"

    chunk, token = page(
        events, key, max_results or EVENTS_PAGE, page_token, max_size=MAX_EVENTS_PAGE
    )
    return {"events": chunk, **({"next_page_token": token} if token else {})}


@pipelines_router.post(f"{_PIPELINES}/{{pipeline_id}}/stop")
async def stop_pipeline(request: Request, pipeline_id: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        em.pipelines.stop(pipeline_id)
    return {}


@pipelines_router.post(f"{_WORKSPACE}/import")
async def import_file(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        em.files.import_(body)
    return {}


@pipelines_router.get(f"{_WORKSPACE}/get-status")
async def get_status(request: Request, path: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        return em.files.require(path).info()


@pipelines_router.get(f"{_WORKSPACE}/list")
async def list_workspace(request: Request, path: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        objects = em.files.children(path)
    return {"objects": objects} if objects else {}


@pipelines_router.get(f"{_WORKSPACE}/export")
async def export_file(request: Request, path: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        return em.files.export(path)


@pipelines_router.post(f"{_WORKSPACE}/mkdirs")
async def mkdirs(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        em.files.mkdirs(body.get("path"))
    return {}


@pipelines_router.post(f"{_WORKSPACE}/delete")
async def delete_file(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        em.files.delete(body.get("path"), bool(body.get("recursive")))
    return {}
