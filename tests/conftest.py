"""Fixtures shared by the whole suite: the emulator, a database, and a runtime wired to both."""

from __future__ import annotations

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
    """The session's emulator, reset to its seed fixture for this test."""
    import httpx

    httpx.post(f"{emulator_server.url}/_emulator/reset").raise_for_status()
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
def sharepack_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, emulator: EmulatorServer, database_url: str
) -> Callable[..., tuple[int, str]]:
    """`sharepack <command> <args...> --workspace <emulator>` as an operator would run it:
    the test's database, the emulator's token, the emulator allow-listed; a first argument
    that is a pack's text (it starts `metadata:`) stands for a file holding it."""
    from typer.testing import CliRunner

    from sharepack.cli.main import app

    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", database_url)
    monkeypatch.setenv("DATABRICKS_TOKEN", EMULATOR_TOKEN)
    monkeypatch.setenv("SHAREPACK_WORKSPACE_URLS", emulator.url)
    monkeypatch.chdir(tmp_path)
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
