"""The emulator's HTTP application: the Databricks REST subset plus `/_emulator/` controls.

Every API call (any path outside `/_emulator/`) passes, in order: the bearer token check
(when the emulator has a token), its family's rate limit (when one is set: a call over it
is answered 429 after the latency, and not served), the fault and latency controls
(awaited, so latency of concurrent calls overlaps), then its handler; it is logged with
the status it got.
Every answer, the controls' too, carries the emulator's workspace id in the
`x-databricks-org-id` header, as Databricks answers do (the SDK's `get_workspace_id()`
reads it from there).
Handlers are async and hold the emulator's lock only while they touch its state. An
emulator kept in a state file saves it after each POST, PATCH, PUT or DELETE (of the
controls too), before the answer goes out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from databricks_emulator.emulator import Emulator
from databricks_emulator.errors import ApiError, invalid_token
from databricks_emulator.routes_activation import DELTA_SHARING_PREFIX, activation_router
from databricks_emulator.routes_catalog import catalog_router
from databricks_emulator.routes_control import control_router
from databricks_emulator.routes_delta_sharing import (
    FILES_PREFIX,
    delta_sharing_router,
    files_router,
)
from databricks_emulator.routes_jobs import jobs_router
from databricks_emulator.routes_pipelines import pipelines_router
from databricks_emulator.routes_sharing import sharing_router
from databricks_emulator.routes_table_changes import changes_router

CONTROL_PREFIX = "/_emulator/"
ORG_ID_HEADER = "x-databricks-org-id"
CLIENT_CLOSED_REQUEST = 499
MUTATING = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# A partner holds no workspace token: the public activation paths, the open protocol (its
# own bearer tokens, `routes_delta_sharing.py`) and the table files (presigned-like URLs).
_UNAUTHENTICATED_PATHS = (
    "/.well-known/",
    "/api/2.1/unity-catalog/public/",
    f"{DELTA_SHARING_PREFIX}/",
    f"{FILES_PREFIX}/",
)
Handler = Callable[[Request], Awaitable[Response]]


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers())


def create_app(
    *,
    seed: Path | None = None,
    token: str | None = None,
    latency_ms: int = 0,
    pipeline_step_ms: int = 200,
    workspace_id: str | int | None = None,
    rate_limits: Mapping[str, int] | None = None,
    default_rate_limit: int | None = None,
) -> FastAPI:
    """An emulator app; a pipeline update advances one state every `pipeline_step_ms`.
    `workspace_id`: the instance's id (a random 16-digit one when None); `rate_limits` and
    `default_rate_limit`: requests per second per API family (see `rate_limits.py`)."""
    app = FastAPI(title="Databricks emulator", docs_url=None, redoc_url=None, openapi_url=None)
    emulator = Emulator(
        seed=seed,
        token=token,
        latency_ms=latency_ms,
        pipeline_step_ms=pipeline_step_ms,
        workspace_id=workspace_id,
        rate_limits=rate_limits,
        default_rate_limit=default_rate_limit,
    )
    app.state.emulator = emulator

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()
        )
        return error_response(ApiError(400, "INVALID_PARAMETER_VALUE", problems))

    @app.exception_handler(StarletteHTTPException)
    async def _no_endpoint(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code in (404, 405):
            message = f"No API found for '{request.method} {request.url.path}'"
            return error_response(ApiError(404, "ENDPOINT_NOT_FOUND", message))
        return error_response(ApiError(exc.status_code, "BAD_REQUEST", str(exc.detail)))

    @app.middleware("http")
    async def _api_call(request: Request, call_next: Handler) -> Response:
        path = request.url.path
        if path.startswith(CONTROL_PREFIX):
            response = await call_next(request)
            if request.method in MUTATING:
                emulator.changed()
            response.headers[ORG_ID_HEADER] = emulator.workspace_id
            return response
        generation = emulator.controls.started()
        try:
            response = await _serve_api_call(emulator, request, call_next, generation)
        except ClientDisconnect:
            # The caller went away before its request was read (a killed process): nothing
            # was done; logged as nginx does, 499, instead of a traceback.
            response = Response(status_code=CLIENT_CLOSED_REQUEST)
        finally:
            emulator.controls.finished()
        if request.method in MUTATING:
            emulator.changed()  # before the answer: what a caller was told is kept
        response.headers[ORG_ID_HEADER] = emulator.workspace_id
        emulator.controls.record(request.method, path, response.status_code, generation)
        return response

    routers = (
        sharing_router,
        catalog_router,
        pipelines_router,
        jobs_router,
        control_router,
        activation_router,
        delta_sharing_router,
        changes_router,
        files_router,
    )
    for router in routers:
        app.include_router(router)
    return app


_RESET_MEANWHILE = "The emulator was reset while this call waited; it was not served."


async def _serve_api_call(
    emulator: Emulator, request: Request, call_next: Handler, generation: int
) -> Response:
    path = request.url.path
    authenticated = request.headers.get("authorization") == f"Bearer {emulator.token}"
    if emulator.token and not path.startswith(_UNAUTHENTICATED_PATHS) and not authenticated:
        return error_response(invalid_token())
    throttled = emulator.rate_limits.admit(path)
    if throttled is not None:  # neither served nor counted by faults; it still takes latency
        await asyncio.sleep(emulator.controls.latency_ms / 1000)
        return error_response(throttled)
    hit = emulator.controls.hit(request.method, path)
    delay_ms = emulator.controls.latency_ms + (hit.delay_ms if hit else 0)
    if hit and hit.error and hit.applied:
        # Served, then answered with the error: the change is made, the caller cannot know.
        await _drain(await _serve(emulator, request, call_next))
        await asyncio.sleep(delay_ms / 1000)
        return error_response(hit.error)
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)
        if not emulator.controls.current(generation):
            return error_response(ApiError(500, "INTERNAL_ERROR", _RESET_MEANWHILE))
    if hit and hit.error:
        return error_response(hit.error)
    return await _serve(emulator, request, call_next)


async def _serve(emulator: Emulator, request: Request, call_next: Handler) -> Response:
    emulator.advance()
    return await call_next(request)


async def _drain(response: Response) -> None:
    body_iterator = getattr(response, "body_iterator", None)
    if body_iterator is not None:
        async for _ in body_iterator:
            pass
