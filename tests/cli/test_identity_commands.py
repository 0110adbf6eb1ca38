"""`sharepack keys` and `sharepack audit`, and the operator `apply` records."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from databricks_emulator.emulator import CURRENT_USER
from databricks_emulator.server import EmulatorServer
from sharepack.cli.main import app
from sharepack.runtime import build_runtime
from sharepack.settings import load_settings
from tests.api_server import running_api
from tests.conftest import EMULATOR_TOKEN, REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, emulator: EmulatorServer, database_url: str
) -> EmulatorServer:
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", database_url)
    monkeypatch.setenv("DATABRICKS_TOKEN", EMULATOR_TOKEN)
    monkeypatch.setenv("SHAREPACK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHAREPACK_WORKSPACE_URLS", emulator.url)
    monkeypatch.chdir(tmp_path)
    return emulator


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_created_key_is_shown_once_works_and_stops_working_once_revoked(
    cli_env: EmulatorServer,
) -> None:
    code, out, err = _run(
        "keys", "create", "--name", "ci", "--role", "requestor",
        "--business-line", "Sales Operations", "--owner", "john.doe@example.com",
    )  # fmt: skip
    assert code == 0, err
    key = out.strip()
    assert key.startswith("spk_")
    assert "shown only now" in err

    code, listed, _ = _run("keys", "list", "--json")
    (row,) = json.loads(listed)
    assert (row["name"], row["role"], row["business_lines"]) == (
        "ci", "requestor", ["Sales Operations"]
    )  # fmt: skip
    assert row["last_used_at"] is None
    assert key not in listed

    runtime = build_runtime(load_settings())
    try:
        with running_api(runtime, with_worker=False) as api:
            upload = httpx.post(
                f"{api}/workflow/sharepack/upload",
                headers={"Authorization": f"Bearer {key}", "X-Workspace-URL": cli_env.url},
                files={"file": ("pack.yaml", EXAMPLE.read_bytes())},
                timeout=30,
            )
            assert upload.status_code == 202, upload.text
            assert upload.json()["SharePackName"].startswith("SharePack_john.doe@example.com_")
            _, listed, _ = _run("keys", "list", "--json")
            (ci,) = [k for k in json.loads(listed) if k["name"] == "ci"]
            assert ci["last_used_at"] is not None

            code, out, err = _run("keys", "revoke", "ci")
            assert code == 0, err
            refused = httpx.get(
                f"{api}/workflow/sharepack/{upload.json()['SharePackId']}",
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            )
            assert refused.status_code == 401
            assert "revoked" in refused.json()["Message"]
    finally:
        runtime.close()

    _, still, _ = _run("keys", "list", "--json")
    assert "ci" not in [k["name"] for k in json.loads(still)]
    _, everything, _ = _run("keys", "list", "--all", "--json")
    (ci,) = [k for k in json.loads(everything) if k["name"] == "ci"]
    assert ci["revoked_at"] is not None


def test_key_commands_refuse_bad_input_with_exit_2_and_a_located_message(
    cli_env: EmulatorServer,
) -> None:
    code, _, err = _run("keys", "create", "--name", "ci", "--role", "requestor")
    assert code == 2
    assert "--business-line" in err

    assert _run("keys", "create", "--name", "ci", "--role", "admin")[0] == 0
    code, _, err = _run("keys", "create", "--name", "ci", "--role", "admin")
    assert code == 2
    assert "An active API key named 'ci' exists" in err

    code, _, err = _run("keys", "create", "--name", "x", "--role", "owner")
    assert code == 2
    assert "owner" in err

    code, _, err = _run("keys", "revoke", "nobody")
    assert code == 1
    assert "nobody" in err


def test_apply_and_key_changes_are_on_the_audit_trail_with_their_operator(
    cli_env: EmulatorServer,
) -> None:
    code, out, err = _run("apply", str(EXAMPLE), "--workspace", cli_env.url, "--json")
    assert code == 0, err
    pack_id = json.loads(out)["share_pack_id"]
    assert _run("keys", "create", "--name", "auditor", "--role", "auditor",
                "--business-line", "*")[0] == 0  # fmt: skip

    code, out, _ = _run("audit", "--since", "1h", "--json")
    assert code == 0
    rows = json.loads(out)
    actions = [(r["action"], r["principal"]) for r in rows]
    operator = f"cli:{getpass.getuser()}"
    assert ("create_api_key", operator) in actions
    assert ("apply", f"{operator} (Databricks: {CURRENT_USER})") in actions
    (applied,) = [r for r in rows if r["action"] == "apply"]
    assert applied["entity_id"] == pack_id
    assert applied["business_line"] == "Sales Operations"
    assert applied["auth_method"] == "cli"
    assert rows == sorted(rows, key=lambda r: r["at"], reverse=True)

    code, text, _ = _run("audit", "--business-line", "sales operations")
    assert code == 0
    assert "apply share_pack" in text
    assert "create_api_key" not in text  # a key has no business line

    _, none, _ = _run("audit", "--principal", "someone-else", "--json")
    assert json.loads(none) == []
    code, _, err = _run("audit", "--since", "yesterday")
    assert code == 2
    assert "--since 'yesterday'" in err
