"""`/api/2.0/pipelines` and `/api/2.0/workspace`, as databricks-sdk calls them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from databricks_emulator.errors import invalid
from databricks_emulator.paging import listing, page
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
