"""Reading values from composed YAML nodes, collecting every problem with where it is.

An operator's file is read from nodes rather than loaded into plain values so that each
problem names its line and column, and all of them are reported at once: a wrong file
is fixed in one edit, not one error per restart.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"


def found(node: yaml.Node) -> str:
    """What a node holds, as a person would name it in "(found ...)"."""
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    return repr(node.value) if node.tag == _STR else str(node.value)


def is_null(node: yaml.Node) -> bool:
    """A key with no value (`rules:`) or an explicit null."""
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


class NodeReader:
    """Typed values from the nodes of the file at `path`; each problem is kept, located
    as `path:line:column: field: message` (`path:line:` with `columns=False`), and none
    stops the reading. `hints=False` leaves out the likely key an unknown one meant."""

    def __init__(self, path: Path, *, columns: bool = True, hints: bool = True) -> None:
        self.path = path
        # Both off keep the role mapping's messages as its operators have known them.
        self._columns = columns
        self._hints = hints
        self._problems: list[tuple[int, int, str]] = []

    @property
    def problems(self) -> list[str]:
        """Every problem found, in the order of the file."""
        return [text for _, _, text in sorted(self._problems, key=lambda p: (p[0], p[1]))]

    def problem(self, node: yaml.Node, field: str, message: str) -> None:
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        prefix = f"{field}: " if field else ""
        if self._columns:
            where = f"{self.path}:{line}:{column}"
        else:
            # Unseen columns do not reorder a line's problems: they stay in the order found.
            where, column = f"{self.path}:{line}", 0
        self._problems.append((line, column, f"{where}: {prefix}{message}"))

    def file_problem(self, message: str) -> None:
        """A problem of the whole file, listed first."""
        self._problems.append((0, 0, f"{self.path}: {message}"))

    def mapping(
        self,
        node: yaml.Node,
        field: str,
        allowed: tuple[str, ...],
        *,
        required: tuple[str, ...] = (),
    ) -> dict[str, yaml.Node] | None:
        """The values of a mapping by key; unknown, repeated and missing keys are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, field, f"must be a mapping with keys {', '.join(allowed)}")
            return None
        fields: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node, field, allowed)
            if key is None:
                continue
            if key in fields:
                self.problem(key_node, _join(field, key), "appears twice")
            else:
                fields[key] = value_node
        for key in required:
            if key not in fields:
                self.problem(node, field, f"{key!r} is missing")
        return fields

    def key(self, node: yaml.Node, field: str, allowed: tuple[str, ...]) -> str | None:
        """A key of `allowed`, or None after saying what is wrong (with a likely key)."""
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR:
            self.problem(node, field, f"keys must be text, one of {', '.join(allowed)}")
            return None
        key = str(node.value)
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1) if self._hints else []
            hint = f"did you mean {close[0]!r}? " if close else ""
            self.problem(
                node,
                _join(field, key),
                f"unknown key {key!r}; {hint}the keys are {', '.join(allowed)}",
            )
            return None
        return key

    def text(self, node: yaml.Node | None, field: str) -> str | None:
        """Non-empty text (stripped); numbers, lists and mappings are problems."""
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, field, f"must be text (found {found(node)})")
            return None
        if node.tag != _STR:
            self.problem(node, field, f"must be text (found {node.value}; quote it if it is)")
            return None
        value = str(node.value).strip()
        if not value:
            self.problem(node, field, "must not be empty")
            return None
        return value

    def integer(self, node: yaml.Node | None, field: str, *, minimum: int) -> int | None:
        """A whole number of at least `minimum`."""
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != _INT:
            self.problem(node, field, f"must be a whole number (found {found(node)})")
            return None
        value = int(yaml.SafeLoader("").construct_yaml_int(node))
        if value < minimum:
            self.problem(node, field, f"must be {minimum} or more (found {value})")
            return None
        return value

    def true(self, node: yaml.Node, field: str, meaning: str) -> bool:
        """Whether the node is `true`: the only value a flag naming a kind may have."""
        if (
            isinstance(node, yaml.ScalarNode)
            and node.tag == _BOOL
            and yaml.SafeLoader("").construct_yaml_bool(node)
        ):
            return True
        self.problem(node, field, f"must be true ({meaning}; found {found(node)})")
        return False

    def text_list(
        self, node: yaml.Node, field: str, what: str, *, if_empty: str
    ) -> tuple[str, ...] | None:
        """A non-empty list of distinct texts (compared case-insensitively); `if_empty`
        tells what to write instead of an empty list."""
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, field, f"must be a list of {what} (found {found(node)})")
            return None
        if not node.value:
            self.problem(node, field, f"is empty: {if_empty}")
            return None
        values: list[str] = []
        readable = True
        for index, item in enumerate(node.value):
            value = self.text(item, f"{field}[{index}]")
            if value is None:
                readable = False
            elif value.casefold() in (v.casefold() for v in values):
                self.problem(item, f"{field}[{index}]", f"{value!r} is listed twice")
                readable = False
            else:
                values.append(value)
        return tuple(values) if readable else None


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key
