"""Which approvals a plan needs under a policy: a pure function of the two."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase

from sharepack.approvals.policy_types import (
    ApprovalGroup,
    ApprovalPolicy,
    Condition,
    CreatesTokenRecipient,
    Deletes,
    GrantsShare,
    SharesObjects,
)
from sharepack.engine.actions import (
    CreateRecipient,
    DeletePipeline,
    DeleteRecipient,
    DeleteScheduleJob,
    DeleteShare,
    PlanAction,
    UpdateShareGrants,
    UpdateShareObjectOptions,
    UpdateShareObjects,
)
from sharepack.engine.plan import Plan
from sharepack.workspace.state import AuthenticationType


@dataclass(frozen=True)
class Requirement:
    """`count` distinct members of `group` approve at `level`; `reasons` say which rule
    asked for it and what in the plan it matched (`"<rule>: creates TOKEN recipient acme"`)."""

    level: int
    group: ApprovalGroup
    count: int
    reasons: tuple[str, ...]


def requirements(
    policy: ApprovalPolicy, plan: Plan, business_line: str | None
) -> tuple[Requirement, ...]:
    """The approvals `plan` (of a pack of `business_line`) needs: the entries of every rule
    that matches, one per (level, group) with the largest count, ordered by level then
    group name; the policy's level numbers are kept. Empty: no approval is needed."""
    counts: dict[tuple[int, str], int] = {}
    groups: dict[str, ApprovalGroup] = {}
    reasons: dict[tuple[int, str], list[str]] = {}
    for rule in policy.rules:
        if not rule.covers(business_line):
            continue
        matched = [f"{rule.name}: {what}" for what in matches(rule.when, plan.actions)]
        if not matched:
            continue
        for required in rule.require:
            key = (required.level, required.group.name)
            counts[key] = max(counts.get(key, 0), required.count)
            groups[required.group.name] = required.group
            known = reasons.setdefault(key, [])
            known.extend(reason for reason in matched if reason not in known)
    return tuple(
        Requirement(
            level=level,
            group=groups[name],
            count=counts[level, name],
            reasons=tuple(reasons[level, name]),
        )
        for level, name in sorted(counts)
    )


def matches(condition: Condition, actions: Iterable[PlanAction]) -> tuple[str, ...]:
    """What in `actions` the condition matches, each said once, in the plan's order."""
    found = dict.fromkeys(what for action in actions for what in _matched(condition, action))
    return tuple(found)


def _matched(condition: Condition, action: PlanAction) -> Iterator[str]:
    match condition:
        case CreatesTokenRecipient():
            if (
                isinstance(action, CreateRecipient)
                and action.recipient.authentication_type is AuthenticationType.TOKEN
            ):
                yield f"creates TOKEN recipient {action.resource}"
        case GrantsShare(shares=shares, recipients=recipients):
            if isinstance(action, UpdateShareGrants) and _any(action.resource, shares):
                for grantee in action.add_grantees:
                    if _any(grantee, recipients):
                        yield f"grants share {action.resource} to {grantee}"
        case SharesObjects():
            yield from _shared_objects(condition, action)
        case Deletes():
            yield from _deleted(action)


def _shared_objects(condition: SharesObjects, action: PlanAction) -> Iterator[str]:
    if isinstance(action, UpdateShareObjects):
        changed, verb = action.add_objects, "shares {} in share {}"
    elif isinstance(action, UpdateShareObjectOptions):
        changed, verb = action.changed_objects, "changes the sharing options of {} in share {}"
    else:
        return
    for obj in changed:
        catalog = obj.name.split(".", 1)[0]
        if _any(catalog, condition.catalogs) and _any(obj.name, condition.names):
            yield verb.format(obj.name, action.resource)


def _deleted(action: PlanAction) -> Iterator[str]:
    match action:
        case DeleteRecipient():
            yield f"deletes recipient {action.resource}"
        case DeleteShare():
            yield f"deletes share {action.resource}"
        case DeletePipeline():
            yield f"deletes pipeline {action.resource}"
        case DeleteScheduleJob():
            yield f"deletes schedule job {action.resource}"
        case UpdateShareObjects():
            for name in action.remove_objects:
                yield f"removes {name} from share {action.resource}"
        case UpdateShareGrants():
            for grantee in action.remove_grantees:
                yield f"revokes share {action.resource} from {grantee}"
        case _:
            return


def _any(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether `name` matches one of the shell globs, ignoring case as Unity Catalog does."""
    folded = name.casefold()
    return any(fnmatchcase(folded, pattern.casefold()) for pattern in patterns)
