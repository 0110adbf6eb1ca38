"""The one mapping from sharepack's exceptions to HTTP answers.

A 500 never shows what failed (a database error carries its SQL, its parameters and the
database's URL): it answers an error id, and the log has the details under the same id.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sharepack.api.schemas import (
    ErrorResponse,
    InternalErrorResponse,
    UploadResponse,
    ValidationMessage,
)
from sharepack.errors import NotFoundError, PlanError, SharePackError, WorkspaceNotAllowedError
from sharepack.packfile.errors import SpecError
from sharepack.running.status import PackStatus


class BadRequestError(SharePackError):
    """The request is malformed."""


_STATUS: tuple[tuple[type[SharePackError], int, str], ...] = (
    (WorkspaceNotAllowedError, 400, "WORKSPACE_NOT_ALLOWED"),
    (BadRequestError, 400, "BAD_REQUEST"),
    (NotFoundError, 404, "NOT_FOUND"),
)


logger = logging.getLogger(__name__)


def _json(model: ErrorResponse | UploadResponse, status: int) -> JSONResponse:
    return JSONResponse(model.model_dump(by_alias=True), status_code=status)


def internal_error_response(exc: BaseException, scope: Scope) -> JSONResponse:
    """500 with a new error id; the error itself is logged under that id, never answered."""
    error_id = str(uuid.uuid4())
    where = f"{scope.get('method', '')} {scope.get('path', '')}".strip()
    logger.error("Internal error %s on %s", error_id, where, exc_info=exc)
    body = InternalErrorResponse(
        message=f"Internal error; reference {error_id}",
        error_code="INTERNAL_ERROR",
        error_id=error_id,
    )
    return JSONResponse(body.model_dump(by_alias=True), status_code=500)


def spec_error_response(exc: SpecError) -> JSONResponse:
    """400 VALIDATION_FAILED with every located problem."""
    body = UploadResponse(
        message="Share pack validation failed; nothing was stored",
        status=PackStatus.VALIDATION_FAILED.value,
        validation_errors=[str(p) for p in exc.problems],
        validation_warnings=[str(p) for p in exc.warnings],
        validation_details=[
            ValidationMessage(location=p.location, field=p.field, message=p.message)
            for p in exc.problems
        ],
    )
    return _json(body, 400)


async def _spec_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SpecError)
    return spec_error_response(exc)


async def _sharepack_error(request: Request, exc: Exception) -> JSONResponse:
    """The errors a caller can act on say what to do; any other (a database or queue
    failure, a configuration error) is internal."""
    assert isinstance(exc, SharePackError)
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return _json(ErrorResponse(message=exc.message, error_code=code), status)
    return internal_error_response(exc, request.scope)


async def _plan_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PlanError)
    body = UploadResponse(
        message="The share pack cannot be applied to this workspace; nothing was stored",
        status=PackStatus.VALIDATION_FAILED.value,
        validation_errors=[exc.message],
    )
    return _json(body, 400)


async def _malformed_request(_: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 for a request its parameters cannot take, as the API's 400."""
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(_describe(error) for error in exc.errors())
    return _json(ErrorResponse(message=problems, error_code="BAD_REQUEST"), 400)


def _describe(error: Any) -> str:
    where, name = [*error.get("loc", ()), "", ""][:2]
    if where == "body" and name == "file":
        return "Multipart field 'file' must be a file upload, e.g. curl -F 'file=@pack.yaml'"
    return f"{where} '{name}': {error.get('msg', 'is invalid')}"


class InternalErrors:
    """Answers any exception no handler took as `internal_error_response`, so the server
    neither shows it nor logs it a second time without its id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except Exception as exc:
            if started:  # too late to answer: the server closes the connection
                raise
            await internal_error_response(exc, scope)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_middleware(InternalErrors)
    app.add_exception_handler(RequestValidationError, _malformed_request)
    app.add_exception_handler(SpecError, _spec_error)
    app.add_exception_handler(PlanError, _plan_error)
    app.add_exception_handler(SharePackError, _sharepack_error)
