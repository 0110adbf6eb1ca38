"""Version routes under `/workflow`: a project's versions, and rolling it back to one
(with a dry run that only returns the plan)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from sharepack.api.auth import CALLER
from sharepack.api.errors import BadRequestError
from sharepack.api.routes import _INTERNAL, runtime_of
from sharepack.api.schemas import (
    ErrorResponse,
    ProjectVersionInfo,
    ProjectVersionsResponse,
    RollbackRequest,
    RollbackResponse,
)
from sharepack.errors import NotFoundError
from sharepack.usecases.versions import (
    ProjectVersion,
    find_version,
    list_versions,
    plan_rollback,
    submit_rollback,
)

router = APIRouter(prefix="/workflow", tags=["workflow"])


def _project_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFoundError(f"No project with id '{text}' (not a UUID).") from None


def version_info(version: ProjectVersion) -> ProjectVersionInfo:
    return ProjectVersionInfo(
        version_id=str(version.version_id),
        number=version.number,
        kind=version.kind,
        project_name=version.project_name,
        business_line=version.business_line,
        workspace_url=version.workspace_url,
        share_pack_id=str(version.share_pack_id) if version.share_pack_id else None,
        restores=str(version.restores) if version.restores else None,
        created_at=version.created_at.isoformat(),
        created_by=version.created_by,
        change_reason=version.change_reason,
        changes=version.changes,
        states_kept=version.has_states,
    )


@router.get(
    "/projects/{project_id}/versions",
    response_model=ProjectVersionsResponse,
    responses={
        404: {"model": ErrorResponse, "description": "No versions of such a project to show"},
        **_INTERNAL,
    },
)
def project_versions(request: Request, project_id: str, caller: CALLER) -> JSONResponse:
    """The project's versions the caller may read, newest first."""
    wanted = _project_id(project_id)
    found = list_versions(runtime_of(request), caller, project_id=wanted)
    if not found:
        raise NotFoundError(f"No versions of a project with id '{project_id}' to show")
    body = ProjectVersionsResponse(
        project_id=str(wanted), versions=[version_info(v) for v in found]
    )
    return JSONResponse(body.model_dump(by_alias=True))


_ROLLBACK_ANSWERS: dict[int | str, dict[str, Any]] = {
    202: {"model": RollbackResponse, "description": "The rollback's pack, queued or waiting"},
    400: {
        "model": ErrorResponse,
        "description": "No VersionId, or the version's pack can no longer apply (a table it "
        "shares is gone: VALIDATION_FAILED); nothing is stored",
    },
    403: {"model": ErrorResponse, "description": "The caller may not roll this project back"},
    404: {"model": ErrorResponse, "description": "No such version of this project"},
    409: {
        "model": ErrorResponse,
        "description": "The version was recorded from the workspace: it has no pack to apply",
    },
    502: {"model": ErrorResponse, "description": "The workspace answered badly"},
    **_INTERNAL,
}


@router.post(
    "/projects/{project_id}/rollback",
    response_model=RollbackResponse,
    responses=_ROLLBACK_ANSWERS,
)
def roll_back_project(
    request: Request,
    project_id: str,
    caller: CALLER,
    body: Annotated[RollbackRequest | None, Body()] = None,
) -> JSONResponse:
    """Plan the rollback to a version (DryRun: 200 with the plan, nothing stored), or
    store and queue it as a pack (202): the approval policy applies, and the run is
    applied, verified and recorded as a new version like any pack's."""
    wanted = _project_id(project_id)
    if body is None or not body.version_id.strip():
        raise BadRequestError("Missing VersionId: name the version to roll back to.")
    runtime = runtime_of(request)
    version = find_version(runtime, caller, body.version_id)
    if version.project_id != wanted:
        raise NotFoundError(
            f"Version '{body.version_id}' is not a version of project '{project_id}'"
        )
    planned = plan_rollback(runtime, caller, version)
    answer = RollbackResponse(
        version_id=str(version.version_id),
        number=version.number,
        dry_run=body.dry_run,
        plan=planned.lines,
        notes=[note.message for note in planned.notes],
        share_pack_id=None,
        status=None,
        provisioning_status=None,
        approval_state=None,
    )
    if body.dry_run:
        return JSONResponse(answer.model_dump(by_alias=True))
    submitted = submit_rollback(runtime, caller, planned)
    answer = answer.model_copy(
        update={
            "share_pack_id": str(submitted.share_pack_id),
            "status": submitted.status.value,
            "provisioning_status": submitted.provisioning_status,
            "approval_state": submitted.approval_state,
        }
    )
    return JSONResponse(answer.model_dump(by_alias=True), status_code=202)
