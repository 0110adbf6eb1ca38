"""Routes under `/workflow` for a pack's approval and its cancellation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from sharepack.api.auth import CALLER
from sharepack.api.errors import BadRequestError
from sharepack.api.routes import pack_id_of, runtime_of, status_body
from sharepack.api.schemas import (
    ApprovalResponse,
    DecisionRequest,
    DecisionView,
    ErrorResponse,
    InternalErrorResponse,
    RequirementView,
    SharePackStatusResponse,
)
from sharepack.usecases.approvals import (
    ApprovalView,
    approval_view,
    awaiting_approval,
    cancel,
    counted_approvals,
    decide,
)
from sharepack.usecases.queueing import iso

router = APIRouter(prefix="/workflow", tags=["approvals"])

_INTERNAL: dict[int | str, dict[str, Any]] = {
    500: {"model": InternalErrorResponse, "description": "An unexpected failure"},
    503: {"model": InternalErrorResponse, "description": "The database could not be reached"},
}
_READ: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No share pack with that id"},
    **_INTERNAL,
}
_ACT: dict[int | str, dict[str, Any]] = {
    403: {
        "model": ErrorResponse,
        "description": "The caller may not decide (not an approver of the business line, the "
        "pack's own requestor or submitter, not in a group the level needs, approved already) "
        "or cancel (not its requestor, submitter or an admin)",
    },
    409: {
        "model": ErrorResponse,
        "description": "The pack does not wait for approval, or its run has started (CONFLICT)",
    },
    **_READ,
}


def _approval_body(view: ApprovalView) -> ApprovalResponse:
    record, progress = view.record, view.progress
    digest = (record.approval_plan or {}).get("digest")
    counted = counted_approvals(progress)
    return ApprovalResponse(
        share_pack_id=str(record.share_pack_id),
        share_pack_name=record.share_pack_name,
        status=record.share_pack_status,
        approval_state=record.approval_state,
        provisioning_status=record.provisioning_status or "",
        plan=list(view.plan_lines),
        changed=list(view.changed),
        requirements=[
            RequirementView(
                level=r.level,
                group=r.group.name,
                count=r.count,
                approved=counted.get((r.level, r.group.name), 0),
                reasons=list(r.reasons),
            )
            for r in view.requirements
        ],
        decisions=[
            DecisionView(
                level=d.level,
                group=d.group_name,
                approver=d.approver,
                decision=d.decision,
                comment=d.comment or "",
                at=iso(d.created_at),
                for_current_plan=d.plan_digest == digest,
            )
            for d in view.decisions
        ],
    )


@router.get("/approvals", response_model=list[SharePackStatusResponse], responses=_INTERNAL)
def approvals_inbox(request: Request, caller: CALLER) -> JSONResponse:
    """Packs waiting for approval that the caller may see, newest first."""
    packs = awaiting_approval(runtime_of(request), caller)
    return JSONResponse([status_body(p).model_dump(by_alias=True) for p in packs])


@router.get("/sharepack/{share_pack_id}/approval", response_model=ApprovalResponse, responses=_READ)
def pack_approval(request: Request, share_pack_id: str, caller: CALLER) -> JSONResponse:
    """The plan a pack waits with, as `sharepack plan` prints it, and its approvals."""
    view = approval_view(runtime_of(request), caller, pack_id_of(share_pack_id))
    return JSONResponse(_approval_body(view).model_dump(by_alias=True))


@router.post("/sharepack/{share_pack_id}/approve", response_model=ApprovalResponse, responses=_ACT)
def approve_pack(
    request: Request,
    share_pack_id: str,
    caller: CALLER,
    body: Annotated[DecisionRequest | None, Body()] = None,
) -> JSONResponse:
    """Approve the plan the pack waits with, at the level it waits at."""
    return _decide(request, share_pack_id, caller, body, approve=True)


@router.post(
    "/sharepack/{share_pack_id}/reject",
    response_model=ApprovalResponse,
    responses={**_ACT, 400: {"model": ErrorResponse, "description": "No Comment given"}},
)
def reject_pack(
    request: Request,
    share_pack_id: str,
    caller: CALLER,
    body: Annotated[DecisionRequest | None, Body()] = None,
) -> JSONResponse:
    """Reject the plan: the pack ends FAILED with the reason (Comment, required)."""
    return _decide(request, share_pack_id, caller, body, approve=False)


def _decide(
    request: Request,
    share_pack_id: str,
    caller: Any,
    body: DecisionRequest | None,
    *,
    approve: bool,
) -> JSONResponse:
    runtime, pack_id = runtime_of(request), pack_id_of(share_pack_id)
    comment = (body.comment if body is not None else "").strip()
    if not approve and not comment:
        raise BadRequestError("A rejection needs a Comment: the requestor is told the reason")
    decide(runtime, caller, pack_id, approve=approve, comment=comment)
    view = approval_view(runtime, caller, pack_id)
    return JSONResponse(_approval_body(view).model_dump(by_alias=True))


@router.post(
    "/sharepack/{share_pack_id}/cancel", response_model=SharePackStatusResponse, responses=_ACT
)
def cancel_pack(request: Request, share_pack_id: str, caller: CALLER) -> JSONResponse:
    """Cancel a pack that waits (for approval, its time or a worker): it ends FAILED with
    "Cancelled by ..." and nothing in the workspace is touched."""
    record = cancel(runtime_of(request), caller, pack_id_of(share_pack_id))
    return JSONResponse(status_body(record).model_dump(by_alias=True))
