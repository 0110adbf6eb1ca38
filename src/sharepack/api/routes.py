"""Routes under `/workflow`: translate HTTP to use cases and back, nothing more."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Header, Request, UploadFile
from fastapi.responses import JSONResponse

from sharepack.api.auth import CALLER
from sharepack.api.errors import BadRequestError
from sharepack.api.schemas import (
    ErrorResponse,
    HealthResponse,
    InternalErrorResponse,
    RotateTokenRequest,
    RotateTokenResponse,
    SharePackStatusResponse,
    UploadResponse,
)
from sharepack.errors import NotFoundError
from sharepack.identity.principal import Caller
from sharepack.observability.tracing import upload_span
from sharepack.packfile.object_rules import as_utc
from sharepack.runtime import Runtime
from sharepack.usecases.queries import SharePackRecord, check_health, get_share_pack
from sharepack.usecases.queueing import QUEUED_STATUS_LINE, iso
from sharepack.usecases.rotate_token import (
    DEFAULT_EXISTING_TOKEN_EXPIRE_IN_SECONDS,
    iso_time,
    record_refused_rotation,
    rotate_token,
)
from sharepack.usecases.submit import SubmittedPack, record_refused_upload, submit_share_pack

router = APIRouter(prefix="/workflow", tags=["workflow"])


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


_INTERNAL: dict[int | str, dict[str, Any]] = {
    500: {
        "model": InternalErrorResponse,
        "description": "An unexpected failure; its details are logged under ErrorId",
    },
    503: {
        "model": InternalErrorResponse,
        "description": "The database or the queue could not be reached (ErrorCode "
        "DATABASE_UNAVAILABLE, DATABASE_NOT_MIGRATED or QUEUE_UNAVAILABLE); try again later, "
        "the details are logged under ErrorId",
    },
}
_BAD_REQUEST: dict[int | str, dict[str, Any]] = {
    400: {
        "model": UploadResponse | ErrorResponse,
        "description": "Invalid pack (Status VALIDATION_FAILED, located ValidationErrors; a "
        "file over SHAREPACK_MAX_UPLOAD_BYTES is refused before the rest of it is read), "
        "a workspace URL that is not http(s) or not allow-listed, a missing header or "
        "file; nothing is stored",
    },
    **_INTERNAL,
}


@router.post(
    "/sharepack/upload", status_code=202, response_model=UploadResponse, responses=_BAD_REQUEST
)
def upload_share_pack(
    request: Request,
    caller: CALLER,
    file: Annotated[UploadFile | None, File(description="A YAML or Excel share pack")] = None,
    x_workspace_url: Annotated[str | None, Header(description="Target workspace URL")] = None,
    not_before: Annotated[
        str | None,
        Form(
            description="Run no earlier than this ISO 8601 time (a time without a zone is "
            "UTC); over the file's metadata.not_before"
        ),
    ] = None,
) -> JSONResponse:
    """Validate a share pack, store it and queue it for provisioning (202); a pack whose
    plan the approval policy wants approved waits for its approvers first."""
    with upload_span(request.headers) as span:
        submitted = _submit(runtime_of(request), caller, file, x_workspace_url, not_before)
        span.set_attribute("sharepack.pack_id", str(submitted.share_pack_id))
    body = UploadResponse(
        message=(
            "Share pack uploaded successfully and queued for provisioning"
            if submitted.provisioning_status == QUEUED_STATUS_LINE
            else f"Share pack uploaded successfully; {submitted.provisioning_status}"
        ),
        approval_state=submitted.approval_state,
        share_pack_id=str(submitted.share_pack_id),
        share_pack_name=submitted.share_pack_name,
        status=submitted.status.value,
        validation_warnings=[str(w) for w in submitted.warnings],
    )
    return JSONResponse(body.model_dump(by_alias=True), status_code=202)


def _submit(
    runtime: Runtime,
    caller: Caller,
    file: UploadFile | None,
    x_workspace_url: str | None,
    not_before: str | None,
) -> SubmittedPack:
    if not x_workspace_url or file is None:
        missing = BadRequestError(
            "Missing header X-Workspace-URL: name the target workspace."
            if not x_workspace_url
            else "Missing multipart field 'file': attach the share pack file."
        )
        record_refused_upload(runtime, caller, missing, file.filename or "upload" if file else "")
        raise missing
    when = None
    if not_before:
        try:
            when = as_utc(datetime.fromisoformat(not_before.strip()))
        except ValueError:
            wrong = BadRequestError(
                f"not_before '{not_before[:100]}' is not an ISO 8601 time, e.g. "
                "2027-01-31T09:00:00Z"
            )
            record_refused_upload(runtime, caller, wrong, file.filename or "upload")
            raise wrong from None
    # Read at most one byte past the limit: the reader reports an oversize file by name.
    content = file.file.read(runtime.settings.sharepack_max_upload_bytes + 1)
    return submit_share_pack(
        runtime,
        content=content,
        filename=file.filename or "upload",
        workspace_url=x_workspace_url,
        caller=caller,
        not_before=when,
    )


@router.get(
    "/sharepack/{share_pack_id}",
    response_model=SharePackStatusResponse,
    responses={
        404: {"model": ErrorResponse, "description": "No share pack with that id"},
        **_INTERNAL,
    },
)
def share_pack_status(request: Request, share_pack_id: str, caller: CALLER) -> JSONResponse:
    """The current status of a share pack."""
    pack_id = pack_id_of(share_pack_id)
    record = get_share_pack(runtime_of(request), pack_id, caller)
    return JSONResponse(status_body(record).model_dump(by_alias=True))


def pack_id_of(share_pack_id: str) -> uuid.UUID:
    """The id in a path; an id that is not a UUID names no pack (404)."""
    try:
        return uuid.UUID(share_pack_id)
    except ValueError:
        raise NotFoundError(f"No share pack with id '{share_pack_id}' (not a UUID).") from None


def status_body(record: SharePackRecord) -> SharePackStatusResponse:
    """A pack's current version as `GET /workflow/sharepack/{id}` answers it."""
    return SharePackStatusResponse(
        share_pack_id=str(record.share_pack_id),
        share_pack_name=record.share_pack_name,
        status=record.share_pack_status,
        strategy=record.strategy,
        provisioning_status=record.provisioning_status or "",
        error_message=record.error_message or "",
        requested_by=record.requested_by,
        submitted_by=record.submitted_by,
        created_at=record.created_at.isoformat(),
        last_updated=record.effective_from.isoformat(),
        workspace_url=record.workspace_url,
        rollback_status=record.rollback_status,
        approval_state=record.approval_state,
        not_before=iso(record.not_before) if record.not_before else None,
        batch_id=str(record.batch_id) if record.batch_id else None,
    )


