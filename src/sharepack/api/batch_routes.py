"""Batch routes under `/workflow`: several share packs in one upload, and a batch's status."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Header, Request, UploadFile
from fastapi.responses import JSONResponse

from sharepack.api.auth import CALLER
from sharepack.api.body_limit import BATCH_PATH
from sharepack.api.errors import BadRequestError
from sharepack.api.routes import _INTERNAL, runtime_of
from sharepack.api.schemas import (
    BatchPackAccepted,
    BatchPackStatus,
    BatchRejectedResponse,
    BatchStatusResponse,
    BatchUploadResponse,
    ErrorResponse,
    UploadResponse,
)
from sharepack.errors import NotFoundError
from sharepack.identity.principal import Caller
from sharepack.observability.tracing import upload_span
from sharepack.runtime import Runtime
from sharepack.usecases.batch import SubmittedBatch, batch_summary, submit_batch
from sharepack.usecases.submit import record_refused_upload

router = APIRouter(prefix="/workflow", tags=["workflow"])

_BATCH_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": BatchRejectedResponse | UploadResponse | ErrorResponse,
        "description": "A refused batch (Status VALIDATION_FAILED, every file listed with its "
        "errors; a body over SHAREPACK_BATCH_MAX_TOTAL_BYTES is refused before the rest of "
        "it is read), a workspace URL that is not http(s) or not allow-listed, a missing "
        "header or file (ErrorCode); nothing is stored",
    },
    403: {
        "model": ErrorResponse,
        "description": "The caller may not submit one of the files (named) for its business "
        "line or requestor; nothing is stored",
    },
    **_INTERNAL,
}


@router.post(
    BATCH_PATH.removeprefix("/workflow"),
    status_code=202,
    response_model=BatchUploadResponse,
    responses=_BATCH_ANSWERS,
)
def upload_batch(
    request: Request,
    caller: CALLER,
    files: Annotated[
        list[UploadFile] | None,
        File(description="Share packs (YAML or Excel), one per part; or one zip of them"),
    ] = None,
    x_workspace_url: Annotated[str | None, Header(description="Target workspace URL")] = None,
) -> JSONResponse:
    """Validate every share pack of the batch, then store and queue them all, or none (202)."""
    with upload_span(request.headers) as span:
        submitted = _submit(runtime_of(request), caller, files or [], x_workspace_url)
        span.set_attribute("sharepack.batch_id", str(submitted.batch_id))
    body = BatchUploadResponse(
        message=f"Batch of {len(submitted.packs)} share packs uploaded and queued for provisioning",
        batch_id=str(submitted.batch_id),
        status="IN_PROGRESS",
        share_packs=[
            BatchPackAccepted(
                file_name=name,
                share_pack_id=str(pack.share_pack_id),
                share_pack_name=pack.share_pack_name,
                status=pack.status.value,
                validation_warnings=[str(w) for w in pack.warnings],
            )
            for name, pack in submitted.packs
        ],
        validation_warnings=[str(w) for w in submitted.warnings],
    )
    return JSONResponse(body.model_dump(by_alias=True), status_code=202)


def _submit(
    runtime: Runtime, caller: Caller, files: list[UploadFile], x_workspace_url: str | None
) -> SubmittedBatch:
    if not x_workspace_url or not files:
        missing = BadRequestError(
            "Missing header X-Workspace-URL: name the target workspace."
            if not x_workspace_url
            else "Missing multipart field 'files': attach the share pack files (or one zip)."
        )
        record_refused_upload(runtime, caller, missing, "batch")
        raise missing
    # The body limit bounds the parts together; each file is checked to the byte by name.
    limit = runtime.settings.sharepack_batch_max_total_bytes + 1
    parts = [(file.filename or f"part{n}", file.file.read(limit)) for n, file in enumerate(files)]
    return submit_batch(runtime, files=parts, workspace_url=x_workspace_url, caller=caller)


@router.get(
    "/batch/{batch_id}",
    response_model=BatchStatusResponse,
    responses={
        404: {"model": ErrorResponse, "description": "No batch with that id"},
        **_INTERNAL,
    },
)
def batch_status(request: Request, batch_id: str, caller: CALLER) -> JSONResponse:
    """A batch's packs as they are now, how many are in each status, and its own status."""
    try:
        wanted = uuid.UUID(batch_id)
    except ValueError:
        raise NotFoundError(f"No batch with id '{batch_id}' (not a UUID).") from None
    summary = batch_summary(runtime_of(request), wanted, caller)
    body = BatchStatusResponse(
        batch_id=str(summary.batch_id),
        status=summary.status.value,
        submitted_by=summary.submitted_by,
        created_at=summary.created_at.isoformat(),
        counts=summary.counts,
        share_packs=[
            BatchPackStatus(
                file_name=p.file_name,
                share_pack_id=str(p.share_pack_id),
                share_pack_name=p.share_pack_name,
                status=p.status,
                provisioning_status=p.provisioning_status,
                error_message=p.error_message,
                rollback_status=p.rollback_status,
            )
            for p in summary.packs
        ],
    )
    return JSONResponse(body.model_dump(by_alias=True))
