"""`prune` through the service: what a project no longer names goes, from the workspace and
from who-could-read, and a failed prune puts both back."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from databricks_emulator.server import EmulatorServer
from sharepack.cli.main import app
from sharepack.store import Database
from tests.conftest import EMULATOR_TOKEN

ORDERS = "prod_catalog.sales.orders"
HEADER = "metadata: {requestor: ana@example.com, project_name: Partners, business_line: Sales"
FIRST = f"""{HEADER}}}
recipient:
  - {{name: keeper, type: D2O, email: k@partner.example.com}}
  - {{name: leaver, type: D2O, email: l@partner.example.com}}
share:
  - {{name: kept_share, recipients: [keeper], data_objects: [prod_catalog.sales.transactions]}}
  - {{name: gone_share, recipients: [leaver], data_objects: [{ORDERS}]}}
"""
PRUNED = f"""{HEADER}, strategy: UPDATE, prune: true}}
recipient:
  - {{name: keeper, type: D2O, email: k@partner.example.com}}
share:
  - {{name: kept_share, recipients: [keeper], data_objects: [prod_catalog.sales.transactions]}}
"""


@pytest.fixture
def first_applied(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, emulator: EmulatorServer, database_url: str
) -> Path:
    """The project's first pack applied; returns the pruning pack's file."""
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", database_url)
    monkeypatch.setenv("DATABRICKS_TOKEN", EMULATOR_TOKEN)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "first.yaml").write_text(FIRST)
    (tmp_path / "pruned.yaml").write_text(PRUNED)
    code, out = _run("apply", "first.yaml", "--workspace", emulator.url, "--json")
    assert code == 0, out
    return tmp_path / "pruned.yaml"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def _names(emulator: EmulatorServer) -> tuple[list[str], list[str]]:
    state = emulator.state()
    return [r["name"] for r in state["recipients"]], [s["name"] for s in state["shares"]]


def _readers(table: str) -> list[str]:
    code, out = _run("access", table, "--json")
    assert code == 0, out
    readers: list[str] = json.loads(out)["recipients"]
    return readers


def test_plan_shows_what_prune_would_delete(first_applied: Path, emulator: EmulatorServer) -> None:
    code, out = _run("plan", str(first_applied), "--workspace", emulator.url, "--json")

    assert code == 0, out
    kinds = {(a["kind"], a["resource"]) for a in json.loads(out)["actions"]}
    assert ("DELETE_SHARE", "gone_share") in kinds
    assert ("DELETE_RECIPIENT", "leaver") in kinds
    assert _names(emulator) == (["keeper", "leaver"], ["gone_share", "kept_share"])


def test_plan_text_shows_what_prune_would_delete_as_destroyed(
    first_applied: Path, emulator: EmulatorServer
) -> None:
    code, out = _run("plan", str(first_applied), "--workspace", emulator.url)

    assert code == 0, out
    lines = out.splitlines()
    assert "  - share gone_share" in lines
    assert "  - recipient leaver" in lines
    assert not [line for line in lines if line.startswith("  + ")]
    assert lines[-1] == "Plan: 0 to add, 0 to change, 2 to destroy."


def test_prune_deletes_what_the_project_no_longer_names_and_the_history_says_so(
    first_applied: Path, emulator: EmulatorServer, database_url: str
) -> None:
    assert _readers(ORDERS) == ["leaver"]

    code, out = _run("apply", str(first_applied), "--workspace", emulator.url, "--json")

    assert code == 0, out
    assert _names(emulator) == (["keeper"], ["kept_share"])
    assert _readers(ORDERS) == []
    assert _readers("prod_catalog.sales.transactions") == ["keeper"]
    database = Database(database_url)
    try:
        with database.unit_of_work() as uow:
            workspace = uow.share_packs.get_current(
                uuid.UUID(json.loads(out)["share_pack_id"])
            ).workspace_url
            leaver = uow.recipients.history(workspace, "leaver")
            gone = uow.shares.history(workspace, "gone_share")
    finally:
        database.dispose()
    assert (leaver[-1].is_deleted, gone[-1].is_deleted) == (True, True)
    assert "delete" in leaver[-1].change_reason.lower()


def test_a_prune_that_fails_puts_the_workspace_and_the_history_back(
    first_applied: Path, emulator: EmulatorServer, database_url: str
) -> None:
    emulator.add_fault(
        method="DELETE", path_regex="/recipients/leaver$", nth=1, times=1, status=500
    )

    code, out = _run("apply", str(first_applied), "--workspace", emulator.url, "--json")

    body = json.loads(out)
    assert code == 1, out
    assert body["rollback_status"] == "ROLLED_BACK", body
    assert _names(emulator) == (["keeper", "leaver"], ["gone_share", "kept_share"])
    assert emulator.state()["grants"]["gone_share"] == {"leaver": ["SELECT"]}
    assert _readers(ORDERS) == ["leaver"]
    database = Database(database_url)
    try:
        with database.unit_of_work() as uow:
            workspace = uow.share_packs.get_current(uuid.UUID(body["share_pack_id"])).workspace_url
            gone = uow.shares.history(workspace, "gone_share")
    finally:
        database.dispose()
    assert not gone[-1].is_deleted
    assert gone[-1].change_reason.startswith("Rollback:")
    assert gone[-1].share_pack_id != uuid.UUID(body["share_pack_id"])
