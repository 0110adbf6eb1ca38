"""Every command ends through one table of exit codes, each error as one line on stderr.

One test (at least) per row of `EXIT_CODES`, run as an operator runs the command; the
database being down and a database without its schema are rows of their own.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command as alembic_command
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from databricks_emulator.server import EmulatorServer
from sharepack.cli.exit_codes import EXIT_CODES, ExitCode, UsageError
from sharepack.cli.main import app
from sharepack.errors import (
    ApiKeyError,
    ConfigurationError,
    DatabaseUnavailableError,
    NotFoundError,
    PlanError,
    RunHandedOverError,
    SchemaNotReadyError,
    SharePackError,
)
from sharepack.packfile.errors import SpecError
from sharepack.settings import Settings
from sharepack.store import Database
from sharepack.store.tables import share_packs
from sharepack.workspace.errors import (
    InvalidWorkspaceUrlError,
    WorkspaceAuthenticationError,
    WorkspaceCredentialsMissingError,
    WorkspaceError,
)
from tests.conftest import EMULATOR_TOKEN, REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"
UNKNOWN_ID = "00000000-0000-0000-0000-000000000000"
DATABASE_DOWN = "postgresql://nobody:hunter2@127.0.0.1:1/sharepack"
DATABASE_DOWN_SHOWN = "postgresql+psycopg://nobody:***@127.0.0.1:1/sharepack"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the caller's environment or a `.env`, and no credentials the SDK
    would find by itself; the embedded database (when a test uses it) under tmp_path."""
    for key in list(os.environ):
        if key.lower() in Settings.model_fields or key.startswith("DATABRICKS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no.databrickscfg"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def migrated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database, the one commands use."""
    database = Database(f"sqlite:///{(tmp_path / 'migrated.db').as_posix()}")
    database.upgrade()
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", database.url)
    yield database
    database.dispose()


@pytest.fixture
def workspace(
    migrated: Database, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> EmulatorServer:
    monkeypatch.setenv("DATABRICKS_TOKEN", EMULATOR_TOKEN)
    return emulator


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _one_line(result: Result) -> str:
    """The command's stderr, which must be one line and no traceback."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_the_table_has_the_rows_the_readme_documents() -> None:
    assert [(kind.__name__, int(code)) for kind, code in EXIT_CODES] == [
        (UsageError.__name__, 2),
        (ConfigurationError.__name__, 2),
        (SpecError.__name__, 2),
        (ApiKeyError.__name__, 2),
        (InvalidWorkspaceUrlError.__name__, 2),
        (WorkspaceCredentialsMissingError.__name__, 2),
        (WorkspaceAuthenticationError.__name__, 2),
        (PlanError.__name__, 1),
        (NotFoundError.__name__, 1),
        (DatabaseUnavailableError.__name__, 1),
        (SchemaNotReadyError.__name__, 1),
        (WorkspaceError.__name__, 1),
        (RunHandedOverError.__name__, 1),
        (SharePackError.__name__, 1),
        (KeyboardInterrupt.__name__, 130),
    ]
    assert [int(code) for code in ExitCode] == [0, 1, 2, 130]


# -- 0: done -----------------------------------------------------------------------------


def test_a_command_that_does_its_work_exits_0() -> None:
    result = _run("schema")

    assert result.exit_code == ExitCode.DONE
    assert result.stderr == ""


# -- 2: usage, configuration, an invalid file or workspace URL -------------------------------


def test_a_malformed_argument_exits_2_in_one_line_naming_it(migrated: Database) -> None:
    result = _run("status", "not-a-uuid")

    assert result.exit_code == ExitCode.USAGE
    assert _one_line(result) == "'not-a-uuid' is not a share pack id (a UUID)"


def test_a_missing_argument_exits_2_as_click_says() -> None:
    result = _run("status")

    assert result.exit_code == ExitCode.USAGE
    assert "Missing argument" in result.stderr


def test_a_missing_file_exits_2_before_the_database_is_opened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", DATABASE_DOWN)

    result = _run("plan", "nope.yaml", "--workspace", "https://adb-1.example.net")

    assert result.exit_code == ExitCode.USAGE
    assert _one_line(result) == "No such file: nope.yaml"


@pytest.mark.parametrize(
    "args",
    [
        ["status", UNKNOWN_ID],
        ["access", "c.s.t"],
        ["validate", str(EXAMPLE)],
        ["plan", str(EXAMPLE), "--workspace", "https://adb-1.example.net"],
        ["apply", str(EXAMPLE), "--workspace", "https://adb-1.example.net"],
        ["db", "upgrade"],
        ["worker"],
        ["serve"],
    ],
    ids=lambda args: " ".join(args[:2]) if args[0] == "db" else args[0],
)
def test_an_allow_list_entry_that_is_not_http_stops_every_command_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str]
) -> None:
    monkeypatch.setenv("SHAREPACK_WORKSPACE_URLS", "https://adb-1.example.net,ftp://weird")

    result = _run(*args)

    assert result.exit_code == ExitCode.USAGE
    line = _one_line(result)
    assert "SHAREPACK_WORKSPACE_URLS" in line
    assert "'ftp://weird' is not an http(s) URL" in line
    assert "adb-1" not in line
    assert not (tmp_path / ".sharepack").exists()