_ROTATION_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorResponse,
        "description": "A missing X-Workspace-URL, a workspace URL that is not http(s) or not "
        "allow-listed, a negative ExistingTokenExpireInSeconds (BAD_REQUEST); a D2D recipient, "
        "which has no token, or one the workspace will not rotate again yet (INVALID_REQUEST)",
    },
    403: {
        "model": ErrorResponse,
        "description": "The caller is neither an admin nor a requestor of the business line "
        "whose pack manages the recipient (a recipient no pack manages: admins only)",
    },
    404: {"model": ErrorResponse, "description": "The workspace has no such recipient"},
    **_INTERNAL,
    502: {
        "model": ErrorResponse,
        "description": "The workspace refused sharepack (WORKSPACE_ERROR: e.g. its identity "
        "does not own the recipient; WORKSPACE_CREDENTIALS_REFUSED); nothing was rotated",
    },
    503: {
        "model": ErrorResponse | InternalErrorResponse,
        "description": "The workspace could not be reached (WORKSPACE_UNAVAILABLE) or sharepack "
        "has no credentials for it (WORKSPACE_CREDENTIALS_MISSING); or the database could not "
        "be reached (DATABASE_UNAVAILABLE, DATABASE_NOT_MIGRATED, with ErrorId)",
    },
}


@router.post(
    "/recipients/{name}/rotate-token",
    response_model=RotateTokenResponse,
    responses=_ROTATION_ANSWERS,
)
def rotate_recipient_token(
    request: Request,
    name: str,
    caller: CALLER,
    body: Annotated[RotateTokenRequest | None, Body()] = None,
    x_workspace_url: Annotated[str | None, Header(description="The recipient's workspace")] = None,
) -> JSONResponse:
    """Give a partner (a TOKEN recipient) a new bearer token. The answer carries its
    activation link, once: sharepack keeps no copy (`Cache-Control: no-store`)."""
    runtime = runtime_of(request)
    if not x_workspace_url:
        missing = BadRequestError("Missing header X-Workspace-URL: name the recipient's workspace.")
        record_refused_rotation(runtime, caller, missing, name)
        raise missing
    seconds = body.existing_token_expire_in_seconds if body is not None else None
    rotation = rotate_token(
        runtime,
        caller,
        workspace_url=x_workspace_url,
        recipient=name,
        existing_token_expire_in_seconds=(
            DEFAULT_EXISTING_TOKEN_EXPIRE_IN_SECONDS if seconds is None else seconds
        ),
    )
    rotated = rotation.rotated
    expires, existing = rotated.expiration_time, rotated.existing_tokens_expire_at
    answer = RotateTokenResponse(
        recipient_name=rotated.recipient,
        activation_url=rotated.activation_url,
        token_expiration_time=iso_time(expires) if expires is not None else None,
        existing_tokens_expire_at=iso_time(existing) if existing is not None else None,
        message=rotation.message,
    )
    # A secret: no cache on the way (a proxy, the browser) may keep the answer.
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    return JSONResponse(answer.model_dump(by_alias=True), headers=headers)


@router.get(
    "/health",
    response_model=HealthResponse,
    responses={
        **_INTERNAL,
        503: {"model": HealthResponse, "description": "The database or queue is down"},
    },
)
def health(request: Request) -> JSONResponse:
    """200 when the database and the queue answer, 503 otherwise."""
    result = check_health(runtime_of(request))
    body = HealthResponse(
        message="Workflow system healthy" if result.healthy else "Workflow system unhealthy",
        database_connected=result.database_connected,
        queue_connected=result.queue_connected,
        tables_count=result.tables_count,
    )
    return JSONResponse(body.model_dump(by_alias=True), status_code=200 if result.healthy else 503)
