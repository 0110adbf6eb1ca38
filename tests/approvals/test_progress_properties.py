"""Properties of `progress` over any requirements and any decisions: it never says
APPROVED with a requirement short, counts only valid approvals of distinct people for
their own requirement, and awaits the first level still short."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from sharepack.approvals.decisions import ApprovalProgress, ApprovalState, Decision, progress
from sharepack.approvals.policy_types import ApprovalGroup
from sharepack.approvals.rules import Requirement
from tests.approvals.builders import DIGEST, OWNERS, SECURITY, T0

AUDIT = ApprovalGroup("audit", "0c5a3e1f-7b2d-4e9c-8a6f-3d1b5e7c9a2f")
EXPIRY = timedelta(hours=24)
NOW = T0 + timedelta(hours=30)
PEOPLE = ("ann@example.com", "bob@example.com", "cy@example.com", "di@example.com", "ed@x.org")
OTHER_DIGEST = "b" * 64

requirement_sets = st.dictionaries(
    keys=st.tuples(st.integers(1, 3), st.sampled_from((OWNERS, SECURITY, AUDIT))),
    values=st.integers(1, 3),
    max_size=5,
).map(
    lambda found: tuple(
        Requirement(level=level, group=group, count=count, reasons=("r",))
        for (level, group), count in sorted(found.items(), key=lambda i: (i[0][0], i[0][1].name))
    )
)
decisions = st.builds(
    Decision,
    level=st.integers(1, 3),
    group_name=st.sampled_from(("data-owners", "security", "audit")),
    approver=st.sampled_from(PEOPLE),
    approver_email=st.none() | st.sampled_from(PEOPLE),
    decision=st.sampled_from(("APPROVED", "APPROVED", "APPROVED", "REJECTED")),
    comment=st.none(),
    at=st.integers(0, 30 * 60).map(lambda minutes: T0 + timedelta(minutes=minutes)),
    plan_digest=st.sampled_from((DIGEST, DIGEST, OTHER_DIGEST)),
)


def weigh(requirements: tuple[Requirement, ...], given: list[Decision]) -> ApprovalProgress:
    return progress(requirements, given, plan_digest=DIGEST, now=NOW, expires_after=EXPIRY)


@given(requirement_sets, st.lists(decisions, max_size=25))
def test_approved_means_every_requirement_has_its_count(
    requirements: tuple[Requirement, ...], given: list[Decision]
) -> None:
    found = weigh(requirements, given)

    if found.state is ApprovalState.APPROVED:
        assert all(p.approved >= p.requirement.count for p in found.requirements)
    assert (found.state is ApprovalState.NOT_REQUIRED) == (requirements == ())


@given(requirement_sets, st.lists(decisions, max_size=25))
def test_only_valid_approvals_of_distinct_people_count_for_their_own_requirement(
    requirements: tuple[Requirement, ...], given: list[Decision]
) -> None:
    found = weigh(requirements, given)

    counted = [(p.requirement, d) for p in found.requirements for d in p.approvals]
    for requirement, decision in counted:
        assert decision.plan_digest == DIGEST
        assert decision.decision == "APPROVED"
        assert NOW - decision.at <= EXPIRY
        assert (decision.level, decision.group_name) == (
            requirement.level,
            requirement.group.name,
        )
    names = [d.approver.casefold() for _, d in counted]
    emails = [d.approver_email for _, d in counted if d.approver_email is not None]
    assert len(set(names)) == len(names)
    assert len(set(emails)) == len(emails)


@given(requirement_sets, st.lists(decisions, max_size=25))
def test_awaiting_is_at_the_first_level_short_and_later_levels_count_nothing(
    requirements: tuple[Requirement, ...], given: list[Decision]
) -> None:
    found = weigh(requirements, given)

    if found.state is ApprovalState.AWAITING_APPROVAL:
        short = [
            p.requirement.level for p in found.requirements if p.approved < p.requirement.count
        ]
        assert found.level == min(short)
        assert all(p.approved == 0 for p in found.requirements if p.requirement.level > min(short))
        assert found.status_line.startswith("Awaiting approval: ")


@given(requirement_sets, st.lists(decisions, max_size=25), st.lists(decisions, max_size=10))
def test_decisions_on_another_plan_change_nothing(
    requirements: tuple[Requirement, ...], given: list[Decision], others: list[Decision]
) -> None:
    elsewhere = [d for d in others if d.plan_digest != DIGEST]

    assert weigh(requirements, given + elsewhere) == weigh(requirements, given)
