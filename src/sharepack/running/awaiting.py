"""A pack's wait for approval: what its plan needs under the approval policy, the plan put
to the approvers, and the check each run makes that it applies exactly what they
approved. A plan that differs from the approved one (the workspace changed meanwhile),
or approvals that expired, send the pack back to wait, with the difference shown."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sharepack.approvals.decisions import ApprovalProgress, ApprovalState, Decision, progress
from sharepack.approvals.policy import ApprovalGroup
from sharepack.approvals.rules import Requirement, requirements
from sharepack.engine import Plan
from sharepack.engine.plan_text import plan_digest, plan_lines
from sharepack.notify.events import NotificationEvent
from sharepack.running.notices import tell
from sharepack.running.settle import ACTOR, PackVersions
from sharepack.runtime import Runtime
from sharepack.store import SharePackRecord, UnitOfWork

#: The most lines of a changed plan's difference the pack's status carries.
_SHOWN_DIFFERENCES = 12


@dataclass(frozen=True)
class PendingApproval:
    """A plan that needs approval, and what it needs."""

    plan: Plan
    digest: str
    requirements: tuple[Requirement, ...]


def pending_approval(
    runtime: Runtime, the_plan: Plan, business_line: str
) -> PendingApproval | None:
    """What `the_plan` needs approved under the policy; None if nothing (or no policy)."""
    policy = runtime.approval_policy
    if policy is None:
        return None
    needed = requirements(policy, the_plan, business_line)
    if not needed:
        return None
    return PendingApproval(the_plan, plan_digest(the_plan), needed)


def requirement_to_dict(requirement: Requirement) -> dict[str, Any]:
    group = requirement.group
    return {
        "level": requirement.level,
        "group": group.name,
        "group_id": group.id,
        "notify": list(group.notify),
        "count": requirement.count,
        "reasons": list(requirement.reasons),
    }


def requirements_of(document: dict[str, Any]) -> tuple[Requirement, ...]:
    """The requirements a stored plan was put to approvers with."""
    return tuple(
        Requirement(
            level=int(entry["level"]),
            group=ApprovalGroup(
                name=entry["group"], id=entry["group_id"], notify=tuple(entry["notify"])
            ),
            count=int(entry["count"]),
            reasons=tuple(entry["reasons"]),
        )
        for entry in document.get("requirements", [])
    )


def decisions_of(uow: UnitOfWork, record: SharePackRecord) -> list[Decision]:
    return [
        Decision(
            level=row.level,
            group_name=row.group_name,
            approver=row.approver,
            approver_email=row.approver_email,
            decision="REJECTED" if row.decision == "REJECTED" else "APPROVED",
            comment=row.comment,
            at=row.created_at,
            plan_digest=row.plan_digest,
        )
        for row in uow.approval_decisions.for_pack(record.share_pack_id)
    ]


def progress_of(
    uow: UnitOfWork,
    runtime: Runtime,
    record: SharePackRecord,
    needed: tuple[Requirement, ...],
    digest: str,
) -> ApprovalProgress:
    """How far the approval of the plan `digest` names has come: decisions on other plans,
    and approvals older than the expiry setting, do not count."""
    expiry = timedelta(hours=runtime.settings.sharepack_approval_expiry_hours)
    return progress(
        needed,
        decisions_of(uow, record),
        plan_digest=digest,
        now=datetime.now(UTC),
        expires_after=expiry,
    )


def approval_document(
    pending: PendingApproval, *, reason: str = "", earlier: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The plan as its approvers see it (`sharepack plan`'s lines), its digest and what it
    needs; with the difference from the `earlier` plan put to them, when there was one."""
    lines = plan_lines(pending.plan)
    document: dict[str, Any] = {
        "digest": pending.digest,
        "lines": lines,
        "summary": pending.plan.summary(),
        "requirements": [requirement_to_dict(r) for r in pending.requirements],
        "reason": reason,
        "changed": [],
    }
    if earlier and earlier.get("lines") and earlier.get("digest") != pending.digest:
        diff = difflib.unified_diff(earlier["lines"], lines, lineterm="", n=0)
        document["changed"] = [
            line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
    return document


@dataclass(frozen=True)
class FirstWait:
    """A new pack's wait: its columns and how far its approval has come (nowhere yet)."""

    fields: dict[str, Any]
    progress: ApprovalProgress


def first_wait(runtime: Runtime, pending: PendingApproval) -> FirstWait:
    """The columns of a pack stored to wait for approval of `pending`'s plan."""
    expiry = timedelta(hours=runtime.settings.sharepack_approval_expiry_hours)
    now = progress(
        pending.requirements,
        [],
        plan_digest=pending.digest,
        now=datetime.now(UTC),
        expires_after=expiry,
    )
    return FirstWait(approval_fields(now, approval_document(pending)), now)


def approval_fields(progress_now: ApprovalProgress, document: dict[str, Any]) -> dict[str, Any]:
    """The pack's columns while it waits: its state, the plan, and the status line."""
    line = progress_now.status_line
    if document["reason"]:
        line = f"{line}; {document['reason']}"
    if document["changed"]:
        shown = document["changed"][:_SHOWN_DIFFERENCES]
        line = f"{line}. Changed: {' | '.join(s.strip() for s in shown)}"
    return {
        "approval_state": ApprovalState.AWAITING_APPROVAL.value,
        "approval_plan": document,
        "provisioning_status": line[:500],
    }


def approvers_of(
    uow: UnitOfWork, needed: tuple[Requirement, ...], level: int | None
) -> tuple[str, ...]:
    """Whom to ask at `level` (the first when None): each group's `notify` addresses and
    its members as the directory sync last saw them."""
    wanted = [r for r in needed if level is None or r.level == level]
    if level is None and needed:
        first = min(r.level for r in needed)
        wanted = [r for r in needed if r.level == first]
    members = uow.approval_decisions.group_members(r.group.id for r in wanted)
    addresses: list[str] = []
    for requirement in wanted:
        addresses.extend(requirement.group.notify)
        addresses.extend(members.get(requirement.group.id.casefold(), ()))
    return tuple(addresses)


def ask_approvers(
    uow: UnitOfWork,
    runtime: Runtime,
    record: SharePackRecord,
    progress_now: ApprovalProgress,
) -> None:
    """Tell the approvers of the level the pack waits at that it waits for them."""
    document = record.approval_plan or {}
    needed = requirements_of(document)
    tell(
        uow,
        runtime,
        record,
        NotificationEvent.AWAITING_APPROVAL,
        to=approvers_of(uow, needed, progress_now.level),
        summary=document.get("lines", ()),
        detail=record.provisioning_status or progress_now.status_line,
    )


def await_again(
    uow: UnitOfWork,
    runtime: Runtime,
    record: SharePackRecord,
    pending: PendingApproval,
    *,
    reason: str,
    created_by: str,
) -> SharePackRecord:
    """The pack waits for approval of `pending`'s plan (a new version, its run given up:
    `started_at` cleared), and its approvers are asked."""
    document = approval_document(pending, reason=reason, earlier=record.approval_plan)
    now = progress_of(uow, runtime, record, pending.requirements, pending.digest)
    updated = uow.share_packs.update(
        record.share_pack_id,
        created_by=created_by,
        change_reason=f"Awaiting approval: {reason}"[:500],
        started_at=None,
        **approval_fields(now, document),
    )
    ask_approvers(uow, runtime, updated, now)
    return updated


def why_again(record: SharePackRecord, pending: PendingApproval) -> str:
    """Why a run found its plan not approved."""
    earlier = record.approval_plan
    if earlier is None:
        return "the plan needs approval"
    if earlier.get("digest") != pending.digest:
        if record.approval_state == ApprovalState.APPROVED.value:
            return "the workspace changed after the plan was approved: approve the new plan"
        return "the plan changed since it was put to approvers"
    return "approvals expired before the run started"


def approved_as_planned(pack: PackVersions, the_plan: Plan) -> bool:
    """Whether the run may apply `the_plan`: it needs no approval, or exactly this plan
    was approved and the approvals still hold. Otherwise the pack waits again (its
    approvers asked, the difference shown) and the run ends having changed nothing."""
    runtime, record = pack.runtime, pack.record
    pending = pending_approval(runtime, the_plan, record.business_line or "")
    if pending is None:
        return True
    with runtime.database.unit_of_work() as uow:
        now = progress_of(uow, runtime, record, pending.requirements, pending.digest)
        if now.state is ApprovalState.APPROVED:
            return True
        reason = why_again(record, pending)
        pack.record = await_again(uow, runtime, record, pending, reason=reason, created_by=ACTOR)
        uow.commit()
    return False
