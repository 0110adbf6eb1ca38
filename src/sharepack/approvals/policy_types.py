"""The values of an approval policy: groups of approvers, rules, and what rules look for.

Read from a file by `approvals.policy.load_policy`; matched against plans by
`approvals.rules.requirements`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sharepack.identity.principal import ALL_BUSINESS_LINES


@dataclass(frozen=True)
class ApprovalGroup:
    """A group of approvers: its short name in the policy, its directory group Object ID
    (what tokens carry), and the addresses told of packs waiting for it."""

    name: str
    id: str
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class CreatesTokenRecipient:
    """The plan creates a TOKEN (open sharing, D2O) recipient."""


@dataclass(frozen=True)
class GrantsShare:
    """The plan grants a share matching `shares` to a recipient matching `recipients`."""

    shares: tuple[str, ...] = ("*",)
    recipients: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class SharesObjects:
    """The plan adds to a share (or changes the sharing options of) an object whose
    catalog matches `catalogs` and whose full name matches `names`."""

    catalogs: tuple[str, ...] = ("*",)
    names: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class Deletes:
    """The plan deletes a resource, removes an object from a share or revokes a grant."""


#: What a rule looks for in a plan: one kind per rule. Patterns are shell globs, matched
#: case-insensitively (Unity Catalog names are).
Condition = CreatesTokenRecipient | GrantsShare | SharesObjects | Deletes


@dataclass(frozen=True)
class RequiredApproval:
    """`count` distinct members of `group` approve, at `level`."""

    level: int
    group: ApprovalGroup
    count: int = 1


@dataclass(frozen=True)
class ApprovalRule:
    """When a pack of one of `business_lines` plans what `when` says, `require` applies."""

    name: str
    when: Condition
    require: tuple[RequiredApproval, ...]
    business_lines: tuple[str, ...] = (ALL_BUSINESS_LINES,)

    def covers(self, business_line: str | None) -> bool:
        """Whether the rule applies to packs of `business_line` (compared case-insensitively)."""
        if ALL_BUSINESS_LINES in self.business_lines:
            return True
        if business_line is None:
            return False
        wanted = business_line.strip().casefold()
        return any(line.casefold() == wanted for line in self.business_lines)


@dataclass(frozen=True)
class ApprovalPolicy:
    """The groups and rules of a policy file; no rules: nothing ever needs approval."""

    groups: tuple[ApprovalGroup, ...] = ()
    rules: tuple[ApprovalRule, ...] = ()

    def group(self, name: str) -> ApprovalGroup | None:
        return next((group for group in self.groups if group.name == name), None)
