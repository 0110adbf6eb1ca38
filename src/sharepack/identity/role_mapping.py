"""The role mapping: which directory groups hold which role for which business lines.

An operator's YAML file (named by the setting SHAREPACK_ROLE_MAPPING_FILE):

    groups:
      - id: 3f2c9a4e-0b6d-4c1e-9f7a-2d5e8b1c0a93   # the Entra group's Object ID
        name: Sales data owners                     # for people
        role: requestor                             # requestor | approver | auditor | admin
        business_lines: ["Sales Operations"]        # or "*" for all

Tokens carry group Object IDs, not names, so the id is what grants; the name is for the
people reading the file (and is checked against the directory elsewhere). A group may appear
more than once to hold several roles. The file is read from composed YAML nodes so that each
problem names its line, and every problem is reported at once: a wrong file is fixed in one
edit, not one error per restart.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from sharepack.errors import RoleMappingError
from sharepack.identity.principal import ALL_BUSINESS_LINES, Grant, Role
from sharepack.identity.yaml_nodes import NodeReader

SETTING = "SHAREPACK_ROLE_MAPPING_FILE"
_TOP_KEYS = ("groups",)
_GROUP_KEYS = ("id", "name", "role", "business_lines")
_ROLES = ", ".join(role.value for role in Role)


@dataclass(frozen=True)
class GroupRole:
    """One entry of the file: a group, the role it grants, over which business lines."""

    id: str
    name: str
    role: Role
    business_lines: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class RoleMapping:
    path: Path
    groups: tuple[GroupRole, ...]

    def grants_for(self, group_ids: Iterable[str]) -> tuple[Grant, ...]:
        """The grants of a member of `group_ids` (compared case-insensitively): one per
        role, over the business lines of every matching entry, in the order of `Role`."""
        wanted = {group_id.strip().casefold() for group_id in group_ids}
        lines: dict[Role, list[str]] = {}
        for group in self.groups:
            if group.id.casefold() not in wanted:
                continue
            held = lines.setdefault(group.role, [])
            held.extend(line for line in group.business_lines if line not in held)
        grants = []
        for role in Role:
            if role in lines:
                held = lines[role]
                all_lines = ALL_BUSINESS_LINES in held
                grants.append(Grant(role, (ALL_BUSINESS_LINES,) if all_lines else tuple(held)))
        return tuple(grants)


def load_role_mapping(path: Path) -> RoleMapping:
    """The mapping in `path`; `RoleMappingError` listing every problem of the file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise RoleMappingError(f"The role mapping file {path} ({SETTING}) does not exist") from None
    except OSError as exc:
        raise RoleMappingError(
            f"The role mapping file {path} ({SETTING}) cannot be read: {exc.strerror or exc}"
        ) from None
    except UnicodeDecodeError as exc:
        raise RoleMappingError(
            f"The role mapping file {path} ({SETTING}) is not UTF-8 text (byte {exc.start})"
        ) from None
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise RoleMappingError(
            f"The role mapping file {path} is not valid YAML: {where}: {exc.problem}"
        ) from None
    except yaml.YAMLError as exc:
        raise RoleMappingError(f"The role mapping file {path} is not valid YAML: {exc}") from None
    reader = _Reader(path)
    groups = reader.read(document)
    found = reader.problems
    if found:
        count = len(found)
        listed = "\n".join(f"  {problem}" for problem in found)
        raise RoleMappingError(
            f"The role mapping file {path} has {count} problem{'s' if count > 1 else ''}:\n{listed}"
        )
    return RoleMapping(path=path, groups=tuple(groups))


class _Reader(NodeReader):
    """Entries from composed nodes, collecting every problem with its line and field."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, columns=False, hints=False)

    def read(self, document: yaml.Node | None) -> list[GroupRole]:
        if document is None:
            self.file_problem("the file is empty; expected a 'groups:' list")
            return []
        fields = self.mapping(document, "", _TOP_KEYS)
        if fields is None:
            return []
        if "groups" not in fields:
            self.problem(document, "", "'groups' is missing: the list of groups and roles")
            return []
        entries = fields["groups"]
        if not isinstance(entries, yaml.SequenceNode):
            self.problem(entries, "groups", "must be a list of groups (`- id: ...`)")
            return []
        groups: list[GroupRole] = []
        seen: dict[tuple[str, Role], int] = {}
        for index, entry in enumerate(entries.value):
            group = self.group(entry, f"groups[{index}]")
            if group is None:
                continue
            key = (group.id.casefold(), group.role)
            if key in seen:
                self.problem(
                    entry,
                    f"groups[{index}]",
                    f"group {group.id} is given the role '{group.role}' again (first on line "
                    f"{seen[key]}); list its business lines in one entry",
                )
                continue
            seen[key] = group.line
            groups.append(group)
        return groups

    def group(self, node: yaml.Node, field: str) -> GroupRole | None:
        fields = self.mapping(node, field, _GROUP_KEYS, required=_GROUP_KEYS)
        if fields is None:
            return None
        group_id = self.group_id(fields.get("id"), f"{field}.id")
        name = self.text(fields.get("name"), f"{field}.name")
        role = self.role(fields.get("role"), f"{field}.role")
        lines = self.business_lines(fields.get("business_lines"), f"{field}.business_lines")
        if group_id is None or name is None or role is None or lines is None:
            return None
        return GroupRole(
            id=group_id, name=name, role=role, business_lines=lines, line=node.start_mark.line + 1
        )

    def group_id(self, node: yaml.Node | None, field: str) -> str | None:
        value = self.text(node, field)
        if value is None or node is None:
            return None
        try:
            uuid.UUID(value)
        except ValueError:
            self.problem(
                node,
                field,
                f"{value!r} is not a group Object ID (a GUID such as "
                "3f2c9a4e-0b6d-4c1e-9f7a-2d5e8b1c0a93, shown on the group's Overview in Entra "
                "ID); tokens carry group ids, not names",
            )
            return None
        return value

    def role(self, node: yaml.Node | None, field: str) -> Role | None:
        value = self.text(node, field)
        if value is None or node is None:
            return None
        try:
            return Role(value)
        except ValueError:
            self.problem(node, field, f"{value!r} is not one of {_ROLES}")
            return None

    def business_lines(self, node: yaml.Node | None, field: str) -> tuple[str, ...] | None:
        if node is None:
            return None
        if isinstance(node, yaml.ScalarNode):
            value = self.text(node, field)
            if value is None:
                return None
            if value != ALL_BUSINESS_LINES:
                self.problem(
                    node, field, f"must be a list of business lines or '*' (found {value!r})"
                )
                return None
            return (ALL_BUSINESS_LINES,)
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, field, "must be a list of business lines or '*'")
            return None
        lines = self.text_list(
            node, field, "business lines", if_empty="name at least one business line, or '*'"
        )
        if lines is not None and ALL_BUSINESS_LINES in lines and len(lines) > 1:
            self.problem(node, field, "'*' means every business line: list it alone")
            return None
        return lines
