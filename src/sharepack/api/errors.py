"""The one mapping from sharepack's exceptions to HTTP answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from sharepack.api.schemas import ErrorResponse, UploadResponse, ValidationMessage
from sharepack.errors import NotFoundError, PlanError, SharePackError, WorkspaceNotAllowedError
from sharepack.service.status import PackStatus
from sharepack.spec.errors import SpecError


class BadRequestError(SharePackError):
    """The request is malformed."""


_STATUS: tuple[tuple[type[SharePackError], int, str], ...] = (
    (WorkspaceNotAllowedError, 400, "WORKSPACE_NOT_ALLOWED"),
    (BadRequestError, 400, "BAD_REQUEST"),
    (NotFoundError, 404, "NOT_FOUND"),
)


def _json(model: ErrorResponse | UploadResponse, status: int) -> JSONResponse:
    return JSONResponse(model.model_dump(by_alias=True), status_code=status)


async def _spec_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SpecError)
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


async def _sharepack_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SharePackError)
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return _json(ErrorResponse(message=exc.message, error_code=code), status)
    return _json(ErrorResponse(message=exc.message, error_code="INTERNAL_ERROR"), 500)


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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _malformed_request)
    app.add_exception_handler(SpecError, _spec_error)
    app.add_exception_handler(PlanError, _plan_error)
    app.add_exception_handler(SharePackError, _sharepack_error)
