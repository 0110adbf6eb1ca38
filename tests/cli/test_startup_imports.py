"""The `sharepack` command starts at once: a command imports only what it uses.

Each case runs the command in a fresh interpreter and reads, as it exits, every module it
imported. It asserts on which modules, never on time: `bench/startup.py` measures time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).parents[2]
EXAMPLE = REPO / "examples" / "sharepack.yaml"

#: Runs `sharepack` as its console script does, and writes the modules it imported, as it
#: exits, to the file named by its first argument.
PROGRAM = """
import atexit, json, sys
from pathlib import Path

record = Path(sys.argv.pop(1))
atexit.register(lambda: record.write_text(json.dumps(sorted(sys.modules))))
sys.argv[0] = "sharepack"
from sharepack.cli.main import app
sys.exit(app())
"""

#: What only a command that reaches a workspace, a database, the directory, the API or a
#: workbook needs.
SERVICES = (
    *("databricks.sdk", "sqlalchemy", "alembic", "psycopg", "azure", "msgraph", "msgraph_core"),
    *("fastapi", "starlette", "uvicorn", "httpx", "jwt", "openpyxl"),
)
#: What reading a share pack file or the settings needs.
FILES = ("pydantic", "pydantic_settings", "yaml", "email_validator")


def imported_by(*args: str, cwd: Path) -> list[str]:
    """Every module `sharepack ARGS` imported; it must exit 0."""
    record = cwd / "modules.json"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(record), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(record.read_text())
    return modules


def among(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    """The modules that are one of `packages` or lie within one."""
    return [m for m in modules if any(m == p or m.startswith(f"{p}.") for p in packages)]


def command_paths() -> list[tuple[str, ...]]:
    """Every command of `sharepack`, as the words that name it: ("db", "upgrade")."""
    import typer.main

    from sharepack.cli.main import app

    # typer 0.28 brings its own click, whose Group is not the installed click's: a group is
    # told by its `commands`.
    def walk(command: Any, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            return [path]
        return [p for name, sub in subcommands.items() for p in walk(sub, (*path, name))]

    return walk(typer.main.get_command(app), ())


def test_version_imports_neither_services_nor_file_readers_nor_rich(tmp_path: Path) -> None:
    assert among(imported_by("version", cwd=tmp_path), (*SERVICES, *FILES, "rich")) == []


@pytest.mark.parametrize(
    "command", [(), *command_paths()], ids=lambda c: " ".join(c) or "sharepack"
)
def test_help_imports_neither_services_nor_file_readers(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    assert among(imported_by(*command, "--help", cwd=tmp_path), (*SERVICES, *FILES)) == []


def test_validating_a_yaml_file_imports_no_service_and_no_workbook_reader(tmp_path: Path) -> None:
    modules = imported_by("validate", str(EXAMPLE), cwd=tmp_path)

    assert among(modules, SERVICES) == []
    assert "sharepack.packfile.loader" in modules  # the file was read, not skipped


def test_the_record_names_what_a_command_imports(tmp_path: Path) -> None:
    """The guard can fail: a command that reaches the database is seen importing SQLAlchemy."""
    url = f"sqlite:///{tmp_path / 'sharepack.db'}"

    modules = imported_by("db", "upgrade", "--url", url, cwd=tmp_path)

    assert "sqlalchemy" in among(modules, SERVICES)