def test_an_invalid_file_exits_2_listing_its_problems(migrated: Database, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(EXAMPLE.read_text().replace("type: D2O", "type: D3X"))

    result = _run("plan", str(broken), "--workspace", "https://adb-1.example.net")

    assert result.exit_code == ExitCode.USAGE
    head, *problems = result.stderr.splitlines()
    assert head == f"{broken} is invalid:"
    assert any("broken.yaml" in p and "recipient[0].type" in p for p in problems)


def test_a_workspace_that_is_not_an_http_url_exits_2_naming_it(migrated: Database) -> None:
    result = _run("plan", str(EXAMPLE), "--workspace", "ftp://weird")

    assert result.exit_code == ExitCode.USAGE
    assert "'ftp://weird' is not a URL" in _one_line(result)


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_plan_without_credentials_exits_2_in_one_line_naming_what_to_set(
    migrated: Database, emulator: EmulatorServer, as_json: bool
) -> None:
    result = _run("plan", str(EXAMPLE), "--workspace", emulator.url, *(["--json"] * as_json))

    assert result.exit_code == ExitCode.USAGE
    line = (
        f"No credentials for workspace {emulator.url}: "
        "set DATABRICKS_TOKEN, or CLIENT_ID and CLIENT_SECRET"
    )
    assert _one_line(result) == line
    assert (json.loads(result.stdout) if as_json else result.stdout) == (
        {"error": line} if as_json else ""
    )


def test_apply_without_credentials_exits_2_and_records_nothing(
    migrated: Database, emulator: EmulatorServer
) -> None:
    result = _run("apply", str(EXAMPLE), "--workspace", emulator.url)

    assert result.exit_code == ExitCode.USAGE
    assert _one_line(result).startswith(f"No credentials for workspace {emulator.url}: ")
    with migrated.engine.connect() as connection:
        packs = connection.execute(select(func.count()).select_from(share_packs)).scalar_one()
    assert packs == 0


def test_plan_with_a_refused_token_exits_2_naming_the_workspace_and_the_setting(
    migrated: Database, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-made-up")

    result = _run("plan", str(EXAMPLE), "--workspace", emulator.url)

    assert result.exit_code == ExitCode.USAGE
    assert _one_line(result) == (
        f"Workspace {emulator.url} refused the token in DATABRICKS_TOKEN "
        "(Invalid access token): set a valid one"
    )


# -- 1: the operation failed -------------------------------------------------------------------


def test_a_pack_that_cannot_apply_exits_1_saying_why(
    workspace: EmulatorServer, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.yaml"
    missing.write_text(EXAMPLE.read_text().replace("sales.transactions", "sales.nowhere"))

    result = _run("plan", str(missing), "--workspace", workspace.url)

    assert result.exit_code == ExitCode.FAILED
    line = _one_line(result)
    assert line.startswith("Cannot apply: Pre-flight checks failed")
    assert "prod_catalog.sales.nowhere" in line


def test_status_of_an_unknown_pack_exits_1_naming_it(migrated: Database) -> None:
    result = _run("status", UNKNOWN_ID)

    assert result.exit_code == ExitCode.FAILED
    assert UNKNOWN_ID in _one_line(result)


@pytest.mark.parametrize(
    "args",
    [
        ["status", UNKNOWN_ID],
        ["access", "c.s.t"],
        ["plan", str(EXAMPLE), "--workspace", "https://adb-1.example.net"],
        ["apply", str(EXAMPLE), "--workspace", "https://adb-1.example.net"],
        ["db", "upgrade"],
        ["worker"],
        ["serve"],
    ],
    ids=lambda args: " ".join(args[:2]) if args[0] == "db" else args[0],
)
def test_with_the_database_down_every_command_prints_one_line_naming_it_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", DATABASE_DOWN)

    result = _run(*args)

    assert result.exit_code == ExitCode.FAILED
    line = _one_line(result)
    assert line.startswith(f"Cannot reach the database {DATABASE_DOWN_SHOWN}: ")
    assert "hunter2" not in result.output


def test_status_with_the_database_down_prints_one_line_and_exits_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", DATABASE_DOWN)

    result = _run("status", UNKNOWN_ID, "--json")

    assert (result.exit_code, result.stdout) == (ExitCode.FAILED, "")
    assert "Connection refused" in _one_line(result)


@pytest.mark.parametrize(
    "args",
    [
        ["status", UNKNOWN_ID],
        ["access", "c.s.t"],
        ["plan", str(EXAMPLE), "--workspace", "https://adb-1.example.net"],
    ],
    ids=lambda args: args[0],
)
def test_a_read_only_command_without_a_database_names_the_fix_and_creates_none(
    tmp_path: Path, args: list[str]
) -> None:
    result = _run(*args)

    assert result.exit_code == ExitCode.FAILED
    assert _one_line(result) == (
        "No database at sqlite:///.sharepack/sharepack.db: create it with `sharepack db upgrade`"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_command_on_an_older_schema_names_the_fix_and_migrates_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database = Database(f"sqlite:///{(tmp_path / 'old.db').as_posix()}")
    script = ScriptDirectory.from_config(database.alembic_config())
    head = script.get_current_head()
    assert head is not None
    older = script.get_revision(head).down_revision
    assert isinstance(older, str)
    alembic_command.upgrade(database.alembic_config(), older)
    database.dispose()
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", database.url)

    result = _run("status", UNKNOWN_ID)

    assert result.exit_code == ExitCode.FAILED
    line = _one_line(result)
    assert f"has schema version {older}, older than this sharepack's {head}" in line
    assert line.endswith("migrate it with `sharepack db upgrade`")
    assert _revision(database) == older


def test_a_database_without_the_schema_is_named_and_left_empty(postgres_url: str) -> None:
    result = CliRunner().invoke(
        app, ["access", "c.s.t"], env={"DOMAIN_DB_CONNECTION_STRING": postgres_url}
    )

    assert result.exit_code == ExitCode.FAILED
    assert _one_line(result).endswith(
        "has no sharepack schema: create it with `sharepack db upgrade`"
    )
    database = Database(postgres_url)
    try:
        assert database.table_count() == 0
    finally:
        database.dispose()


def test_a_workspace_that_fails_exits_1_in_one_line(workspace: EmulatorServer) -> None:
    workspace.add_fault(method="GET", path_regex=".*", status=500, times=10_000)

    result = _run("plan", str(EXAMPLE), "--workspace", workspace.url)

    assert result.exit_code == ExitCode.FAILED
    assert "Injected fault" in _one_line(result)


def test_a_workspace_that_cannot_be_reached_exits_1_in_one_line_naming_it(
    migrated: Database, tmp_path: Path
) -> None:
    # Run as a person runs it: a process of its own, whose stderr is all it prints.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    environment = {
        **os.environ,
        "DATABRICKS_TOKEN": EMULATOR_TOKEN,
        "SHAREPACK_WORKSPACE_RETRY_SECONDS": "1",
    }

    finished = subprocess.run(
        [sys.executable, "-m", "sharepack.cli.main", "plan", str(EXAMPLE), "--workspace", url],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert finished.returncode == ExitCode.FAILED
    assert finished.stderr.splitlines() == [
        f"Cannot reach workspace {url}: Connection refused (gave up after 1 s)"
    ]


def test_a_run_handed_over_on_an_error_exits_1_saying_so(
    workspace: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sharepack.usecases.plan_apply

    def lost(*_: object, **__: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(sharepack.usecases.plan_apply, "process_share_pack", lost)

    result = _run("apply", str(EXAMPLE), "--workspace", workspace.url)

    assert result.exit_code == ExitCode.FAILED
    line = result.stderr.splitlines()[-1]
    assert line.startswith("Handed over: Share pack ")
    assert "the database went away" in line


def test_any_other_sharepack_error_exits_1_in_one_line(migrated: Database) -> None:
    result = _run("access", "not-a-table")

    assert result.exit_code == ExitCode.FAILED
    assert _one_line(result) == "'not-a-table' is not a full table name catalog.schema.table"


# -- 130: interrupted ----------------------------------------------------------------------------


def test_a_command_interrupted_by_ctrl_c_exits_130(
    migrated: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sharepack.usecases.queries

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sharepack.usecases.queries, "share_pack_history", interrupted)

    result = _run("status", str(uuid.uuid4()))

    assert result.exit_code == ExitCode.INTERRUPTED
    assert _one_line(result) == "Interrupted"


def _revision(database: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    try:
        with database.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        database.dispose()
