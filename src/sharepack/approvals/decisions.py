"""Approvers' decisions on a plan: how far its approval has come, and whose may count.

Pure: decisions are values (as stored, append-only), and the time is given. A decision
counts for the plan whose digest it names, while it is not older than the expiry; one
person counts once; and a level's approvals count only when given after every earlier
level was complete (`check_approver` refuses them before then).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from sharepack.approvals.policy_types import ApprovalGroup
from sharepack.approvals.rules import Requirement
from sharepack.errors import ApprovalRefusedError


class ApprovalState(StrEnum):
    NOT_REQUIRED = "NOT_REQUIRED"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class Decision:
    """One approver's decision, at `level` for the group named `group_name`, on the plan
    whose digest is `plan_digest`."""

    level: int
    group_name: str
    approver: str
    approver_email: str | None
    decision: Literal["APPROVED", "REJECTED"]
    comment: str | None
    at: datetime
    plan_digest: str


@dataclass(frozen=True)
class Approver:
    """Who approves or rejects: `group_ids` are the directory group ids their token
    carries; `member_of` the policy's group names the directory puts their email in."""

    name: str
    email: str | None
    group_ids: frozenset[str] = frozenset()
    member_of: frozenset[str] = frozenset()

    def is_member(self, group: ApprovalGroup) -> bool:
        ids = {group_id.strip().casefold() for group_id in self.group_ids}
        names = {name.strip().casefold() for name in self.member_of}
        return group.id.casefold() in ids or group.name.casefold() in names

    def made(self, decision: Decision) -> bool:
        """Whether `decision` is this person's (same name or same email)."""
        return _same(self.name, decision.approver) or _same(self.email, decision.approver_email)


@dataclass(frozen=True)
class RequirementProgress:
    """A requirement and the approvals that count for it (distinct people, oldest first)."""

    requirement: Requirement
    approvals: tuple[Decision, ...] = ()

    @property
    def approved(self) -> int:
        return len(self.approvals)

    @property
    def complete(self) -> bool:
        return self.approved >= self.requirement.count

    def describe(self) -> str:
        required = self.requirement
        return (
            f"{self.approved} of {required.count} (level {required.level}: {required.group.name})"
        )


@dataclass(frozen=True)
class ApprovalProgress:
    """Where a plan's approval stands: `level` is the one awaiting approvals (None unless
    AWAITING_APPROVAL); `rejection` the first rejection of this plan, if any."""

    state: ApprovalState
    level: int | None
    requirements: tuple[RequirementProgress, ...]
    rejection: Decision | None = None

    @property
    def status_line(self) -> str:
        """`Awaiting approval: 0 of 2 (level 1: data-owners)`, and the like for each state."""
        match self.state:
            case ApprovalState.NOT_REQUIRED:
                return "No approval required"
            case ApprovalState.AWAITING_APPROVAL:
                waiting = (
                    p.describe() for p in self.requirements if p.requirement.level == self.level
                )
                return f"Awaiting approval: {', '.join(waiting)}"
            case ApprovalState.APPROVED:
                return f"Approved: {', '.join(p.describe() for p in self.requirements)}"
            case ApprovalState.REJECTED:
                return f"Rejected by {_who(self.rejection)}"

    def approved_by(self, approver: Approver) -> bool:
        """Whether an approval of `approver` counts already, at any level."""
        return any(approver.made(d) for p in self.requirements for d in p.approvals)


def progress(
    requirements: tuple[Requirement, ...],
    decisions: Iterable[Decision],
    *,
    plan_digest: str,
    now: datetime,
    expires_after: timedelta,
) -> ApprovalProgress:
    """How far the approval of the plan with `plan_digest` has come at `now`."""
    mine = sorted((d for d in decisions if d.plan_digest == plan_digest), key=lambda d: d.at)
    if not requirements:
        return ApprovalProgress(ApprovalState.NOT_REQUIRED, None, ())
    rejection = next((d for d in mine if d.decision == "REJECTED"), None)
    valid = [d for d in mine if d.decision == "APPROVED" and now - d.at <= expires_after]
    counted: list[RequirementProgress] = []
    awaiting: int | None = None
    complete_at: datetime | None = None
    for level in sorted({r.level for r in requirements}):
        at_level = [r for r in requirements if r.level == level]
        if awaiting is not None:
            counted.extend(RequirementProgress(r) for r in at_level)
            continue
        given = [d for d in valid if complete_at is None or d.at >= complete_at]
        level_progress = _level_progress(at_level, given, counted)
        counted.extend(level_progress)
        if all(p.complete for p in level_progress):
            complete_at = max(p.approvals[p.requirement.count - 1].at for p in level_progress)
        else:
            awaiting = level
    if rejection is not None:
        return ApprovalProgress(ApprovalState.REJECTED, None, tuple(counted), rejection)
    if awaiting is None:
        return ApprovalProgress(ApprovalState.APPROVED, None, tuple(counted))
    return ApprovalProgress(ApprovalState.AWAITING_APPROVAL, awaiting, tuple(counted))


