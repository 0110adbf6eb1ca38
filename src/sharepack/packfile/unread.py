"""Values of a pack not read as written, what stands in for them, and what follows from them.

A value the file gets wrong is reported once, where it is written. So that the rules still
check everything else, the value gives way to its field's default or to a stand-in; a
finding about it, or derived from it (`Finding.depends_on`), is then left out: it would
repeat the error, or judge what the file did not say.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from enum import Enum
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from sharepack.packfile.findings import Finding
from sharepack.packfile.models import SharePackConfig
from sharepack.packfile.normalise import field_name
from sharepack.packfile.yaml_reader import ANY, Path

#: Rounds of stand-ins before the rules give up on a pack the model still refuses.
_ROUNDS = 3


def _prefixes(path: Path) -> Iterable[Path]:
    return (path[:end] for end in range(len(path) + 1))


def _shape(path: Path) -> Path:
    """The path with every list position as ANY."""
    return tuple(ANY if isinstance(part, int) else part for part in path)


class Unread:
    """The model paths whose values were not read as written; `(*path, ANY)` for an entry
    of `path` that was left out."""

    def __init__(self) -> None:
        self._paths: set[Path] = set()
        self._holding: set[Path] = set()  # every prefix of an unread path
        self._shapes: set[Path] = set()
        self._holding_shapes: set[Path] = set()

    def add(self, path: Path) -> None:
        self._paths.add(path)
        self._holding.update(_prefixes(path))
        self._shapes.add(_shape(path))
        self._holding_shapes.update(_prefixes(_shape(path)))

    def covers(self, path: Path) -> bool:
        """The value at `path`, or one holding it, was not read as written."""
        return any(prefix in self._paths for prefix in _prefixes(path))

    def touches(self, pattern: Path) -> bool:
        """Some value `pattern` names (ANY: at every position) was not read as written."""
        if ANY in pattern:
            pattern = _shape(pattern)
            return pattern in self._holding_shapes or any(
                prefix in self._shapes for prefix in _prefixes(pattern)
            )
        return pattern in self._holding or self.covers(pattern)

    def hides(self, finding: Finding) -> bool:
        """The finding is about an unread value, or was derived from one."""
        return self.covers(finding.path) or any(self.touches(p) for p in finding.depends_on)


def error_paths(error: ValidationError) -> list[Path]:
    """The model path of each value the model refuses."""
    return [tuple(p for p in e["loc"] if isinstance(p, str | int)) for e in error.errors()]


def with_stand_ins(
    canonical: dict[str, Any], failing: list[Path], unread: Unread
) -> SharePackConfig | None:
    """The model of `canonical` with each failing value replaced by a stand-in or its
    field's default (each marked unread), or None if the model still refuses it."""
    data = copy.deepcopy(canonical)
    for _ in range(_ROUNDS):
        for path in failing:
            unread.add(path)
            if (replaced := _stand_in(data, path)) is not None:
                unread.add(replaced)
        try:
            return SharePackConfig.model_validate(data)
        except ValidationError as exc:
            failing = error_paths(exc)
    return None


def _stand_in(data: dict[str, Any], path: Path) -> Path | None:
    """Replace the value at `path` (or the nearest value holding it) in place; its path."""
    while path:
        parent = _value_at(data, path[:-1])
        key = path[-1]
        if isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent):
            parent[key] = _text(path)  # every list of values in the model holds texts
            return path
        if isinstance(parent, dict) and isinstance(key, str):
            owner = _model_holding(path)
            field = owner.model_fields.get(key) if owner else None
            if field is not None and field.is_required():
                parent[key] = _required(field.annotation, path)
            else:
                parent.pop(key, None)
            return path
        path = path[:-1]
    return None


def _value_at(data: Any, path: Path) -> Any:
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _model_holding(path: Path) -> type[BaseModel] | None:
    """The model class whose field the last part of `path` names, if one does."""
    model: type[BaseModel] = SharePackConfig
    for part in path[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        inner = _model_in(field.annotation) if field else None
        if inner is None:
            return None
        model = inner
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds: itself, or inside `tuple[...]` or `... | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        if (found := _model_in(argument)) is not None:
            return found
    return None


def _required(annotation: Any, path: Path) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation)).value
    return _text(path)


def _text(path: Path) -> str:
    """A text no file can hold (YAML and workbook XML refuse NUL), one for each path."""
    return f"\0{field_name(path)}"
