"""Routes under `/workflow`: translate HTTP to use cases and back, nothing more."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Header, Request, UploadFile
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
from sharepack.runtime import Runtime
from sharepack.usecases.queries import check_health, get_share_pack
from sharepack.usecases.rotate_token import (
    DEFAULT_EXISTING_TOKEN_EXPIRE_IN_SECONDS,
    iso_time,
    record_refused_rotation,
    rotate_token,
)
from sharepack.usecases.submit import SubmittedPack, record_refused_upload, submit_share_pack

router = APIRouter(prefix="/workflow", tags=["workflow"])


def _runtime(request: Request) -> Runtime:
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
) -> JSONResponse:
    """Validate a share pack, store it and queue it for provisioning (202)."""
    with upload_span(request.headers) as span:
        submitted = _submit(_runtime(request), caller, file, x_workspace_url)
        span.set_attribute("sharepack.pack_id", str(submitted.share_pack_id))
    body = UploadResponse(
        message="Share pack uploaded successfully and queued for provisioning",
        share_pack_id=str(submitted.share_pack_id),
        share_pack_name=submitted.share_pack_name,
        status=submitted.status.value,
        validation_warnings=[str(w) for w in submitted.warnings],
    )
    return JSONResponse(body.model_dump(by_alias=True), status_code=202)


def _submit(
    runtime: Runtime, caller: Caller, file: UploadFile | None, x_workspace_url: str | None
) -> SubmittedPack:
    if not x_workspace_url or file is None:
        missing = BadRequestError(
            "Missing header X-Workspace-URL: name the target workspace."
            if not x_workspace_url
            else "Missing multipart field 'file': attach the share pack file."
        )
        record_refused_upload(runtime, caller, missing, file.filename or "upload" if file else "")
        raise missing
    # Read at most one byte past the limit: the reader reports an oversize file by name.
    content = file.file.read(runtime.settings.sharepack_max_upload_bytes + 1)
    return submit_share_pack(
        runtime,
        content=content,
        filename=file.filename or "upload",
        workspace_url=x_workspace_url,
        caller=caller,
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
    try:
        pack_id = uuid.UUID(share_pack_id)
    except ValueError:
        raise NotFoundError(f"No share pack with id '{share_pack_id}' (not a UUID).") from None
    record = get_share_pack(_runtime(request), pack_id, caller)
    body = SharePackStatusResponse(
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
    )
    return JSONResponse(body.model_dump(by_alias=True))


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
    runtime = _runtime(request)
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
    result = check_health(_runtime(request))
    body = HealthResponse(
        message="Workflow system healthy" if result.healthy else "Workflow system unhealthy",
        database_connected=result.database_connected,
        queue_connected=result.queue_connected,
        tables_count=result.tables_count,
    )
    return JSONResponse(body.model_dump(by_alias=True), status_code=200 if result.healthy else 503)
