"""The one mapping from sharepack's exceptions to HTTP answers: `ANSWERS`.

A caller's mistake is a 4xx naming it; a workspace that answered badly is a 502, one (or a
database, a queue) that could not be reached a 503. What the caller cannot act on never
shows what failed (a database error carries its SQL, its parameters and the database's
URL): it answers an error id, and the log has the details under the same id. The 500 with
an error id is left for what no row expects: a bug.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sharepack.api.schemas import (
    BatchFileErrors,
    BatchRejectedResponse,
    ErrorResponse,
    InternalErrorResponse,
    UploadResponse,
    ValidationMessage,
)
from sharepack.cron import CronError
from sharepack.errors import (
    ApiKeyError,
    AuthenticationError,
    ConfigurationError,
    DatabaseUnavailableError,
    DirectoryUnavailableError,
    IdentityError,
    IdentityProviderUnavailableError,
    LeaseLostError,
    NotFoundError,
    NotificationError,
    PackStateError,
    PermissionDeniedError,
    PlanError,
    QueueError,
    RunHandedOverError,
    SchemaNotReadyError,
    SharePackError,
    StoreError,
    SyncJobError,
    TooManyFailuresError,
    WorkspaceNotAllowedError,
)
from sharepack.packfile.errors import SpecError
from sharepack.running.status import PackStatus
from sharepack.usecases.batch import BatchRejectedError
from sharepack.workspace.errors import (
    InvalidRequestError,
    InvalidWorkspaceUrlError,
    ResourceNotFoundError,
    WorkspaceAuthenticationError,
    WorkspaceCredentialsMissingError,
    WorkspaceError,
    WorkspaceUnavailableError,
)


class BadRequestError(SharePackError):
    """The request is malformed."""


class MethodNotAllowedError(SharePackError):
    """The path exists, but answers other methods."""


@dataclass(frozen=True)
class Answer:
    """An HTTP status and `ErrorCode`. `shown`: the error's message is the caller's to
    read; otherwise the answer says only `hidden_message` and an `ErrorId`, and the log
    has the error under that id."""

    status: int
    error_code: str
    shown: bool = True
    hidden_message: str = "Internal error"


_INTERNAL = Answer(500, "INTERNAL_ERROR", shown=False)

#: Error type -> answer; an error takes the row of the nearest type in its MRO.
ANSWERS: dict[type[SharePackError], Answer] = {
    # The caller's mistakes: nothing was stored, the message says what to change.
    SpecError: Answer(400, "VALIDATION_FAILED"),
    PlanError: Answer(400, "VALIDATION_FAILED"),
    BatchRejectedError: Answer(400, "VALIDATION_FAILED"),
    CronError: Answer(400, "INVALID_SCHEDULE"),  # a pack's schedule; the file rules locate it
    BadRequestError: Answer(400, "BAD_REQUEST"),
    InvalidWorkspaceUrlError: Answer(400, "INVALID_WORKSPACE_URL"),
    WorkspaceNotAllowedError: Answer(400, "WORKSPACE_NOT_ALLOWED"),
    NotFoundError: Answer(404, "NOT_FOUND"),
    # A decision or a cancel the pack's state no longer allows.
    PackStateError: Answer(409, "CONFLICT"),
    # Identity: who is calling, and whether they may.
    IdentityError: Answer(401, "UNAUTHENTICATED"),
    ApiKeyError: Answer(400, "BAD_REQUEST"),
    AuthenticationError: Answer(401, "UNAUTHENTICATED"),
    PermissionDeniedError: Answer(403, "FORBIDDEN"),
    TooManyFailuresError: Answer(429, "TOO_MANY_FAILURES"),
    IdentityProviderUnavailableError: Answer(503, "IDENTITY_PROVIDER_UNAVAILABLE"),
    DirectoryUnavailableError: Answer(503, "DIRECTORY_UNAVAILABLE"),
    MethodNotAllowedError: Answer(405, "METHOD_NOT_ALLOWED"),
    # A workspace the request reached: it answered badly, or could not be reached.
    WorkspaceError: Answer(502, "WORKSPACE_ERROR"),
    # The caller named a resource the workspace does not have, or asked for what the
    # workspace refuses (rotating a D2D recipient's token): theirs to change.
    ResourceNotFoundError: Answer(404, "NOT_FOUND"),
    InvalidRequestError: Answer(400, "INVALID_REQUEST"),
    WorkspaceUnavailableError: Answer(503, "WORKSPACE_UNAVAILABLE"),
    # sharepack's own credentials for the workspace: not the caller's doing; the message
    # names the setting for the operator, and carries no secret.
    WorkspaceCredentialsMissingError: Answer(503, "WORKSPACE_CREDENTIALS_MISSING"),
    WorkspaceAuthenticationError: Answer(502, "WORKSPACE_CREDENTIALS_REFUSED"),
    # sharepack's own parts: try again later; the operator has the details.
    DatabaseUnavailableError: Answer(
        503, "DATABASE_UNAVAILABLE", shown=False, hidden_message="The database is unavailable"
    ),
    SchemaNotReadyError: Answer(
        503, "DATABASE_NOT_MIGRATED", shown=False, hidden_message="The database is not ready"
    ),
    QueueError: Answer(503, "QUEUE_UNAVAILABLE", shown=False, hidden_message="The queue failed"),
    ConfigurationError: Answer(
        500, "CONFIGURATION_ERROR", shown=False, hidden_message="sharepack is misconfigured"
    ),
    # Failures no request should meet (they belong to runs, which workers carry out, and
    # to notices, which the outbox's dispatcher delivers).
    StoreError: _INTERNAL,
    NotificationError: _INTERNAL,
    # A scheduled job's run failed (a workspace it reads could not be reached).
    SyncJobError: Answer(502, "SYNC_JOB_FAILED"),
    RunHandedOverError: _INTERNAL,
    LeaseLostError: _INTERNAL,
    SharePackError: _INTERNAL,
}


def answer_for(kind: type[SharePackError]) -> Answer:
    """The row of `kind`, or of its nearest ancestor that has one."""
    for ancestor in kind.__mro__:
        if ancestor in ANSWERS:
            return ANSWERS[ancestor]
    raise TypeError(f"{kind.__name__} is not a SharePackError")


logger = logging.getLogger(__name__)


def _json(
    model: ErrorResponse | UploadResponse | BatchRejectedResponse, status: int
) -> JSONResponse:
    return JSONResponse(model.model_dump(by_alias=True), status_code=status)


def internal_error_response(
    exc: BaseException, scope: Scope, answer: Answer = _INTERNAL
) -> JSONResponse:
    """The answer with a new error id; the error itself is logged under that id, never
    answered."""
    error_id = str(uuid.uuid4())
    where = f"{scope.get('method', '')} {scope.get('path', '')}".strip()
    logger.error("%s %s on %s", answer.hidden_message, error_id, where, exc_info=exc)
    body = InternalErrorResponse(
        message=f"{answer.hidden_message}; reference {error_id}",
        error_code=answer.error_code,
        error_id=error_id,
    )
    return JSONResponse(body.model_dump(by_alias=True), status_code=answer.status)


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
    return _json(body, ANSWERS[SpecError].status)


async def _sharepack_error(request: Request, exc: Exception) -> JSONResponse:
    """Every sharepack error, answered by its row of `ANSWERS`."""
    assert isinstance(exc, SharePackError)
    if isinstance(exc, SpecError):
        return spec_error_response(exc)
    if isinstance(exc, PlanError):
        return _plan_error(exc)
    if isinstance(exc, BatchRejectedError):
        return batch_rejected_response(exc)
    answer = answer_for(type(exc))
    if not answer.shown:
        return internal_error_response(exc, request.scope, answer)
    response = _json(
        ErrorResponse(message=exc.message, error_code=answer.error_code), answer.status
    )
    response.headers.update(_headers_for(exc))
    return response


def _headers_for(exc: SharePackError) -> dict[str, str]:
    """RFC 6750's challenge on a 401; how long to wait on a 429 or an identity provider's
    503."""
    if isinstance(exc, AuthenticationError):
        return {"WWW-Authenticate": 'Bearer realm="sharepack"'}
    if isinstance(exc, TooManyFailuresError):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, IdentityProviderUnavailableError | DirectoryUnavailableError):
        return {"Retry-After": "30"}
    return {}


def _plan_error(exc: PlanError) -> JSONResponse:
    body = UploadResponse(
        message="The share pack cannot be applied to this workspace; nothing was stored",
        status=PackStatus.VALIDATION_FAILED.value,
        validation_errors=[exc.message],
    )
    return _json(body, ANSWERS[PlanError].status)


def batch_rejected_response(exc: BatchRejectedError) -> JSONResponse:
    """400 VALIDATION_FAILED with every file, each with its errors (or none)."""
    body = BatchRejectedResponse(
        message=exc.message,
        status=PackStatus.VALIDATION_FAILED.value,
        validation_errors=[str(p) for p in exc.problems],
        files=[
            BatchFileErrors(
                file_name=f.file_name,
                validation_errors=[str(p) for p in f.errors],
                validation_warnings=[str(p) for p in f.warnings],
            )
            for f in exc.files
        ],
    )
    return _json(body, ANSWERS[BatchRejectedError].status)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """What the routing (or the body's parser) refused, as its row of `ANSWERS`: an
    unknown route, a method the path does not take (its Allow header kept), a body that
    cannot be parsed."""
    assert isinstance(exc, HTTPException)
    error = _routing_error(request, exc)
    answer = answer_for(type(error))
    if not answer.shown:
        return internal_error_response(exc, request.scope, answer)
    body = ErrorResponse(message=error.message, error_code=answer.error_code)
    return JSONResponse(body.model_dump(by_alias=True), answer.status, headers=exc.headers)


#: The most of a request's path an answer repeats.
_PATH_SHOWN = 200


def _routing_error(request: Request, exc: HTTPException) -> SharePackError:
    path = request.url.path
    where = f"{request.method} {path if len(path) <= _PATH_SHOWN else path[:_PATH_SHOWN] + '...'}"
    if exc.status_code == 404:
        return NotFoundError(f"No route answers {where}: the API is under /workflow, see /docs")
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow")
        takes = f"; this path takes {allowed}" if allowed else ""
        return MethodNotAllowedError(f"{where} is not allowed{takes}")
    if exc.status_code < 500:
        return BadRequestError(str(exc.detail))
    return SharePackError(str(exc.detail))


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
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(SharePackError, _sharepack_error)
