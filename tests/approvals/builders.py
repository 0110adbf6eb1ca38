"""Values the approval tests are made of: groups, rules, plans of hand-made actions."""

from __future__ import annotations

from datetime import UTC, datetime

from sharepack.approvals.decisions import Approver, Decision
from sharepack.approvals.policy_types import (
    ApprovalGroup,
    ApprovalPolicy,
    ApprovalRule,
    Condition,
    RequiredApproval,
)
from sharepack.engine.actions import (
    CreateRecipient,
    PlanAction,
    UpdateShareGrants,
    UpdateShareObjectOptions,
    UpdateShareObjects,
)
from sharepack.engine.plan import Plan, ResourceNames
from sharepack.packfile.models import Strategy
from sharepack.workspace.state import (
    AuthenticationType,
    HistoryDataSharingStatus,
    RecipientState,
    ShareObjectState,
)

OWNERS = ApprovalGroup("data-owners", "3f2c9a4e-0b6d-4c1e-9f7a-2d5e8b1c0a93", ("o@example.com",))
SECURITY = ApprovalGroup("security", "8e1d5b7a-2c4f-4a6e-9b3d-1f0e2d4c6a8b")
METASTORE = "azure:eastus:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
DIGEST = "a" * 64
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def rule(
    name: str,
    when: Condition,
    *require: RequiredApproval,
    business_lines: tuple[str, ...] = ("*",),
) -> ApprovalRule:
    return ApprovalRule(name=name, when=when, require=require, business_lines=business_lines)


def policy_of(*rules: ApprovalRule) -> ApprovalPolicy:
    return ApprovalPolicy(groups=(OWNERS, SECURITY), rules=rules)


def plan_of(*actions: PlanAction) -> Plan:
    return Plan(actions=actions, strategy=Strategy.UPDATE, names=ResourceNames())


def token_recipient(name: str) -> CreateRecipient:
    state = RecipientState(name=name, authentication_type=AuthenticationType.TOKEN)
    return CreateRecipient(f"create-recipient:{name}", name, recipient=state)


def d2d_recipient(name: str) -> CreateRecipient:
    state = RecipientState(
        name=name, authentication_type=AuthenticationType.DATABRICKS, metastore_id=METASTORE
    )
    return CreateRecipient(f"create-recipient:{name}", name, recipient=state)


def grants(
    share: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()
) -> UpdateShareGrants:
    return UpdateShareGrants(f"grants:{share}", share, add_grantees=add, remove_grantees=remove)


def objects(
    share: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()
) -> UpdateShareObjects:
    return UpdateShareObjects(
        f"objects:{share}",
        share,
        add_objects=tuple(ShareObjectState(name=name) for name in add),
        remove_objects=remove,
    )


def options(share: str, *names: str) -> UpdateShareObjectOptions:
    return UpdateShareObjectOptions(
        f"options:{share}",
        share,
        changed_objects=tuple(
            ShareObjectState(name=n, history_data_sharing_status=HistoryDataSharingStatus.ENABLED)
            for n in names
        ),
        before_objects=tuple(ShareObjectState(name=n) for n in names),
    )


def approver(name: str, *groups: ApprovalGroup) -> Approver:
    """A person whose token carries the ids of `groups`; `name` is also their email."""
    return Approver(name=name, email=name, group_ids=frozenset(g.id for g in groups))


def approval(
    who: str,
    group: ApprovalGroup,
    *,
    level: int = 1,
    at: datetime = T0,
    digest: str = DIGEST,
    rejected: bool = False,
    comment: str | None = None,
) -> Decision:
    return Decision(
        level=level,
        group_name=group.name,
        approver=who,
        approver_email=who,
        decision="REJECTED" if rejected else "APPROVED",
        comment=comment,
        at=at,
        plan_digest=digest,
    )
