"""Use case: accept a share pack file, store it and queue it, in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sharepack.engine import PlanWarning, names_to_read, plan, read_names
from sharepack.errors import WorkspaceNotAllowedError
from sharepack.history.retired import retired_names
from sharepack.packfile import LoadedSharePack, ReadLimits, load_share_pack
from sharepack.packfile.errors import Problem
from sharepack.packfile.models import SharePackConfig, Strategy
from sharepack.queue.protocol import ClaimedMessage
from sharepack.running.status import PackStatus
from sharepack.runtime import Runtime
from sharepack.workspace.errors import (
    InvalidWorkspaceUrlError,
    WorkspaceAuthenticationError,
    WorkspaceCredentialsMissingError,
    WorkspaceError,
)
from sharepack.workspace.urls import is_workspace_url, normalise_workspace_url

QUEUED_STATUS_LINE = "Step 1/8: Queued for provisioning"


@dataclass(frozen=True)
class SubmittedPack:
    share_pack_id: uuid.UUID
    share_pack_name: str
    status: PackStatus
    warnings: tuple[Problem, ...]
    message: ClaimedMessage | None = None  # held by the caller that processes it itself


def share_pack_name(requestor: str, at: datetime) -> str:
    return f"SharePack_{requestor}_{at.strftime('%Y%m%d_%H%M%S')}"


def check_workspace_allowed(runtime: Runtime, workspace_url: str) -> str:
    """Return the normalised URL, or raise before anything is read, stored or sent:
    `InvalidWorkspaceUrlError` for text that is not an http(s) URL, else
    `WorkspaceNotAllowedError` for a URL not listed.

    The refusal names the workspace and the setting, not the workspaces that are allowed:
    a caller who may not target a workspace need not learn which ones it could.
    """
    if not is_workspace_url(workspace_url):
        raise InvalidWorkspaceUrlError(
            f"Workspace '{_shown(workspace_url)}' is not an http(s) URL with a host: name the "
            "workspace as https://host, e.g. https://adb-1234567890123456.7.azuredatabricks.net"
        )
    if not runtime.settings.is_workspace_allowed(workspace_url):
        raise WorkspaceNotAllowedError(
            f"Workspace '{_shown(workspace_url)}' is not allowed: sharepack only targets the "
            "workspaces listed in its SHAREPACK_WORKSPACE_URLS setting; ask its operator to "
            "add this one there."
        )
    return normalise_workspace_url(workspace_url)


def _shown(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def submit_share_pack(
    runtime: Runtime, *, content: bytes, filename: str, workspace_url: str
) -> SubmittedPack:
    """Validate the file, then write the pack's first version and its queue message together.

    Raises `WorkspaceNotAllowedError`, `SpecError` or `PlanError`; then nothing is stored.
    """
    target = check_workspace_allowed(runtime, workspace_url)
    limits = ReadLimits(max_bytes=runtime.settings.sharepack_max_upload_bytes)
    loaded = load_share_pack(content, filename, limits=limits)
    strategy, notes = preview_strategy(runtime, loaded.config, target)
    warnings = (*loaded.warnings, *(Problem(filename, note.field, note.message) for note in notes))
    return store_share_pack(
        runtime, loaded, strategy, warnings, filename=filename, workspace_url=target
    )


def preview_strategy(
    runtime: Runtime, config: SharePackConfig, workspace_url: str
) -> tuple[Strategy, tuple[PlanWarning, ...]]:
    """Plan against the workspace now: the strategy that will apply, and what to warn about,
    each warning at the field of the pack it is about (none: the file as a whole).

    Raises `PlanError` for conflicts and missing tables; an unreachable workspace only warns,
    since the worker plans again when it runs. Credentials missing or refused raise: no
    run of the pack could succeed until the service's settings change.
    """
    retired = retired_names(runtime.database, workspace_url, config)
    try:
        workspace = runtime.workspace_for(workspace_url)
        before = read_names(workspace, names_to_read(config, retired))
    except (WorkspaceCredentialsMissingError, WorkspaceAuthenticationError):
        raise
    except WorkspaceError as exc:
        unchecked = (
            f"The workspace could not be checked now ({exc.message}); "
            "the worker will plan against it when it runs."
        )
        return config.metadata.strategy, (PlanWarning(unchecked, ""),)
    preview = plan(config, before, runtime.plan_options(retired=retired))
    return preview.strategy, preview.located_warnings


def store_share_pack(
    runtime: Runtime,
    loaded: LoadedSharePack,
    strategy: Strategy,
    warnings: tuple[Problem, ...],
    *,
    filename: str,
    workspace_url: str,
    held_by: str | None = None,
    auto_rollback: bool | None = None,
) -> SubmittedPack:
    """The pack's first version and its message, in one transaction. A caller that
    processes the pack itself passes `held_by`: the message is then leased to it, and
    a worker takes it over only if that caller dies and stops renewing the lease.
    `auto_rollback` (when the caller overrides the setting) travels in the message, so a
    worker that takes the run over keeps the caller's choice."""
    metadata = loaded.config.metadata
    pack_id = uuid.uuid4()
    name = share_pack_name(metadata.requestor, datetime.now(UTC))
    with runtime.database.unit_of_work() as uow:
        uow.share_packs.create(
            share_pack_id=pack_id,
            share_pack_name=name,
            requested_by=metadata.requestor,
            strategy=strategy.value,
            config=loaded.config.model_dump(mode="json"),
            file_name=filename,
            file_format=loaded.format,
            workspace_url=workspace_url,
            status=PackStatus.IN_PROGRESS.value,
            provisioning_status=QUEUED_STATUS_LINE,
            created_by=metadata.requestor,
            change_reason="Share pack uploaded",
            business_line=metadata.business_line,
            project_name=metadata.project_name,
        )
        body: dict[str, object] = {"share_pack_id": str(pack_id)}
        if auto_rollback is not None:
            body["auto_rollback"] = auto_rollback
        message = None
        if held_by is None:
            runtime.queue.enqueue(body, uow=uow)
        else:
            lease = runtime.settings.sharepack_lease_seconds
            message = runtime.queue.enqueue_held(body, holder=held_by, lease_seconds=lease, uow=uow)
        uow.commit()
    return SubmittedPack(
        share_pack_id=pack_id,
        share_pack_name=name,
        status=PackStatus.IN_PROGRESS,
        warnings=warnings,
        message=message,
    )
