"""Fixtures shared by the whole suite: the emulator, a database, and a runtime wired to both."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported where used: tests that need none of them start faster
    from databricks.sdk import WorkspaceClient

    from databricks_emulator.server import EmulatorServer
    from sharepack.runtime import Runtime
    from sharepack.settings import Settings

EMULATOR_TOKEN = "dapi-test-token"
REPO_ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.db_fixtures"]


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    from databricks_emulator.server import EmulatorServer

    server = EmulatorServer(token=EMULATOR_TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> EmulatorServer:
    """The session's emulator, reset to its seed fixture for this test (through its
    control call, which waits 30 s: httpx's 5 s default failed a test on a loaded machine)."""
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def workspace_client(emulator: EmulatorServer) -> WorkspaceClient:
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient(host=emulator.url, token=EMULATOR_TOKEN, auth_type="pat")


@pytest.fixture
def settings(tmp_path: Path, emulator: EmulatorServer, database_url: str) -> Settings:
    from pydantic import SecretStr

    from sharepack.settings import Settings

    return Settings(
        _env_file=None,
        sharepack_data_dir=tmp_path / "data",
        domain_db_connection_string=database_url,
        sharepack_workspace_urls=[emulator.url],
        databricks_token=SecretStr(EMULATOR_TOKEN),
        sharepack_worker_poll_seconds=0.05,
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    from sharepack.runtime import build_runtime

    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


@pytest.fixture
def operator_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: Settings, emulator: EmulatorServer
) -> None:
    """An operator's settings for the CLI: the test's database, the emulator allow-listed,
    its token; nothing from the caller's environment or a `.env`."""
    from sharepack.settings import Settings

    for key in list(os.environ):
        if key.lower() in Settings.model_fields or key.startswith("DATABRICKS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no.databrickscfg"))
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", settings.database_url)
    monkeypatch.setenv("SHAREPACK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHAREPACK_WORKSPACE_URLS", emulator.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", EMULATOR_TOKEN)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def sharepack_cli(
    operator_environment: None, tmp_path: Path, emulator: EmulatorServer
) -> Callable[..., tuple[int, str]]:
    """`sharepack <command> <args...> --workspace <emulator>` as an operator would run it
    (`operator_environment`); a first argument that is a pack's text (it starts
    `metadata:`) stands for a file holding it."""
    from typer.testing import CliRunner

    from sharepack.cli.main import app

    files = iter(range(1000))

    def run(command: str, *args: str, workspace: bool = True) -> tuple[int, str]:
        if args and args[0].startswith("metadata:"):
            path = tmp_path / f"pack{next(files)}.yaml"
            path.write_text(args[0])
            args = (str(path), *args[1:])
        named = ["--workspace", emulator.url] if workspace else []
        result = CliRunner().invoke(app, [command, *args, *named])
        return result.exit_code, result.stdout

    return run
