"""`sharepack access` and `sharepack status`: what an auditor or operator asks the history."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from databricks_emulator.emulator import CURRENT_USER
from databricks_emulator.server import EmulatorServer
from sharepack.cli.main import app
from sharepack.store import Database
from tests.conftest import EMULATOR_TOKEN, REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"
TABLE = "prod_catalog.sales.transactions"


@pytest.fixture
def applied(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, emulator: EmulatorServer, database_url: str
) -> tuple[str, datetime]:
    """The example pack applied through the CLI: its id, and a moment before it ran."""
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", database_url)
    monkeypatch.setenv("DATABRICKS_TOKEN", EMULATOR_TOKEN)
    monkeypatch.chdir(tmp_path)
    before = datetime.now(UTC)
    result = CliRunner().invoke(app, ["apply", str(EXAMPLE), "--workspace", emulator.url, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["share_pack_id"], before


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _names(access_json: str) -> list[str]:
    names: list[str] = json.loads(access_json)["recipients"]
    return names


def test_access_lists_who_could_read_a_table_now_and_not_before(
    applied: tuple[str, datetime],
) -> None:
    _, before = applied

    code, now, _ = _run("access", TABLE, "--json")
    code_before, earlier, _ = _run("access", TABLE.upper(), "--at", before.isoformat(), "--json")

    assert code == 0
    assert _names(now) == ["sales-analyst"]
    assert code_before == 0
    assert json.loads(earlier) == {
        "table": TABLE,
        "at": before.isoformat(),
        "recipients": [],
        "readers": [],
    }


def test_access_text_names_the_recipients(applied: tuple[str, datetime]) -> None:
    code, out, _ = _run("access", TABLE)

    assert code == 0
    assert "sales-analyst" in out


def test_each_reader_names_its_workspace_url_and_id(
    applied: tuple[str, datetime], emulator: EmulatorServer
) -> None:
    code, out, _ = _run("access", TABLE, "--json")
    text_code, text, _ = _run("access", TABLE)

    assert code == 0
    body = json.loads(out)
    assert body["recipients"] == ["sales-analyst"]  # the first form, kept for its readers
    assert body["readers"] == [
        {
            "name": "sales-analyst",
            "workspace_url": emulator.url,
            "workspace_id": str(emulator.workspace_id),
        }
    ]
    assert text_code == 0
    (line,) = [line for line in text.splitlines() if "sales-analyst" in line]
    assert emulator.url in line
    assert str(emulator.workspace_id) in line


def test_access_with_a_malformed_time_exits_2_naming_it(applied: tuple[str, datetime]) -> None:
    code, _, err = _run("access", TABLE, "--at", "last tuesday")

    assert code == 2
    assert "last tuesday" in err


def test_status_shows_the_outcome_the_workspace_and_the_history(
    applied: tuple[str, datetime], emulator: EmulatorServer
) -> None:
    pack_id, _ = applied

    code, out, _ = _run("status", pack_id, "--json")

    assert code == 0
    body = json.loads(out)
    assert (body["status"], body["rollback_status"]) == ("COMPLETED", "NOT_NEEDED")
    assert body["workspace_url"] == emulator.url
    assert body["workspace_id"] == str(emulator.workspace_id)
    assert body["requested_by"] == "john.doe@example.com"
    assert body["submitted_by"] == f"cli:{getpass.getuser()} (Databricks: {CURRENT_USER})"
    reasons = [version["change_reason"] for version in body["history"]]
    assert reasons[0] == "Share pack uploaded"
    assert reasons[-1] == "Provisioning completed"


def test_status_text_names_the_workspace_url_and_id(
    applied: tuple[str, datetime], emulator: EmulatorServer
) -> None:
    pack_id, _ = applied

    code, out, _ = _run("status", pack_id)

    assert code == 0
    first = out.splitlines()[0]
    assert emulator.url in first
    assert str(emulator.workspace_id) in first


def test_status_of_an_unknown_pack_exits_1_naming_it(applied: tuple[str, datetime]) -> None:
    code, _, err = _run("status", "00000000-0000-0000-0000-000000000000")

    assert code == 1
    assert "00000000-0000-0000-0000-000000000000" in err


def test_an_update_that_no_longer_lists_a_table_keeps_who_can_still_read_it(
    applied: tuple[str, datetime], tmp_path: Path, emulator: EmulatorServer
) -> None:
    """Without prune the share keeps the first pack's table and grant: the history must too."""
    update = tmp_path / "update.yaml"
    update.write_text(
        "metadata: {requestor: jane@example.com, project_name: Orders, business_line: Sales,"
        " strategy: UPDATE}\n"
        "recipient:\n"
        "  - {name: orders-analyst, type: D2O, email: o@partner.example.com}\n"
        "share:\n"
        "  - name: sales_q1_share\n"
        "    recipients: [orders-analyst]\n"
        "    data_objects: [prod_catalog.sales.orders]\n"
    )
    code, out, _ = _run("apply", str(update), "--workspace", emulator.url, "--json")
    assert code == 0, out

    _, still, _ = _run("access", TABLE, "--json")
    _, added, _ = _run("access", "prod_catalog.sales.orders", "--json")

    assert _names(still) == ["orders-analyst", "sales-analyst"]
    assert _names(added) == ["orders-analyst", "sales-analyst"]


@pytest.fixture
def migrated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str, database: Database
) -> None:
    """The configured database has the schema and no history."""
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", database_url)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("workspace", ["notaurl", "ftp://host", "https://", f"https://{'a' * 600}"])
@pytest.mark.usefixtures("migrated")
def test_access_refuses_a_workspace_that_plan_refuses_with_the_same_line(workspace: str) -> None:
    plan_code, _, plan_err = _run("plan", str(EXAMPLE), "--workspace", workspace)
    code, out, err = _run("access", TABLE, "--workspace", workspace)

    assert plan_code == 2
    assert (code, out) == (2, "")
    assert err == plan_err
    assert len(err.strip().splitlines()) == 1
