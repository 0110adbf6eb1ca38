"""Read YAML strictly into plain values, remembering where each value stands in the file.

Anchors and aliases are refused outright (an alias bomb never expands), as are duplicate
keys and non-string keys; every position is kept as `file:line:column`. Before anything
is built, one cheap pass over the parser's events (libyaml's when it is installed)
refuses documents nested deeper than `MAX_DEPTH` or holding more than `MAX_NODES`
values, so a hostile file under the size limit still costs bounded time and memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

from sharepack.packfile.errors import Problem, SpecError

Path = tuple[str | int, ...]
#: In a path, an entry of the list or mapping before it that is not known: `(*path, ANY)`
#: among unreadable paths says an entry there was left out; in a finding's dependency,
#: ANY stands for every position of a list.
ANY = "*"

#: A pack is at most about 7 levels deep (top > share list > share > pipelines >
#: pipeline > schedule > cron); 32 leaves room and stays far below Python's recursion.
MAX_DEPTH = 32
#: Every scalar, list and mapping counts, keys included. A D2O recipient with an email,
#: two IPs and a comment is 13 values; a pipeline with every field about 30. 250,000
#: holds 5,000 such recipients, 5,000 pipelines and a share naming every recipient
#: (about 220,000) while a 5 MB list of numbers (2.6 million values) stops early.
MAX_NODES = 250_000

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_STR = "tag:yaml.org,2002:str"
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_EventLoader: Any = getattr(yaml, "CSafeLoader", None)


def _without_timestamps(resolvers: dict[Any, Any]) -> dict[Any, Any]:
    """No field is a date: `2024-01-01` is read as the text written, never as a date."""
    return {
        first: [(tag, regexp) for tag, regexp in entries if tag != _TIMESTAMP]
        for first, entries in resolvers.items()
    }


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses anchors, aliases and deep or huge documents as it goes.

    The event pass refuses them first; these checks hold when it cannot run (no libyaml,
    or a syntax error it reports differently).
    """

    yaml_implicit_resolvers = _without_timestamps(yaml.SafeLoader.yaml_implicit_resolvers)

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        _check_event(event, self._depth, self._nodes)
        self._nodes += 1
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


if _EventLoader is not None:

    class _FastLoader(_EventLoader):  # type: ignore[misc]
        """libyaml's parser with the same resolution of plain scalars as `_StrictLoader`."""

        yaml_implicit_resolvers = _StrictLoader.yaml_implicit_resolvers


