"""`progress` weighs the decisions on a plan; `check_approver` and `check_rejecter` say
whose approval or rejection counts, and why not."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pytest

from sharepack.approvals.decisions import (
    ApprovalProgress,
    ApprovalState,
    Approver,
    Decision,
    check_approver,
    check_rejecter,
    progress,
)
from sharepack.approvals.rules import Requirement
from sharepack.errors import ApprovalRefusedError, SharePackError
from tests.approvals.builders import DIGEST, OWNERS, SECURITY, T0, approval, approver

WEEK = timedelta(hours=168)
OWNERS_2 = Requirement(
    level=1, group=OWNERS, count=2, reasons=("partners: creates TOKEN recipient acme",)
)
SECURITY_1 = Requirement(level=1, group=SECURITY, count=1, reasons=("r",))
SECURITY_L2 = Requirement(level=2, group=SECURITY, count=1, reasons=("r",))
REQUESTOR = "requestor@example.com"
SUBMITTER = "key:ci"


def weigh(
    requirements: tuple[Requirement, ...],
    decisions: Iterable[Decision],
    *,
    now_after: timedelta = timedelta(hours=1),
) -> ApprovalProgress:
    return progress(
        requirements, tuple(decisions), plan_digest=DIGEST, now=T0 + now_after, expires_after=WEEK
    )


def may_approve(
    requirements: tuple[Requirement, ...], decisions: Iterable[Decision], who: Approver
) -> Requirement:
    return check_approver(
        requirements,
        weigh(requirements, decisions),
        who,
        requestor=REQUESTOR,
        submitter=SUBMITTER,
    )


# progress


def test_no_requirement_means_no_approval_required() -> None:
    found = weigh((), [])

    assert found.state is ApprovalState.NOT_REQUIRED
    assert found.status_line == "No approval required"


def test_a_plan_without_decisions_awaits_its_first_level() -> None:
    found = weigh((OWNERS_2, SECURITY_L2), [])

    assert found.state is ApprovalState.AWAITING_APPROVAL
    assert found.level == 1
    assert found.status_line == "Awaiting approval: 0 of 2 (level 1: data-owners)"


def test_the_status_line_lists_every_group_of_the_current_level() -> None:
    found = weigh((OWNERS_2, SECURITY_1), [approval("bob@example.com", OWNERS)])

    assert found.status_line == (
        "Awaiting approval: 1 of 2 (level 1: data-owners), 0 of 1 (level 1: security)"
    )


def test_distinct_approvers_count_and_one_person_counts_once() -> None:
    decisions = [
        approval("bob@example.com", OWNERS),
        approval("BOB@example.com", OWNERS, at=T0 + timedelta(minutes=1)),
    ]

    found = weigh((OWNERS_2,), decisions)

    assert [p.approved for p in found.requirements] == [1]
    assert found.state is ApprovalState.AWAITING_APPROVAL


def test_a_person_counted_at_level_1_does_not_count_again_at_level_2() -> None:
    decisions = [
        approval("bob@example.com", OWNERS),
        approval("carol@example.com", OWNERS),
        approval("bob@example.com", SECURITY, level=2, at=T0 + timedelta(minutes=5)),
    ]

    found = weigh((OWNERS_2, SECURITY_L2), decisions)

    assert found.level == 2
    assert found.status_line == "Awaiting approval: 0 of 1 (level 2: security)"


def test_every_level_complete_is_approved() -> None:
    decisions = [
        approval("bob@example.com", OWNERS),
        approval("carol@example.com", OWNERS, at=T0 + timedelta(minutes=1)),
        approval("sam@example.com", SECURITY, level=2, at=T0 + timedelta(minutes=2)),
    ]

    found = weigh((OWNERS_2, SECURITY_L2), decisions)

    assert found.state is ApprovalState.APPROVED
    assert found.level is None
    assert found.status_line == (
        "Approved: 2 of 2 (level 1: data-owners), 1 of 1 (level 2: security)"
    )


def test_a_level_2_approval_given_before_level_1_was_complete_does_not_count() -> None:
    decisions = [
        approval("sam@example.com", SECURITY, level=2, at=T0),
        approval("bob@example.com", OWNERS, at=T0 + timedelta(minutes=1)),
        approval("carol@example.com", OWNERS, at=T0 + timedelta(minutes=2)),
    ]

    found = weigh((OWNERS_2, SECURITY_L2), decisions)

    assert found.state is ApprovalState.AWAITING_APPROVAL
    assert found.level == 2
    assert [p.approved for p in found.requirements] == [2, 0]


def test_an_approval_older_than_the_expiry_no_longer_counts() -> None:
    decisions = [approval("bob@example.com", OWNERS), approval("carol@example.com", OWNERS)]

    just_in_time = weigh((OWNERS_2,), decisions, now_after=WEEK)
    expired = weigh((OWNERS_2,), decisions, now_after=WEEK + timedelta(seconds=1))

    assert just_in_time.state is ApprovalState.APPROVED
    assert expired.state is ApprovalState.AWAITING_APPROVAL
    assert expired.status_line == "Awaiting approval: 0 of 2 (level 1: data-owners)"


def test_decisions_on_another_plan_do_not_count() -> None:
    decisions = [
        approval("bob@example.com", OWNERS, digest="b" * 64),
        approval("carol@example.com", OWNERS, digest="b" * 64),
        approval("dan@example.com", OWNERS, digest="b" * 64, rejected=True),
    ]

    found = weigh((OWNERS_2,), decisions)

    assert found.state is ApprovalState.AWAITING_APPROVAL
    assert found.rejection is None
    assert [p.approved for p in found.requirements] == [0]


def test_a_rejection_of_this_plan_rejects_it_with_who_and_why() -> None:
    rejection = approval(
        "sam@example.com",
        SECURITY,
        rejected=True,
        comment="HR data may not leave",
        at=T0 + timedelta(minutes=3),
    )
    decisions = [approval("bob@example.com", OWNERS), rejection]

    found = weigh((OWNERS_2, SECURITY_1), decisions)

    assert found.state is ApprovalState.REJECTED
    assert found.rejection == rejection
    assert found.status_line == (
        "Rejected by sam@example.com (level 1: security): HR data may not leave"
    )


# check_approver


def test_a_member_of_a_group_awaiting_approval_approves_for_it() -> None:
    bob = approver("bob@example.com", OWNERS)

    assert may_approve((OWNERS_2, SECURITY_L2), [], bob) == OWNERS_2


def test_membership_told_by_the_directory_counts_like_a_token_group() -> None:
    bob = Approver(name="bob", email="bob@example.com", member_of=frozenset({"data-owners"}))

    assert may_approve((OWNERS_2,), [], bob) == OWNERS_2


def test_the_requestor_may_not_approve_their_own_pack() -> None:
    requestor = approver("Requestor@Example.com", OWNERS)

    with pytest.raises(ApprovalRefusedError, match="they are the pack's requestor"):
        may_approve((OWNERS_2,), [], requestor)


def test_the_submitter_may_not_approve_the_pack_they_submitted() -> None:
    by_name = Approver(name="key:ci", email=None, group_ids=frozenset({OWNERS.id}))
    by_email = Approver(name="ci-bot", email="KEY:CI", group_ids=frozenset({OWNERS.id}))

    for submitter in (by_name, by_email):
        with pytest.raises(ApprovalRefusedError, match="they submitted the pack"):
            may_approve((OWNERS_2,), [], submitter)


def test_a_non_member_of_the_current_level_may_not_approve() -> None:
    sam = approver("sam@example.com", SECURITY)

    with pytest.raises(ApprovalRefusedError) as refused:
        may_approve((OWNERS_2, SECURITY_L2), [], sam)

    assert refused.value.message == (
        "sam@example.com may not approve this plan now: level 1 awaits approval from "
        "data-owners, and they are a member of none of them; their group security approves "
        "at level 2, once level 1 is complete (0 of 2 (level 1: data-owners))"
    )


def test_a_stranger_may_not_approve() -> None:
    with pytest.raises(ApprovalRefusedError, match=r"member of none of them$"):
        may_approve((OWNERS_2,), [], approver("eve@example.com"))


def test_an_approver_may_not_approve_the_same_plan_twice() -> None:
    bob = approver("bob@example.com", OWNERS)

    with pytest.raises(ApprovalRefusedError, match="have approved it already"):
        may_approve((OWNERS_2,), [approval("bob@example.com", OWNERS)], bob)


def test_an_approver_counted_at_level_1_may_not_approve_at_level_2() -> None:
    bob = approver("bob@example.com", OWNERS, SECURITY)
    decisions = [approval("bob@example.com", OWNERS), approval("carol@example.com", OWNERS)]

    with pytest.raises(ApprovalRefusedError, match="have approved it already"):
        may_approve((OWNERS_2, SECURITY_L2), decisions, bob)


def test_an_approver_whose_approval_expired_may_approve_again() -> None:
    bob = approver("bob@example.com", OWNERS)
    old = approval("bob@example.com", OWNERS, at=T0 - WEEK)

    assert may_approve((OWNERS_2,), [old], bob) == OWNERS_2


def test_a_member_of_a_group_that_has_its_approvals_may_not_approve_more() -> None:
    dan = approver("dan@example.com", OWNERS)
    decisions = [approval("bob@example.com", OWNERS), approval("carol@example.com", OWNERS)]

    with pytest.raises(ApprovalRefusedError, match=r"still awaited: 0 of 1 \(level 1: security\)"):
        may_approve((OWNERS_2, SECURITY_1), decisions, dan)


def test_a_member_of_two_groups_approves_for_the_one_still_short() -> None:
    dan = approver("dan@example.com", OWNERS, SECURITY)
    decisions = [approval("bob@example.com", OWNERS), approval("carol@example.com", OWNERS)]

    assert may_approve((OWNERS_2, SECURITY_1), decisions, dan) == SECURITY_1


@pytest.mark.parametrize(
    ("requirements", "decisions", "why"),
    [
        ((), [], "it needs no approval"),
        ((SECURITY_1,), [approval("sam@example.com", SECURITY)], "it is approved already"),
        (
            (OWNERS_2,),
            [approval("sam@example.com", OWNERS, rejected=True)],
            r"it was rejected by sam@example.com \(level 1: data-owners\)",
        ),
    ],
)
def test_nothing_may_be_approved_unless_the_plan_awaits_approval(
    requirements: tuple[Requirement, ...], decisions: list[Decision], why: str
) -> None:
    bob = approver("bob@example.com", OWNERS, SECURITY)

    with pytest.raises(ApprovalRefusedError, match=f"may not approve this plan: {why}"):
        may_approve(requirements, decisions, bob)


def test_a_refusal_is_a_sharepack_error() -> None:
    assert issubclass(ApprovalRefusedError, SharePackError)


# check_rejecter


def reject(
    requirements: tuple[Requirement, ...], decisions: Iterable[Decision], who: Approver
) -> Requirement:
    return check_rejecter(
        requirements,
        weigh(requirements, decisions),
        who,
        requestor=REQUESTOR,
        submitter=SUBMITTER,
    )


def test_a_member_of_a_later_levels_group_may_reject_while_awaiting() -> None:
    sam = approver("sam@example.com", SECURITY)

    assert reject((OWNERS_2, SECURITY_L2), [], sam) == SECURITY_L2


def test_a_rejecter_of_the_current_level_rejects_for_it() -> None:
    dan = approver("dan@example.com", OWNERS, SECURITY)

    assert reject((OWNERS_2, SECURITY_L2), [], dan) == OWNERS_2


def test_the_requestor_may_not_reject() -> None:
    with pytest.raises(ApprovalRefusedError, match="they are the pack's requestor"):
        reject((OWNERS_2,), [], approver(REQUESTOR, OWNERS))


def test_a_non_member_of_every_required_group_may_not_reject() -> None:
    with pytest.raises(ApprovalRefusedError) as refused:
        reject((OWNERS_2, SECURITY_L2), [], approver("eve@example.com"))

    assert refused.value.message == (
        "eve@example.com may not reject this plan: they are a member of none of the groups "
        "it requires: data-owners (level 1), security (level 2)"
    )


def test_an_approved_plan_may_not_be_rejected() -> None:
    with pytest.raises(ApprovalRefusedError, match="may not reject this plan: it is approved"):
        reject((SECURITY_1,), [approval("sam@example.com", SECURITY)], approver("x", SECURITY))
