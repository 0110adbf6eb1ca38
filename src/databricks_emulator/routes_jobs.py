"""`/api/2.2/jobs/*`, as databricks-sdk calls them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from databricks_emulator.errors import invalid
from databricks_emulator.paging import listing
from databricks_emulator.routes_common import emulator, json_body

jobs_router = APIRouter(prefix="/api/2.2/jobs")
MAX_JOBS_PAGE = 100


def _job_id(body: dict[str, Any]) -> object:
    job_id = body.get("job_id")
    if job_id is None:
        raise invalid("job_id must be provided.")
    return job_id


@jobs_router.post("/create")
async def create_job(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        return {"job_id": em.jobs.create(body)}


@jobs_router.get("/get")
async def get_job(request: Request, job_id: int) -> dict[str, Any]:
    """One job, never with a `next_page_token` (the SDK would page its tasks forever)."""
    em = emulator(request)
    with em.lock:
        return dict(em.jobs.job(job_id))


@jobs_router.get("/list")
async def list_jobs(
    request: Request,
    name: str | None = None,
    limit: int | None = None,
    page_token: str | None = None,
    expand_tasks: bool = False,
) -> dict[str, Any]:
    if limit is not None and not 0 < limit <= MAX_JOBS_PAGE:
        raise invalid(f"limit must be between 1 and {MAX_JOBS_PAGE}, got {limit}.")
    em = emulator(request)
    with em.lock:
        found = em.jobs.listed(name, expand_tasks)
    # Newest first: the key sorts descending job ids ascending.
    answer = listing(
        "jobs", found, lambda j: f"{10**12 - int(j['job_id']):013d}", limit or 20, page_token
    )
    answer["has_more"] = "next_page_token" in answer
    if not answer["jobs"]:
        answer.pop("jobs")
    return answer


@jobs_router.post("/reset")
async def reset_job(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        em.jobs.reset(_job_id(body), body.get("new_settings") or {})
    return {}


@jobs_router.post("/update")
async def update_job(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        em.jobs.update(
            _job_id(body),
            body.get("new_settings") or {},
            [str(f) for f in body.get("fields_to_remove") or []],
        )
    return {}


@jobs_router.post("/delete")
async def delete_job(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        em.jobs.delete(_job_id(body))
    return {}


@jobs_router.post("/run-now")
async def run_now(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        return em.jobs.run_now(_job_id(body))


@jobs_router.get("/runs/get")
async def get_run(request: Request, run_id: int) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        return em.jobs.run(run_id)
