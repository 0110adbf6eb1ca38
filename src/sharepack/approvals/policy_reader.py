"""The approval policy from the composed nodes of its file, every problem located."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import yaml
from email_validator import EmailNotValidError, validate_email

from sharepack.approvals.policy_types import (
    ApprovalGroup,
    ApprovalPolicy,
    ApprovalRule,
    Condition,
    CreatesTokenRecipient,
    Deletes,
    GrantsShare,
    RequiredApproval,
    SharesObjects,
)
from sharepack.identity.principal import ALL_BUSINESS_LINES
from sharepack.identity.yaml_nodes import NodeReader, found, is_null

_TOP_KEYS = ("groups", "rules")
_GROUP_KEYS = ("id", "notify")
_RULE_KEYS = ("name", "business_lines", "when", "require")
_KINDS = ("creates_token_recipient", "grants_share", "shares_objects", "deletes")
_GRANT_KEYS = ("shares", "recipients")
_OBJECT_KEYS = ("catalogs", "names")
_REQUIRE_KEYS = ("level", "group", "count")
_PATTERNS = "name patterns (shell globs such as 'sales_*')"
_ANY = "leave the key out to match every name, or list '*'"


def read_policy(reader: NodeReader, document: yaml.Node | None) -> ApprovalPolicy:
    """The policy the document describes; its problems go to `reader` (the policy then
    holds only what could be read). An empty document is a policy with no rules."""
    if document is None or is_null(document):
        return ApprovalPolicy()
    fields = reader.mapping(document, "", _TOP_KEYS)
    if fields is None:
        return ApprovalPolicy()
    state = _PolicyReader(reader)
    groups = state.groups(fields.get("groups"))
    rules = state.rules(fields.get("rules"), groups)
    state.check_levels()
    return ApprovalPolicy(groups=tuple(groups.values()), rules=rules)


@dataclass
class _PolicyReader:
    reader: NodeReader
    #: Every group name the file defines, readable or not: a rule naming one with a bad
    #: id is not told the group does not exist.
    declared: list[str] = field(default_factory=list)
    #: Each level a rule requires, with the node of its first use.
    levels: dict[int, tuple[yaml.Node, str]] = field(default_factory=dict)

    def groups(self, node: yaml.Node | None) -> dict[str, ApprovalGroup]:
        if node is None or is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.reader.problem(
                node, "groups", f"must be a mapping of group names to groups (found {found(node)})"
            )
            return {}
        groups: dict[str, ApprovalGroup] = {}
        for key_node, value_node in node.value:
            name = self.reader.text(key_node, "groups")
            if name is None:
                continue
            if name in self.declared:
                self.reader.problem(key_node, f"groups.{name}", "is defined twice")
                continue
            self.declared.append(name)
            group = self.group(value_node, name)
            if group is not None:
                groups[name] = group
        return groups

    def group(self, node: yaml.Node, name: str) -> ApprovalGroup | None:
        where = f"groups.{name}"
        fields = self.reader.mapping(node, where, _GROUP_KEYS, required=("id",))
        if fields is None:
            return None
        group_id = self.group_id(fields.get("id"), f"{where}.id")
        notify: tuple[str, ...] | None = ()
        if "notify" in fields:
            notify = self.addresses(fields["notify"], f"{where}.notify")
        if group_id is None or notify is None:
            return None
        return ApprovalGroup(name=name, id=group_id, notify=notify)

    def group_id(self, node: yaml.Node | None, where: str) -> str | None:
        value = self.reader.text(node, where)
        if value is None or node is None:
            return None
        try:
            return str(uuid.UUID(value))
        except ValueError:
            self.reader.problem(
                node,
                where,
                f"{value!r} is not a group Object ID (a GUID such as "
                "3f2c9a4e-0b6d-4c1e-9f7a-2d5e8b1c0a93, shown on the group's Overview in Entra "
                "ID); tokens carry group ids, not names",
            )
            return None

    def addresses(self, node: yaml.Node, where: str) -> tuple[str, ...] | None:
        values = self.reader.text_list(
            node, where, "email addresses", if_empty="list an address, or leave 'notify' out"
        )
        if values is None or not isinstance(node, yaml.SequenceNode):
            return None
        readable = True
        for index, (item, value) in enumerate(zip(node.value, values, strict=True)):
            try:
                validate_email(value, check_deliverability=False)
            except EmailNotValidError as exc:
                self.reader.problem(
                    item, f"{where}[{index}]", f"{value!r} is not an email address: {exc}"
                )
                readable = False
        return values if readable else None

    def rules(
        self, node: yaml.Node | None, groups: dict[str, ApprovalGroup]
    ) -> tuple[ApprovalRule, ...]:
        if node is None or is_null(node):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            self.reader.problem(node, "rules", f"must be a list of rules (found {found(node)})")
            return ()
        rules: list[ApprovalRule] = []
        names: dict[str, int] = {}
        for index, entry in enumerate(node.value):
            rule = self.rule(entry, f"rules[{index}]", groups, names)
            if rule is not None:
                rules.append(rule)
        return tuple(rules)

    def rule(
        self,
        node: yaml.Node,
        where: str,
        groups: dict[str, ApprovalGroup],
        names: dict[str, int],
    ) -> ApprovalRule | None:
        fields = self.reader.mapping(node, where, _RULE_KEYS, required=("name", "when", "require"))
        if fields is None:
            return None
        name = self.rule_name(fields.get("name"), f"{where}.name", names)
        lines: tuple[str, ...] | None = (ALL_BUSINESS_LINES,)
        if "business_lines" in fields:
            lines = self.business_lines(fields["business_lines"], f"{where}.business_lines")
        when = self.condition(fields.get("when"), f"{where}.when")
        require = self.require(fields.get("require"), f"{where}.require", groups)
        if name is None or lines is None or when is None or require is None:
            return None
        return ApprovalRule(name=name, when=when, require=require, business_lines=lines)

    def rule_name(self, node: yaml.Node | None, where: str, names: dict[str, int]) -> str | None:
        name = self.reader.text(node, where)
        if name is None or node is None:
            return None
        key = name.casefold()
        if key in names:
            self.reader.problem(
                node, where, f"the rule name {name!r} is used twice (first on line {names[key]})"
            )
            return None
        names[key] = node.start_mark.line + 1
        return name

    def business_lines(self, node: yaml.Node, where: str) -> tuple[str, ...] | None:
        if isinstance(node, yaml.ScalarNode) and str(node.value).strip() == ALL_BUSINESS_LINES:
            return (ALL_BUSINESS_LINES,)
        lines = self.reader.text_list(
            node,
            where,
            "business lines",
            if_empty="list at least one business line, or leave the key out for every one",
        )
        if lines is not None and ALL_BUSINESS_LINES in lines and len(lines) > 1:
            self.reader.problem(node, where, "'*' means every business line: list it alone")
            return None
        return lines

    def condition(self, node: yaml.Node | None, where: str) -> Condition | None:
        if node is None:
            return None
        fields = self.reader.mapping(node, where, _KINDS)
        if fields is None:
            return None
        kinds = [kind for kind in _KINDS if kind in fields]
        if len(kinds) != 1:
            given = f"names {len(kinds)} kinds ({', '.join(kinds)})" if kinds else "names no kind"
            self.reader.problem(
                node,
                where,
                f"{given}: a rule looks for exactly one of {', '.join(_KINDS)} "
                "(write one rule per kind)",
            )
            return None
        kind = kinds[0]
        value, field_name = fields[kind], f"{where}.{kind}"
        match kind:
            case "creates_token_recipient":
                meaning = "the rule applies when a plan creates a TOKEN recipient"
                return (
                    CreatesTokenRecipient()
                    if self.reader.true(value, field_name, meaning)
                    else None
                )
            case "deletes":
                meaning = "the rule applies when a plan deletes, removes or revokes anything"
                return Deletes() if self.reader.true(value, field_name, meaning) else None
            case "grants_share":
                patterns = self.patterns(value, field_name, _GRANT_KEYS)
                return None if patterns is None else GrantsShare(*patterns)
            case _:
                patterns = self.patterns(value, field_name, _OBJECT_KEYS)
                return None if patterns is None else SharesObjects(*patterns)

    def patterns(
        self, node: yaml.Node, where: str, keys: tuple[str, str]
    ) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """The two pattern lists of a kind (each `*` when left out)."""
        if is_null(node):
            return ("*",), ("*",)
        fields = self.reader.mapping(node, where, keys)
        if fields is None:
            return None
        read = [
            ("*",)
            if key not in fields
            else self.reader.text_list(fields[key], f"{where}.{key}", _PATTERNS, if_empty=_ANY)
            for key in keys
        ]
        first, second = read
        if first is None or second is None:
            return None
        return first, second

    def require(
        self, node: yaml.Node | None, where: str, groups: dict[str, ApprovalGroup]
    ) -> tuple[RequiredApproval, ...] | None:
        if node is None:
            return None
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            shown = "is empty" if isinstance(node, yaml.SequenceNode) else f"found {found(node)}"
            self.reader.problem(node, where, f"must list the approvals the rule requires ({shown})")
            return None
        required: list[RequiredApproval] = []
        readable = True
        for index, entry in enumerate(node.value):
            approval = self.approval(entry, f"{where}[{index}]", groups)
            if approval is None:
                readable = False
            elif any((r.level, r.group) == (approval.level, approval.group) for r in required):
                self.reader.problem(
                    entry,
                    f"{where}[{index}]",
                    f"group {approval.group.name} is required at level {approval.level} twice "
                    "in this rule; give one entry with the count of approvers",
                )
                readable = False
            else:
                required.append(approval)
        return tuple(required) if readable else None

    def approval(
        self, node: yaml.Node, where: str, groups: dict[str, ApprovalGroup]
    ) -> RequiredApproval | None:
        fields = self.reader.mapping(node, where, _REQUIRE_KEYS, required=("level", "group"))
        if fields is None:
            return None
        level = self.reader.integer(fields.get("level"), f"{where}.level", minimum=1)
        group = self.group_of(fields.get("group"), f"{where}.group", groups)
        count: int | None = 1
        if "count" in fields:
            count = self.reader.integer(fields["count"], f"{where}.count", minimum=1)
        if level is not None:
            self.levels.setdefault(level, (fields["level"], f"{where}.level"))
        if level is None or group is None or count is None:
            return None
        return RequiredApproval(level=level, group=group, count=count)

    def group_of(
        self, node: yaml.Node | None, where: str, groups: dict[str, ApprovalGroup]
    ) -> ApprovalGroup | None:
        name = self.reader.text(node, where)
        if name is None or node is None:
            return None
        if name not in self.declared:
            known = (
                f"groups: {', '.join(self.declared)}"
                if self.declared
                else "the file defines no groups: add them under 'groups:'"
            )
            self.reader.problem(node, where, f"{name!r} is not a group of this file ({known})")
        return groups.get(name)

    def check_levels(self) -> None:
        """The levels used start at 1 and go up by one; each gap is told where it shows."""
        used = sorted(self.levels)
        listed = ", ".join(str(level) for level in used)
        for level in used:
            if level > 1 and level - 1 not in self.levels:
                node, where = self.levels[level]
                self.reader.problem(
                    node,
                    where,
                    f"level {level} has no level {level - 1} before it: levels start at 1 and "
                    f"go up by one (this file's levels: {listed})",
                )
