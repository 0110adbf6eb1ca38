"""Use cases: approvers see a waiting pack's plan and approve or reject it; its requestor
(or an admin) cancels a pack that has not started. Every decision is written with the
pack's next version, its audit row and its notices, in one transaction, under the pack's
lock, so two approvers at once are counted one after the other."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sharepack.approvals.decisions import (
    ApprovalProgress,
    ApprovalState,
    Approver,
    check_approver,
    check_rejecter,
)
from sharepack.approvals.rules import Requirement
from sharepack.errors import NotFoundError, PackStateError, PermissionDeniedError
from sharepack.identity.principal import Caller, Role
from sharepack.notify.events import NotificationEvent
from sharepack.running.awaiting import (
    approvers_of,
    ask_approvers,
    decisions_of,
    progress_of,
    requirements_of,
)
from sharepack.running.notices import tell
from sharepack.running.status import PackStatus, RollbackOutcome
from sharepack.runtime import Runtime
from sharepack.store import SharePackRecord, UnitOfWork
from sharepack.store.approvals import DecisionRecord
from sharepack.usecases.audit import Act, record, record_refusal
from sharepack.usecases.queries import unknown_pack
from sharepack.usecases.queueing import queue_pack


@dataclass(frozen=True)
class ApprovalView:
    """A pack's approval as approvers see it: the plan's lines, what it needs, how far it
    has come, and every decision recorded (on this plan or earlier ones)."""

    record: SharePackRecord
    requirements: tuple[Requirement, ...]
    progress: ApprovalProgress | None
    decisions: tuple[DecisionRecord, ...]

    @property
    def plan_lines(self) -> tuple[str, ...]:
        return tuple((self.record.approval_plan or {}).get("lines", ()))

    @property
    def changed(self) -> tuple[str, ...]:
        return tuple((self.record.approval_plan or {}).get("changed", ()))


def approval_view(runtime: Runtime, caller: Caller, share_pack_id: uuid.UUID) -> ApprovalView:
    """What `caller` (who may read the pack's business line) sees of its approval."""
    with runtime.database.unit_of_work() as uow:
        current = uow.share_packs.get_current(share_pack_id)
        _check_readable(caller, current, share_pack_id)
        document = current.approval_plan or {}
        needed = requirements_of(document)
        progress = (
            progress_of(uow, runtime, current, needed, document["digest"]) if needed else None
        )
        decisions = tuple(uow.approval_decisions.for_pack(share_pack_id))
    return ApprovalView(current, needed, progress, decisions)


def counted_approvals(progress: ApprovalProgress | None) -> dict[tuple[int, str], int]:
    """(level, group) -> the approvals of the current plan that count there."""
    if progress is None:
        return {}
    return {
        (p.requirement.level, p.requirement.group.name): p.approved for p in progress.requirements
    }


def awaiting_approval(runtime: Runtime, caller: Caller, limit: int = 100) -> list[SharePackRecord]:
    """Packs waiting for approval that `caller` may read, newest first."""
    with runtime.database.reading() as uow:
        waiting = uow.share_packs.list_current(status=PackStatus.IN_PROGRESS.value, limit=10_000)
    return [
        pack
        for pack in waiting
        if pack.approval_state == ApprovalState.AWAITING_APPROVAL.value
        and caller.principal.may_read(pack.business_line)
    ][:limit]


def decide(
    runtime: Runtime, caller: Caller, share_pack_id: uuid.UUID, *, approve: bool, comment: str
) -> SharePackRecord:
    """Record `caller`'s approval or rejection of the plan the pack waits with.

    Approved at every level: the pack is queued (or scheduled). Rejected: it ends FAILED
    with the reason. Raises `NotFoundError`, `PermissionDeniedError` (not an approver of
    the business line; four eyes; not a member of a group the level needs; approved
    already) or `PackStateError` (nothing awaits approval)."""
    act = Act.APPROVE if approve else Act.REJECT
    with _acting_on(runtime, caller, act, share_pack_id) as (uow, current):
        updated = _decide(uow, runtime, caller, current, approve=approve, comment=comment)
        record(
            uow,
            caller,
            act,
            entity_type="share_pack",
            entity_id=share_pack_id,
            business_line=current.business_line,
            details={"comment": comment, "approval": updated.provisioning_status},
        )
    return updated


@contextmanager
def _acting_on(
    runtime: Runtime, caller: Caller, act: Act, share_pack_id: uuid.UUID
) -> Iterator[tuple[UnitOfWork, SharePackRecord]]:
    """The pack's current version, locked, in a transaction committed when the block ends.
    A refusal (an unknown or unreadable pack, a caller not allowed, a state that does not
    allow it) is put on the audit trail and raised; nothing else is written."""
    try:
        with runtime.database.unit_of_work() as uow:
            current = uow.share_packs.get_locked(share_pack_id)
            _check_readable(caller, current, share_pack_id)
            yield uow, current
            uow.commit()
    except (NotFoundError, PermissionDeniedError, PackStateError) as refused:
        record_refusal(
            runtime,
            act,
            refused.message,
            caller=caller,
            entity_type="share_pack",
            entity_id=share_pack_id,
        )
        raise


def _decide(
    uow: UnitOfWork,
    runtime: Runtime,
    caller: Caller,
    current: SharePackRecord,
    *,
    approve: bool,
    comment: str,
) -> SharePackRecord:
    if (
        current.share_pack_status != PackStatus.IN_PROGRESS.value
        or current.approval_state != ApprovalState.AWAITING_APPROVAL.value
    ):
        raise PackStateError(
            f"Share pack {current.share_pack_id} is not awaiting approval (Status "
            f"{current.share_pack_status}, approval {current.approval_state or 'not required'})"
        )
    principal = caller.principal
    if not principal.has_role(Role.APPROVER, current.business_line):
        raise PermissionDeniedError(
            f"{caller.name} may not approve share packs of business line "
            f"'{current.business_line}': no approver role for it"
        )
    document = current.approval_plan or {}
    digest = document["digest"]
    needed = requirements_of(document)
    before = progress_of(uow, runtime, current, needed, digest)
    approver = _approver(uow, caller, needed)
    people = {"requestor": current.requested_by, "submitter": current.submitted_by or ""}
    if not approve:
        at = check_rejecter(needed, before, approver, **people)
        _write_decision(uow, current, digest, at.level, at.group.name, caller, "REJECTED", comment)
        return _rejected(uow, runtime, caller, current, comment)
    requirement = check_approver(needed, before, approver, **people)
    _write_decision(
        uow, current, digest, requirement.level, requirement.group.name, caller, "APPROVED", comment
    )
    after = progress_of(uow, runtime, current, needed, digest)
    if after.state is ApprovalState.APPROVED:
        return _approved(uow, runtime, caller, current, after)
    updated = uow.share_packs.update(
        current.share_pack_id,
        created_by=caller.name,
        change_reason=(
            f"Approved by {caller.name} (level {requirement.level}: {requirement.group.name})"
        )[:500],
        provisioning_status=after.status_line[:500],
    )
    if after.level != before.level:
        ask_approvers(uow, runtime, updated, after)
    return updated


def _approver(uow: UnitOfWork, caller: Caller, needed: tuple[Requirement, ...]) -> Approver:
    """`caller` as the policy sees an approver: the groups its token names, and those the
    directory (as last synced) lists its address in."""
    principal = caller.principal
    email = (principal.email or "").casefold()
    members = uow.approval_decisions.group_members(r.group.id for r in needed)
    member_of = frozenset(
        r.group.name
        for r in needed
        if email and email in {m.casefold() for m in members.get(r.group.id.casefold(), ())}
    )
    return Approver(
        name=caller.name,
        email=principal.email,
        group_ids=frozenset(principal.groups),
        member_of=member_of,
    )


def _write_decision(
    uow: UnitOfWork,
    current: SharePackRecord,
    digest: str,
    level: int,
    group: str,
    caller: Caller,
    decision: str,
    comment: str,
) -> None:
    uow.approval_decisions.record(
        share_pack_id=current.share_pack_id,
        plan_digest=digest,
        level=level,
        group_name=group,
        approver=caller.name,
        approver_email=caller.principal.email,
        decision=decision,
        comment=comment or None,
    )


def _approved(
    uow: UnitOfWork,
    runtime: Runtime,
    caller: Caller,
    current: SharePackRecord,
    after: ApprovalProgress,
) -> SharePackRecord:
    """Every level approved: the pack is queued (or scheduled) and its people told."""
    digest = (current.approval_plan or {}).get("digest")
    approvers = sorted(
        {
            d.approver
            for d in decisions_of(uow, current)
            if d.decision == "APPROVED" and d.plan_digest == digest
        }
    )
    line = queue_pack(uow, runtime, current, approved_by=approvers)
    updated = uow.share_packs.update(
        current.share_pack_id,
        created_by=caller.name,
        change_reason=f"Approved by {', '.join(approvers)}"[:500],
        approval_state=ApprovalState.APPROVED.value,
        provisioning_status=line[:500],
    )
    tell(
        uow,
        runtime,
        updated,
        NotificationEvent.APPROVED,
        summary=(current.approval_plan or {}).get("lines", ()),
        detail=line,
        actor=caller.name,
    )
    return updated


def _rejected(
    uow: UnitOfWork, runtime: Runtime, caller: Caller, current: SharePackRecord, comment: str
) -> SharePackRecord:
    reason = f"Rejected by {caller.name}" + (f": {comment}" if comment else "")
    updated = _end_failed(
        uow,
        caller,
        current,
        reason,
        "Rejected; nothing was changed",
        approval_state=ApprovalState.REJECTED.value,
    )
    tell(uow, runtime, updated, NotificationEvent.REJECTED, detail=reason, actor=caller.name)
    return updated


def cancel(runtime: Runtime, caller: Caller, share_pack_id: uuid.UUID) -> SharePackRecord:
    """End a pack that waits (for approval, its time, or a worker) FAILED with "Cancelled
    by ...": nothing in the workspace is touched. Its requestor, its submitter or an admin
    may; `PackStateError` once a worker has taken its run up (or it has ended)."""
    with _acting_on(runtime, caller, Act.CANCEL, share_pack_id) as (uow, current):
        _check_may_cancel(caller, current)
        updated = _end_failed(
            uow, caller, current, f"Cancelled by {caller.name}", "Cancelled before its run"
        )
        _tell_cancelled(uow, runtime, caller, current, updated)
        record(
            uow,
            caller,
            Act.CANCEL,
            entity_type="share_pack",
            entity_id=share_pack_id,
            business_line=current.business_line,
        )
    return updated


def _tell_cancelled(
    uow: UnitOfWork,
    runtime: Runtime,
    caller: Caller,
    current: SharePackRecord,
    updated: SharePackRecord,
) -> None:
    """The pack's people, and the approvers it was waiting for, that it was cancelled."""
    detail = f"Cancelled by {caller.name}"
    tell(uow, runtime, updated, NotificationEvent.CANCELLED, detail=detail, actor=caller.name)
    if current.approval_state != ApprovalState.AWAITING_APPROVAL.value:
        return
    approvers = approvers_of(uow, requirements_of(current.approval_plan or {}), None)
    if approvers:
        tell(
            uow,
            runtime,
            updated,
            NotificationEvent.CANCELLED,
            to=approvers,
            detail=f"{detail}: no approval is needed any more",
            actor=caller.name,
        )


def _check_may_cancel(caller: Caller, current: SharePackRecord) -> None:
    principal = caller.principal
    own = {current.requested_by.casefold(), (current.submitted_by or "").casefold()}
    mine = {caller.name.casefold(), (principal.email or "").casefold()} & own - {""}
    if not (principal.has_role(Role.ADMIN, current.business_line) or mine):
        raise PermissionDeniedError(
            f"{caller.name} may not cancel share pack {current.share_pack_id}: only its "
            f"requestor ({current.requested_by}), its submitter or an admin may"
        )
    if current.share_pack_status != PackStatus.IN_PROGRESS.value:
        raise PackStateError(
            f"Share pack {current.share_pack_id} has ended ({current.share_pack_status}): "
            "there is nothing to cancel"
        )
    if current.started_at is not None:
        raise PackStateError(
            f"Share pack {current.share_pack_id} can no longer be cancelled: a worker took "
            f"its run up at {current.started_at.isoformat()}; it completes, or its changes "
            "are undone"
        )


def _end_failed(
    uow: UnitOfWork,
    caller: Caller,
    current: SharePackRecord,
    error: str,
    line: str,
    **changes: object,
) -> SharePackRecord:
    """FAILED before any change was made, and the pack's request ended with it."""
    updated = uow.share_packs.update(
        current.share_pack_id,
        created_by=caller.name,
        change_reason=error[:500],
        share_pack_status=PackStatus.FAILED.value,
        provisioning_status=line,
        error_message=error,
        rollback_status=RollbackOutcome.NOT_NEEDED.value,
        **changes,
    )
    uow.tenancy.request_ended(current.share_pack_id, PackStatus.FAILED.value, by=caller.name)
    return updated


def _check_readable(caller: Caller, current: SharePackRecord, share_pack_id: uuid.UUID) -> None:
    """A pack of a business line `caller` may not read is answered as unknown."""
    if not caller.principal.may_read(current.business_line):
        raise NotFoundError(unknown_pack(share_pack_id))
