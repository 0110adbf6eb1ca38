"""The layout's import rules (docs/architecture.md), checked on the source: a package imports
only the packages beneath it, and the emulator imports nothing of sharepack."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src"
LEAVES = {"errors", "cron"}

#: Each part of `sharepack` and the parts it may import; the leaves `errors` and `cron` are
#: open to all.
MAY_IMPORT: dict[str, set[str]] = {
    "packfile": set(),
    "workspace": set(),
    "store": set(),
    "identity": set(),  # beside `errors`: principals, keys, tokens, the role mapping
    "settings": {"workspace"},  # its URL forms, `workspace.urls`
    # traces, logs and metrics (and the listeners told of workspace calls)
    "observability": {"settings", "workspace"},
    "engine": {"observability", "packfile", "workspace"},
    "queue": {"store"},
    "directory": {"store"},
    "runtime": {
        *("approvals", "directory", "engine", "observability", "queue", "settings", "store"),
        "workspace",
    },
    # the approval policy: a file read, and what a plan needs (pure)
    "approvals": {"engine", "identity", "packfile", "workspace"},
    # notices, their templates, and the outbox that sends them
    "notify": {"queue", "settings", "store"},
    "history": {"engine", "packfile", "store", "workspace"},
    # the scheduled sync jobs, their scheduler, and the registry of jobs
    "sync": {"runtime", "settings", "store", "workspace"},
    "running": {
        *("approvals", "engine", "history", "notify", "observability", "packfile", "queue"),
        *("runtime", "store", "workspace"),
    },
    "usecases": {
        *("approvals", "directory", "engine", "history", "identity", "notify"),
        *("observability", "packfile", "queue"),
        *("running", "runtime", "sync"),
        *("settings", "store", "workspace"),
    },
    "api": {
        *("identity", "observability", "packfile", "running", "runtime", "usecases", "settings"),
        "workspace",
    },
    "cli": {
        *("api", "approvals", "engine", "identity", "notify", "observability", "packfile"),
        *("running", "runtime", "settings", "store", "sync", "usecases", "workspace"),
    },
}


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _part(path: Path) -> str:
    return path.relative_to(SRC / "sharepack").with_suffix("").parts[0]


def test_every_part_of_sharepack_is_in_the_table() -> None:
    parts = {_part(p) for p in (SRC / "sharepack").rglob("*.py")} - {"__init__", *LEAVES}
    assert parts == set(MAY_IMPORT)


@pytest.mark.parametrize("part", sorted(MAY_IMPORT))
def test_a_part_imports_only_what_lies_beneath_it(part: str) -> None:
    allowed = MAY_IMPORT[part] | {part, *LEAVES, "__version__"}
    found = set()
    for path in (SRC / "sharepack").rglob("*.py"):
        if _part(path) != part:
            continue
        for module in _imports(path):
            names = module.split(".")
            if names[0] == "sharepack" and len(names) > 1 and names[1] not in allowed:
                found.add(f"{path.relative_to(SRC)} imports {module}")
    assert sorted(found) == []


def test_the_emulator_imports_nothing_of_sharepack() -> None:
    found = [
        f"{path.relative_to(SRC)} imports {module}"
        for path in (SRC / "databricks_emulator").rglob("*.py")
        for module in _imports(path)
        if module.split(".")[0] == "sharepack"
    ]
    assert found == []