class _RefusedError(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


def _check_event(event: yaml.Event, depth: int, nodes: int) -> None:
    """Refuse an alias, an anchor, or the value past the depth or node limit."""
    if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
        raise _RefusedError(event.start_mark, "YAML anchors and aliases are not allowed")
    if nodes >= MAX_NODES:
        message = f"The file holds more than {MAX_NODES:,} values, more than a pack needs"
        raise _RefusedError(event.start_mark, message)
    if isinstance(event, yaml.CollectionStartEvent) and depth >= MAX_DEPTH:
        message = f"Lists and mappings nest deeper than {MAX_DEPTH} levels"
        raise _RefusedError(event.start_mark, message)


def _check_shape(events: Iterable[yaml.Event]) -> None:
    """One pass over the events, keeping none: refuse what `_check_event` refuses."""
    depth = nodes = 0
    for event in events:
        if isinstance(event, yaml.NodeEvent):
            _check_event(event, depth, nodes)
            nodes += 1
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _where(filename: str, mark: Any) -> str:
    if mark is None:
        return filename
    return f"{filename}:{mark.line + 1}:{mark.column + 1}"


_LINE_COLUMN = re.compile(r":(\d+):(\d+)$")
_CELL = re.compile(r"^([A-Z]+)(\d+)$")


class LocatedDocument:
    """Plain values of a document, the location of each path in it, and what was unreadable.

    `problems` are faults found while reading that did not stop it (a repeated key, a
    value that is not what its tag says); `unreadable` holds the paths of values left as
    `None` or left out because of them (`(*path, ANY)`: an entry of `path` was dropped),
    so that later checks neither report them a second time nor reason from them.
    `sheets` are a workbook's sheet titles in order; `unlisted` counts problems found
    beyond those a workbook lists.
    """

    def __init__(
        self,
        filename: str,
        value: Any,
        locations: dict[Path, str],
        key_locations: dict[Path, str] | None = None,
        problems: tuple[Problem, ...] = (),
        unreadable: frozenset[Path] = frozenset(),
        *,
        sheets: tuple[str, ...] = (),
        unlisted: int = 0,
    ) -> None:
        self.filename = filename
        self.value = value
        self._locations = locations
        self._key_locations = key_locations or {}
        self.problems = problems
        self.unreadable = unreadable
        self.unlisted = unlisted
        self._sheet_ranks = {title: rank for rank, title in enumerate(sheets, start=1)}

    def position(self, location: str) -> tuple[int, int, int]:
        """Where `location` stands in the file, for sorting: (sheet, line or row, column).

        A location naming no place in the file (the file as a whole) comes first.
        """
        if match := _LINE_COLUMN.search(location):
            return 0, int(match[1]), int(match[2])
        title, bang, cell = location.rpartition("!")
        if not bang:
            title, cell = location, ""
        rank = self._sheet_ranks.get(title)
        if rank is None:
            return 0, 0, 0
        if match := _CELL.match(cell):
            column = 0
            for letter in match[1]:
                column = column * 26 + ord(letter) - ord("A") + 1
            return rank, int(match[2]), column
        return rank, 0, 0

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
    node = _compose(text, filename)
    if node is None:
        raise SpecError([Problem(filename, "", "The file is empty")])
    builder = _Builder(filename)
    value = builder.value(node, ())
    return LocatedDocument(
        filename,
        value,
        builder.locations,
        builder.key_locations,
        tuple(builder.problems),
        frozenset(builder.unreadable),
    )


def _compose(text: str, filename: str) -> yaml.Node | None:
    try:
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        message = f"Character {exc.character:#06x} is not allowed in YAML"
        raise SpecError([Problem(f"{filename}:{line}:{column}", "", message)]) from None
    try:
        if _EventLoader is not None and _shape_is_checked(text):
            # libyaml builds the same nodes much faster; the shape is known to be safe.
            fast = _FastLoader(text)
            try:
                return fast.get_single_node()  # type: ignore[no-any-return]
            finally:
                fast.dispose()
        return loader.get_single_node()
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


def _shape_is_checked(text: str) -> bool:
    """True when libyaml read every event and found the shape safe; raise if it is not.

    On a syntax error, False: the pure loader reports it, with its own (checked) limits.
    """
    try:
        _check_shape(yaml.parse(text, Loader=_FastLoader))
    except yaml.YAMLError:
        return False
    return True


class _Builder:
    """Plain values from composed nodes, collecting problems rather than stopping."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.locations: dict[Path, str] = {}
        self.key_locations: dict[Path, str] = {}
        self.problems: list[Problem] = []
        self.unreadable: list[Path] = []
        self._constructor = yaml.constructor.SafeConstructor()

    def value(self, node: yaml.Node, path: Path) -> Any:
        self.locations[path] = where = _where(self.filename, node.start_mark)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if node.tag not in _COLLECTION_TAGS:
                self._unreadable(where, path, f"The YAML tag '{node.tag}' is not supported")
                return None
            if isinstance(node, yaml.SequenceNode):
                return [self.value(item, (*path, index)) for index, item in enumerate(node.value)]
            return self._mapping(node, path)
        if node.tag == _STR:
            return node.value  # the common case, without the constructor's bookkeeping
        try:
            return self._constructor.construct_object(node)
        except Exception as exc:  # any constructor failure is the file's fault, not ours
            self._unreadable(where, path, _unreadable_message(node, exc))
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            where = _where(self.filename, key_node.start_mark)
            if not isinstance(key, str) or key_node.tag != _STR:
                message = "Keys must be plain strings"
                self.problems.append(Problem(where, render_path(path), message))
                self.unreadable.append((*path, ANY))
                continue
            if key in result:
                message = f"Duplicate key '{key}'"
                self.problems.append(Problem(where, render_path((*path, key)), message))
                self.unreadable.append((*path, ANY))
                continue
            self.key_locations[(*path, key)] = where
            result[key] = self.value(value_node, (*path, key))
        return result

    def _unreadable(self, where: str, path: Path, message: str) -> None:
        self.problems.append(Problem(where, render_path(path), message))
        self.unreadable.append(path)


def _unreadable_message(node: yaml.Node, exc: Exception) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        return f"Invalid YAML value: {exc.problem}"
    text = str(node.value)
    shown = text if len(text) <= 40 else f"{text[:40]}... ({len(text):,} characters)"
    kind = str(node.tag).removeprefix("tag:yaml.org,2002:")
    return f"'{shown}' cannot be read as !!{kind}"


def render_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
