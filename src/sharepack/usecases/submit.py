"""Use case: accept a share pack file, store it and queue it, in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sharepack.engine import Plan, PlanWarning, names_to_read, plan, read_names
from sharepack.errors import (
    ConfigurationError,
    DatabaseUnavailableError,
    DirectoryUnavailableError,
    PermissionDeniedError,
    QueueError,
    SharePackError,
    StoreError,
    WorkspaceNotAllowedError,
)
from sharepack.history.retired import retired_names
from sharepack.identity.principal import Caller
from sharepack.observability.logs import log_context
from sharepack.observability.metrics import Phase, timed_phase
from sharepack.observability.tracing import enqueue_span
from sharepack.packfile import LoadedSharePack, ReadLimits, load_share_pack
from sharepack.packfile.errors import Problem
from sharepack.packfile.models import SharePackConfig, Strategy
from sharepack.packfile.object_rules import as_utc
from sharepack.queue.protocol import ClaimedMessage
from sharepack.running.awaiting import PendingApproval, ask_approvers, first_wait, pending_approval
from sharepack.running.status import PackStatus
from sharepack.runtime import Runtime
from sharepack.store import UnitOfWork
from sharepack.usecases.audit import Act, Outcome, record, record_refusal
from sharepack.usecases.directory_check import directory_rule
from sharepack.usecases.queueing import delay_until, message_body, status_line
from sharepack.workspace.errors import (
    InvalidWorkspaceUrlError,
    WorkspaceAuthenticationError,
    WorkspaceCredentialsMissingError,
    WorkspaceError,
)
from sharepack.workspace.urls import is_workspace_url, normalise_workspace_url


@dataclass(frozen=True)
class SubmittedPack:
    share_pack_id: uuid.UUID
    share_pack_name: str
    status: PackStatus
    warnings: tuple[Problem, ...]
    message: ClaimedMessage | None = None  # held by the caller that processes it itself
    #: Where it waits: queued, scheduled, or for approval (its status line says which).
    provisioning_status: str = ""
    approval_state: str | None = None


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
    runtime: Runtime,
    *,
    content: bytes,
    filename: str,
    workspace_url: str,
    caller: Caller,
    not_before: datetime | None = None,
) -> SubmittedPack:
    """Validate the file, check that `caller` may submit it, then write the pack's first
    version, its tenancy links, its audit row and its queue message together. A plan the
    approval policy wants approved is stored with the pack, which then waits for its
    approvers instead of a worker. `not_before` (over the file's own) delays its run.

    Raises `PermissionDeniedError`, `WorkspaceNotAllowedError`, `SpecError` or `PlanError`;
    then nothing is stored but the refusal's audit row.
    """
    try:
        if not caller.principal.submits_anywhere:
            raise PermissionDeniedError(
                f"{caller.name} may not upload share packs: no requestor role for any business line"
            )
        target = check_workspace_allowed(runtime, workspace_url)
        limits = ReadLimits(max_bytes=runtime.settings.sharepack_max_upload_bytes)
        with timed_phase(Phase.VALIDATE):
            loaded = load_share_pack(
                content, filename, limits=limits, extra_rules=(directory_rule(runtime.directory),)
            )
        check_may_submit(caller, loaded.config)
        strategy, notes, preview = preview_strategy(runtime, loaded.config, target)
    except SharePackError as refused:
        record_refused_upload(runtime, caller, refused, filename)
        raise
    warnings = (*loaded.warnings, *(Problem(filename, note.field, note.message) for note in notes))
    business_line = loaded.config.metadata.business_line
    return store_share_pack(
        runtime,
        loaded,
        strategy,
        warnings,
        filename=filename,
        workspace_url=target,
        caller=caller,
        pending=pending_approval(runtime, preview, business_line) if preview else None,
        not_before=not_before,
    )


def check_may_submit(caller: Caller, config: SharePackConfig) -> None:
    """`PermissionDeniedError` unless `caller` is a requestor (or admin) of the pack's
    business line, and the pack's requestor is the caller or the caller may act for others."""
    metadata = config.metadata
    principal = caller.principal
    if not principal.may_submit(metadata.business_line):
        lines = ", ".join(f"'{line}'" for line in principal.business_lines) or "none"
        raise PermissionDeniedError(
            f"{caller.name} may not submit share packs for business line "
            f"'{metadata.business_line}' (metadata.business_line): its requestor roles cover "
            f"{lines}"
        )
    if not principal.may_act_for(metadata.requestor):
        raise PermissionDeniedError(
            f"The pack's requestor '{metadata.requestor}' (metadata.requestor) is not "
            f"{caller.name} ({principal.email or 'no email on record'}): only admins and API "
            "keys made with --acts-for-others submit for someone else"
        )


def record_refused_upload(
    runtime: Runtime, caller: Caller, refused: SharePackError, filename: str
) -> None:
    """The audit row of an upload refused (or failed) before anything was stored."""
    if isinstance(refused, DatabaseUnavailableError | QueueError):
        return  # nowhere to write it; the failure is logged where it is answered
    # The caller's mistakes are refusals; what failed on our side (the workspace, the
    # directory, the database) is a failure.
    failed = (StoreError, WorkspaceError, DirectoryUnavailableError, ConfigurationError)
    outcome = Outcome.FAILED if isinstance(refused, failed) else Outcome.REFUSED
    record_refusal(
        runtime,
        Act.UPLOAD,
        f"{filename}: {refused.message}",
        caller=caller,
        entity_type="share_pack",
        outcome=outcome,
    )


def preview_strategy(
    runtime: Runtime, config: SharePackConfig, workspace_url: str
) -> tuple[Strategy, tuple[PlanWarning, ...], Plan | None]:
    """Plan against the workspace now: the strategy that will apply, what to warn about,
    each warning at the field of the pack it is about (none: the file as a whole), and
    the plan (None when the workspace could not be read now).

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
        return config.metadata.strategy, (PlanWarning(unchecked, ""),), None
    preview = plan(config, before, runtime.plan_options(retired=retired))
    return preview.strategy, preview.located_warnings, preview


def store_share_pack(
    runtime: Runtime,
    loaded: LoadedSharePack,
    strategy: Strategy,
    warnings: tuple[Problem, ...],
    *,
    filename: str,
    workspace_url: str,
    caller: Caller,
    held_by: str | None = None,
    auto_rollback: bool | None = None,
    pending: PendingApproval | None = None,
    not_before: datetime | None = None,
    restores_version: uuid.UUID | None = None,
) -> SubmittedPack:
    """The pack's first version and its message, in one transaction (`write_share_pack`,
    committed)."""
    with runtime.database.unit_of_work() as uow:
        submitted = write_share_pack(
            runtime,
            uow,
            loaded,
            strategy,
            warnings,
            filename=filename,
            workspace_url=workspace_url,
            caller=caller,
            held_by=held_by,
            auto_rollback=auto_rollback,
            pending=pending,
            not_before=not_before,
            restores_version=restores_version,
        )
        uow.commit()
    return submitted


def write_share_pack(
    runtime: Runtime,
    uow: UnitOfWork,
    loaded: LoadedSharePack,
    strategy: Strategy,
    warnings: tuple[Problem, ...],
    *,
    filename: str,
    workspace_url: str,
    caller: Caller,
    held_by: str | None = None,
    auto_rollback: bool | None = None,
    batch_id: uuid.UUID | None = None,
    pending: PendingApproval | None = None,
    not_before: datetime | None = None,
    restores_version: uuid.UUID | None = None,
) -> SubmittedPack:
    """The pack's first version and its message, written in `uow` (the caller commits). A
    caller that processes the pack itself passes `held_by`: the message is leased to it, and
    a worker takes it over only if that caller dies and stops renewing the lease.
    `auto_rollback` (when the caller overrides the setting) travels in the message, so a
    worker that takes the run over keeps the caller's choice.

    The pack is linked to its tenant (business line), project and a new request row,
    found or made here (seed 001's "resolve tenant/project/request"); its requestor is the
    file's, its submitter `caller`. With `pending` the pack waits for approval of that
    plan (no message yet); with a `not_before` in the future (the file's when not given)
    its message is delayed until then, and no caller holds it. `restores_version` marks a
    rollback pack: its completed run is a ROLLBACK version of the project."""
    metadata = loaded.config.metadata
    asked = not_before or metadata.not_before
    when = as_utc(asked) if asked is not None else None
    if when is not None and when > datetime.now(UTC):
        held_by = None  # a scheduled run is a worker's, at its time
    waiting = first_wait(runtime, pending) if pending is not None else None
    pack_id = uuid.uuid4()
    name = share_pack_name(metadata.requestor, datetime.now(UTC))
    with log_context(pack_id=str(pack_id)):
        project = uow.tenancy.resolve(metadata.business_line, metadata.project_name, by=caller.name)
        created = uow.share_packs.create(
            share_pack_id=pack_id,
            share_pack_name=name,
            requested_by=metadata.requestor,
            strategy=strategy.value,
            config=loaded.config.model_dump(mode="json"),
            file_name=filename,
            file_format=loaded.format,
            workspace_url=workspace_url,
            status=PackStatus.IN_PROGRESS.value,
            provisioning_status=(
                waiting.fields["provisioning_status"] if waiting else status_line(when)
            ),
            created_by=metadata.requestor,
            change_reason="Share pack uploaded",
            business_line=metadata.business_line,
            project_name=metadata.project_name,
            submitted_by=caller.name,
            project_id=project.project_id,
            approval_state=waiting.fields["approval_state"] if waiting else None,
            approval_plan=waiting.fields["approval_plan"] if waiting else None,
            not_before=when,
            batch_id=batch_id,
            restores_version=restores_version,
        )
        uow.tenancy.open_request(
            project.project_id, pack_id, requested_by=metadata.requestor, by=caller.name
        )
        record(
            uow,
            caller,
            Act.ROLLBACK
            if restores_version is not None
            else Act.APPLY
            if held_by is not None
            else Act.UPLOAD,
            entity_type="share_pack",
            entity_id=pack_id,
            business_line=metadata.business_line,
            details={
                "file_name": filename,
                "workspace_url": workspace_url,
                "requestor": metadata.requestor,
                "project_name": metadata.project_name,
                **({"restores_version": str(restores_version)} if restores_version else {}),
            },
        )
        body = message_body(
            share_pack_id=str(pack_id), not_before=when, auto_rollback=auto_rollback
        )
        message = None
        with enqueue_span(body, share_pack_id=str(pack_id)):
            if waiting is not None:
                ask_approvers(uow, runtime, created, waiting.progress)
            elif held_by is None:
                runtime.queue.enqueue(body, uow=uow, delay_seconds=delay_until(when))
            else:
                lease = runtime.settings.sharepack_lease_seconds
                message = runtime.queue.enqueue_held(
                    body, holder=held_by, lease_seconds=lease, uow=uow
                )
    return SubmittedPack(
        share_pack_id=pack_id,
        share_pack_name=name,
        status=PackStatus.IN_PROGRESS,
        warnings=warnings,
        message=message,
        provisioning_status=created.provisioning_status or "",
        approval_state=created.approval_state,
    )
