"""Approvals: which plans need whose approval before they run, and how far it has come.

`policy.load_policy` reads the operator's policy file; `rules.requirements` says what a
plan needs under it; `decisions.progress` and `decisions.check_approver` weigh the
approvers' decisions. All of it is pure but the reading of the file.
"""

from sharepack.approvals.decisions import (
    ApprovalProgress,
    ApprovalState,
    Approver,
    Decision,
    RequirementProgress,
    check_approver,
    check_rejecter,
    progress,
)
from sharepack.approvals.policy import (
    ApprovalGroup,
    ApprovalPolicy,
    ApprovalRule,
    load_policy,
)
from sharepack.approvals.rules import Requirement, requirements

__all__ = [
    "ApprovalGroup",
    "ApprovalPolicy",
    "ApprovalProgress",
    "ApprovalRule",
    "ApprovalState",
    "Approver",
    "Decision",
    "Requirement",
    "RequirementProgress",
    "check_approver",
    "check_rejecter",
    "load_policy",
    "progress",
    "requirements",
]
