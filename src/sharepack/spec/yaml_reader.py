"""Read YAML strictly into plain values, remembering where each value stands in the file.

Anchors and aliases are refused outright (an alias bomb never expands), as are duplicate
keys and non-string keys; every position is kept as `file:line:column`.
"""

from __future__ import annotations

from typing import Any

import yaml

from sharepack.spec.errors import Problem, SpecError

Path = tuple[str | int, ...]


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses anchors and aliases before anything is built."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _RefusedError(event.start_mark, "YAML anchors and aliases are not allowed")
        return super().compose_node(parent, index)


class _RefusedError(Exception):
    def __init__(self, mark: yaml.Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


def _where(filename: str, mark: yaml.Mark | None) -> str:
    if mark is None:
        return filename
    return f"{filename}:{mark.line + 1}:{mark.column + 1}"


class LocatedDocument:
    """Plain values of a YAML document and the location of each path in it."""

    def __init__(
        self,
        filename: str,
        value: Any,
        locations: dict[Path, str],
        key_locations: dict[Path, str] | None = None,
    ) -> None:
        self.filename = filename
        self.value = value
        self._locations = locations
        self._key_locations = key_locations or {}

    def key_location(self, path: Path) -> str:
        """Where the key of `path` is written (for unknown or repeated fields)."""
        return self._key_locations.get(path) or self.location(path)

    def location(self, path: Path) -> str:
        """The location of `path`, or of its nearest ancestor present in the file."""
        while path not in self._locations and path:
            path = path[:-1]
        return self._locations.get(path, self.filename)


def read_yaml(text: str, filename: str) -> LocatedDocument:
    """Parse one YAML document; raise `SpecError` naming the line and column of any fault."""
    try:
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        message = f"Character {exc.character:#06x} is not allowed in YAML"
        raise SpecError([Problem(f"{filename}:{line}:{column}", "", message)]) from None
    try:
        node = loader.get_single_node()
    except _RefusedError as exc:
        raise SpecError([Problem(_where(filename, exc.mark), "", exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"Invalid YAML: {exc.problem or exc.context}"
        raise SpecError([Problem(_where(filename, mark), "", message)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(filename, "", f"Invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if node is None:
        raise SpecError([Problem(filename, "", "The file is empty")])
    locations: dict[Path, str] = {}
    key_locations: dict[Path, str] = {}
    problems: list[Problem] = []
    try:
        value = _to_python(node, (), filename, (locations, key_locations), problems)
    except yaml.MarkedYAMLError as exc:
        where = _where(filename, exc.problem_mark or exc.context_mark)
        raise SpecError([Problem(where, "", f"Invalid YAML value: {exc.problem}")]) from None
    if problems:
        raise SpecError(problems)
    return LocatedDocument(filename, value, locations, key_locations)


def _to_python(
    node: yaml.Node,
    path: Path,
    filename: str,
    maps: tuple[dict[Path, str], dict[Path, str]],
    problems: list[Problem],
) -> Any:
    locations, key_locations = maps
    locations[path] = _where(filename, node.start_mark)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            where = _where(filename, key_node.start_mark)
            if not isinstance(key, str) or key_node.tag != "tag:yaml.org,2002:str":
                problems.append(Problem(where, render_path(path), "Keys must be plain strings"))
                continue
            if key in result:
                problems.append(Problem(where, render_path((*path, key)), f"Duplicate key '{key}'"))
                continue
            key_locations[(*path, key)] = where
            result[key] = _to_python(value_node, (*path, key), filename, maps, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _to_python(item, (*path, index), filename, maps, problems)
            for index, item in enumerate(node.value)
        ]
    return yaml.SafeLoader("").construct_object(node)


def render_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