def _level_progress(
    at_level: list[Requirement], given: list[Decision], earlier: list[RequirementProgress]
) -> list[RequirementProgress]:
    """The approvals (oldest first) that count at one level: one per person, who has not
    counted at an earlier level already."""
    people = [d for p in earlier for d in p.approvals]
    approvals: dict[str, list[Decision]] = {r.group.name: [] for r in at_level}
    level = at_level[0].level
    for decision in given:
        if decision.level != level or decision.group_name not in approvals:
            continue
        if any(_same_person(decision, other) for other in people):
            continue
        approvals[decision.group_name].append(decision)
        people.append(decision)
    return [RequirementProgress(r, tuple(approvals[r.group.name])) for r in at_level]


def check_approver(
    requirements: tuple[Requirement, ...],
    progress: ApprovalProgress,
    approver: Approver,
    *,
    requestor: str,
    submitter: str | None,
) -> Requirement:
    """The requirement an approval by `approver` counts for; `ApprovalRefusedError` saying
    why when none: nothing awaits, four eyes, already approved, not a member of a group
    awaiting at the current level, or that group has its approvals."""
    awaiting = _awaiting(progress, approver, "approve")
    _check_four_eyes(approver, "approve", requestor=requestor, submitter=submitter)
    if progress.approved_by(approver):
        raise ApprovalRefusedError(
            f"{approver.name} may not approve this plan: they have approved it already "
            "(one person's approval counts once)"
        )
    mine = [p for p in awaiting if approver.is_member(p.requirement.group)]
    if not mine:
        later = [r for r in requirements if r.level > awaiting[0].requirement.level]
        raise ApprovalRefusedError(_not_a_member(approver, awaiting, later))
    still = [p for p in mine if not p.complete]
    if not still:
        groups = ", ".join(p.requirement.group.name for p in mine)
        raise ApprovalRefusedError(
            f"{approver.name} may not approve this plan now: {groups} have all the approvals "
            f"asked of them; still awaited: {_waiting(awaiting)}"
        )
    return still[0].requirement


def check_rejecter(
    requirements: tuple[Requirement, ...],
    progress: ApprovalProgress,
    approver: Approver,
    *,
    requestor: str,
    submitter: str | None,
) -> Requirement:
    """The requirement a rejection by `approver` is recorded for (at the current level if
    they are asked there, else their first); `ApprovalRefusedError` when nothing awaits,
    by four eyes, or when they are a member of no group the plan requires."""
    awaiting = _awaiting(progress, approver, "reject")
    _check_four_eyes(approver, "reject", requestor=requestor, submitter=submitter)
    current = [p.requirement for p in awaiting if approver.is_member(p.requirement.group)]
    anywhere = [r for r in requirements if approver.is_member(r.group)]
    if current:
        return current[0]
    if anywhere:
        return anywhere[0]
    groups = ", ".join(dict.fromkeys(f"{r.group.name} (level {r.level})" for r in requirements))
    raise ApprovalRefusedError(
        f"{approver.name} may not reject this plan: they are a member of none of the groups "
        f"it requires: {groups}"
    )


def _awaiting(
    progress: ApprovalProgress, approver: Approver, verb: str
) -> list[RequirementProgress]:
    """The requirements of the level awaiting approval; refused when none awaits."""
    match progress.state:
        case ApprovalState.NOT_REQUIRED:
            why = "it needs no approval"
        case ApprovalState.APPROVED:
            why = "it is approved already"
        case ApprovalState.REJECTED:
            why = f"it was rejected by {_who(progress.rejection)}"
        case ApprovalState.AWAITING_APPROVAL:
            return [p for p in progress.requirements if p.requirement.level == progress.level]
    raise ApprovalRefusedError(f"{approver.name} may not {verb} this plan: {why}")


def _check_four_eyes(
    approver: Approver, verb: str, *, requestor: str, submitter: str | None
) -> None:
    if _same(approver.email, requestor) or _same(approver.name, requestor):
        raise ApprovalRefusedError(
            f"{approver.name} may not {verb} this plan: they are the pack's requestor "
            f"({requestor}), and a pack is approved by someone other than who asked for it"
        )
    if _same(approver.name, submitter) or _same(approver.email, submitter):
        raise ApprovalRefusedError(
            f"{approver.name} may not {verb} this plan: they submitted the pack ({submitter}), "
            "and a pack is approved by someone other than who submitted it"
        )


def _not_a_member(
    approver: Approver, awaiting: list[RequirementProgress], later: list[Requirement]
) -> str:
    level = awaiting[0].requirement.level
    asked = ", ".join(p.requirement.group.name for p in awaiting)
    text = (
        f"{approver.name} may not approve this plan now: level {level} awaits approval from "
        f"{asked}, and they are a member of none of them"
    )
    theirs = [r for r in later if approver.is_member(r.group)]
    if theirs:
        text += (
            f"; their group {theirs[0].group.name} approves at level {theirs[0].level}, "
            f"once level {level} is complete ({_waiting(awaiting)})"
        )
    return text


def _waiting(awaiting: list[RequirementProgress]) -> str:
    return ", ".join(p.describe() for p in awaiting if not p.complete)


def _who(decision: Decision | None) -> str:
    if decision is None:
        return "an approver"
    where = f"{decision.approver} (level {decision.level}: {decision.group_name})"
    return f"{where}: {decision.comment}" if decision.comment else where


def _same_person(a: Decision, b: Decision) -> bool:
    return _same(a.approver, b.approver) or _same(a.approver_email, b.approver_email)


def _same(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return a.strip().casefold() == b.strip().casefold()
