"""`sharepack plan` and `sharepack apply` against the emulator, as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from databricks_emulator.server import EmulatorServer
from sharepack.cli.main import app
from sharepack.store import Database
from tests.conftest import EMULATOR_TOKEN, REPO_ROOT
from tests.emulator_helpers import write_calls

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, emulator: EmulatorServer, database: Database
) -> EmulatorServer:
    """The emulator, and a migrated database (`plan` only reads: it never migrates)."""
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", database.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", EMULATOR_TOKEN)
    monkeypatch.chdir(tmp_path)
    return emulator


def _run(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, list(args))
    body = json.loads(result.stdout) if result.stdout.strip().startswith("{") else result.stdout
    return result.exit_code, body


def test_plan_lists_the_changes_and_makes_none(cli_env: EmulatorServer) -> None:
    code, body = _run("plan", str(EXAMPLE), "--workspace", cli_env.url, "--json")

    assert code == 0
    kinds = [a["kind"] for a in body["actions"]]
    assert kinds == [
        "CREATE_RECIPIENT",
        "CREATE_SHARE",
        "UPDATE_SHARE_OBJECTS",
        "UPDATE_SHARE_GRANTS",
    ]
    assert len(write_calls(cli_env)) == 0


def test_plan_json_says_what_happens_to_each_resource_and_counts_it(
    cli_env: EmulatorServer,
) -> None:
    code, body = _run("plan", str(EXAMPLE), "--workspace", cli_env.url, "--json")

    assert code == 0
    assert body["summary"] == {"add": 2, "change": 0, "destroy": 0, "run": 0}
    assert {a["change"] for a in body["actions"]} == {"create"}
    (recipient,) = [a for a in body["actions"] if a["kind"] == "CREATE_RECIPIENT"]
    assert recipient["fields"]["allowed_ips"] == {
        "before": None,
        "after": ["192.168.1.0/24", "198.51.100.50"],
    }
    assert [(r["kind"], r["name"], r["change"]) for r in body["resources"]] == [
        ("recipient", "sales-analyst", "create"),
        ("share", "sales_q1_share", "create"),
    ]


def _changed_example(tmp_path: Path) -> Path:
    """The example, applied already: its recipient's comment and one IP changed, its share's
    comment left out (kept as the workspace has it)."""
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        EXAMPLE.read_text()
        .replace("strategy: NEW", "strategy: UPDATE")
        .replace("comment: External analyst", "comment: Outside analyst")
        .replace("198.51.100.50]", "203.0.113.9]")
        .replace("    comment: Q1 sales data\n", "")
    )
    return changed


def test_plan_text_shows_an_update_with_its_fields_and_terraform_s_summary(
    cli_env: EmulatorServer, tmp_path: Path
) -> None:
    assert _run("apply", str(EXAMPLE), "--workspace", cli_env.url, "--json")[0] == 0

    result = CliRunner().invoke(
        app, ["plan", str(_changed_example(tmp_path)), "--workspace", cli_env.url]
    )

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "  ~ recipient sales-analyst" in lines
    assert '      comment: "External analyst" -> "Outside analyst"' in lines
    assert "      allowed_ips: +203.0.113.9 -198.51.100.50" in lines
    assert "sales_q1_share" not in result.stdout  # its comment, left out, is kept
    assert not [line for line in lines if line.startswith("  + ")]
    assert lines[-1] == "Plan: 0 to add, 1 to change, 0 to destroy."
    assert "\x1b[" not in result.stdout  # not a terminal: no colour


def test_plan_text_is_coloured_like_terraform_s_on_a_terminal(
    cli_env: EmulatorServer, tmp_path: Path
) -> None:
    assert _run("apply", str(EXAMPLE), "--workspace", cli_env.url, "--json")[0] == 0
    changed = _changed_example(tmp_path)

    result = CliRunner().invoke(app, ["plan", str(changed), "--workspace", cli_env.url], color=True)

    assert result.exit_code == 0, result.output
    yellow_tilde = "\x1b[33m~\x1b[0m recipient sales-analyst"
    assert yellow_tilde in result.stdout


def test_apply_completes_then_reapply_makes_no_writes(cli_env: EmulatorServer) -> None:
    code, first = _run("apply", str(EXAMPLE), "--workspace", cli_env.url, "--json")
    writes_after_first = len(write_calls(cli_env))
    code_again, second = _run("apply", str(EXAMPLE), "--workspace", cli_env.url, "--json")

    assert (code, first["status"], first["actions"]) == (0, "COMPLETED", 4)
    assert first["api_calls"] >= 4
    assert first["rolled_back"] is False
    assert (code_again, second["status"], second["actions"]) == (0, "COMPLETED", 0)
    assert len(write_calls(cli_env)) == writes_after_first


def test_names_in_mixed_case_apply_once_and_reapply_without_writes(
    cli_env: EmulatorServer, tmp_path: Path
) -> None:
    # Unity Catalog keeps names in lower case; a pack may write them in any case.
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text(
        EXAMPLE.read_text()
        .replace("prod_catalog.sales.transactions", "Prod_Catalog.Sales.Transactions")
        .replace("sales_q1_share", "Sales_Q1_Share")
    )

    code, first = _run("apply", str(mixed), "--workspace", cli_env.url, "--json")
    writes_after_first = len(write_calls(cli_env))
    code_again, second = _run("apply", str(mixed), "--workspace", cli_env.url, "--json")

    assert (code, first["status"]) == (0, "COMPLETED")
    assert (code_again, second["status"], second["actions"]) == (0, "COMPLETED", 0)
    assert len(write_calls(cli_env)) == writes_after_first
    (share,) = httpx.get(f"{cli_env.url}/_emulator/state").json()["shares"]
    assert (share["name"], [o["name"] for o in share["objects"]]) == (
        "sales_q1_share",
        ["prod_catalog.sales.transactions"],
    )


def test_apply_that_fails_rolls_back_and_exits_1(cli_env: EmulatorServer) -> None:
    state_before = httpx.get(f"{cli_env.url}/_emulator/state").json()
    httpx.post(
        f"{cli_env.url}/_emulator/faults",
        json={"method": "PATCH", "path_regex": "/permissions$", "status": 500},
    ).raise_for_status()

    code, body = _run("apply", str(EXAMPLE), "--workspace", cli_env.url, "--json")

    assert code == 1
    assert body["status"] == "FAILED"
    assert body["rolled_back"] is True
    assert "sales_q1_share" in body["error"]
    assert httpx.get(f"{cli_env.url}/_emulator/state").json() == state_before


def test_a_rollback_that_cannot_undo_a_change_says_what_remains(
    cli_env: EmulatorServer,
) -> None:
    cli_env.add_fault(method="PATCH", path_regex="/permissions$", status=500)
    cli_env.add_fault(method="DELETE", path_regex="/recipients/sales-analyst$", status=500)

    code, body = _run("apply", str(EXAMPLE), "--workspace", cli_env.url, "--json")

    assert code == 1
    assert (body["status"], body["rollback_status"]) == ("FAILED", "ROLLBACK_FAILED")
    assert body["rolled_back"] is False
    assert "Rollback incomplete" in body["error"]
    assert "recipient 'sales-analyst'" in body["error"]
    state = cli_env.state()
    assert [r["name"] for r in state["recipients"]] == ["sales-analyst"]
    assert state["shares"] == []
    _, status = _run("status", body["share_pack_id"], "--json")
    assert status["rollback_status"] == "ROLLBACK_FAILED"


def test_apply_with_no_rollback_leaves_the_changes(cli_env: EmulatorServer) -> None:
    httpx.post(
        f"{cli_env.url}/_emulator/faults",
        json={"method": "PATCH", "path_regex": "/permissions$", "status": 500},
    ).raise_for_status()

    code, body = _run("apply", str(EXAMPLE), "--workspace", cli_env.url, "--no-rollback", "--json")

    assert code == 1
    assert (body["rolled_back"], body["rollback_status"]) == (False, "LEFT_IN_PLACE")
    names = [r["name"] for r in httpx.get(f"{cli_env.url}/_emulator/state").json()["recipients"]]
    assert names == ["sales-analyst"]


def test_invalid_file_exits_2_naming_the_problem(cli_env: EmulatorServer, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(EXAMPLE.read_text().replace("type: D2O", "type: D3X"))

    result = CliRunner().invoke(app, ["apply", str(broken), "--workspace", cli_env.url])

    assert result.exit_code == 2
    assert "broken.yaml" in result.stderr
    assert "recipient[0].type" in result.stderr
    assert len(write_calls(cli_env)) == 0


def test_missing_file_exits_2(cli_env: EmulatorServer) -> None:
    result = CliRunner().invoke(app, ["plan", "nope.yaml", "--workspace", cli_env.url])

    assert result.exit_code == 2
    assert "No such file: nope.yaml" in result.stderr


def _variant(tmp_path: Path, name: str, *, email: bool, second_share: bool = False) -> Path:
    text = EXAMPLE.read_text().replace("strategy: NEW", "strategy: UPDATE")
    if not email:
        text = text.replace("    email: analyst@partner.example.com\n", "")
    if second_share:
        text += (
            "  - name: sales_q2_share\n"
            "    recipients: [sales-analyst]\n"
            "    data_objects:\n"
            "      - prod_catalog.sales.transactions\n"
        )
    path = tmp_path / name
    path.write_text(text)
    return path


def _contact(emulator: EmulatorServer) -> Any:
    (recipient,) = httpx.get(f"{emulator.url}/_emulator/state").json()["recipients"]
    return recipient.get("properties_kvpairs")


def test_dropping_the_email_removes_it_once_then_reapplies_without_writes(
    cli_env: EmulatorServer, tmp_path: Path
) -> None:
    without = _variant(tmp_path, "without.yaml", email=False)
    _run("apply", str(EXAMPLE), "--workspace", cli_env.url, "--json")

    code, dropped = _run("apply", str(without), "--workspace", cli_env.url, "--json")
    writes = len(write_calls(cli_env))
    code_again, again = _run("apply", str(without), "--workspace", cli_env.url, "--json")

    assert (code, dropped["status"], dropped["actions"]) == (0, "COMPLETED", 1)
    assert (code_again, again["status"], again["actions"]) == (0, "COMPLETED", 0)
    assert len(write_calls(cli_env)) == writes
    assert not (_contact(cli_env) or {}).get("properties")


@pytest.mark.parametrize("had_email", [False, True], ids=["email-added", "email-removed"])
def test_rollback_restores_the_contact_email(
    cli_env: EmulatorServer, tmp_path: Path, had_email: bool
) -> None:
    first = _variant(tmp_path, "first.yaml", email=had_email)
    failing = _variant(tmp_path, "second.yaml", email=not had_email, second_share=True)
    assert _run("apply", str(first), "--workspace", cli_env.url)[0] == 0
    contact_before = _contact(cli_env)
    httpx.post(
        f"{cli_env.url}/_emulator/faults",
        json={"method": "PATCH", "path_regex": "/permissions$", "status": 500},
    ).raise_for_status()

    code, body = _run("apply", str(failing), "--workspace", cli_env.url, "--json")

    assert code == 1
    assert (body["rollback_status"], body["rolled_back"]) == ("ROLLED_BACK", True), body
    assert (_contact(cli_env) or {}).get("properties") == (contact_before or {}).get("properties")


def test_a_view_is_shared_as_a_view_and_reapplies_without_writes(
    cli_env: EmulatorServer, tmp_path: Path
) -> None:
    view = "prod_catalog.sales.recent_transactions"
    httpx.post(
        f"{cli_env.url}/_emulator/tables", json={"tables": [{"name": view, "table_type": "VIEW"}]}
    ).raise_for_status()
    pack = tmp_path / "view.yaml"
    pack.write_text(EXAMPLE.read_text().replace("prod_catalog.sales.transactions", view))

    code, first = _run("apply", str(pack), "--workspace", cli_env.url, "--json")
    writes = len(write_calls(cli_env))
    code_again, second = _run("apply", str(pack), "--workspace", cli_env.url, "--json")

    assert (code, first["status"]) == (0, "COMPLETED"), first
    assert (code_again, second["actions"]) == (0, 0)
    assert len(write_calls(cli_env)) == writes
    (share,) = httpx.get(f"{cli_env.url}/_emulator/state").json()["shares"]
    assert [(o["name"], o["data_object_type"]) for o in share["objects"]] == [(view, "VIEW")]


@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.parametrize("url", ["notaurl", "ftp://host.example.com", "https://", "http:///x"])
def test_a_workspace_that_is_not_a_url_exits_2_naming_it(
    cli_env: EmulatorServer, command: str, url: str
) -> None:
    result = CliRunner().invoke(app, [command, str(EXAMPLE), "--workspace", url])

    assert result.exit_code == 2
    assert f"'{url}'" in result.stderr
    assert "http" in result.stderr
    assert len(write_calls(cli_env)) == 0


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_workspace_url_longer_than_its_column_exits_2_before_anything_is_sent(
    cli_env: EmulatorServer, command: str
) -> None:
    url = f"{cli_env.url}/{'p' * 600}"

    code, body = _run(command, str(EXAMPLE), "--workspace", url, "--json")

    assert code == 2
    assert "The workspace URL is 623 characters long; at most 500 are accepted" in str(body)
    assert httpx.get(f"{cli_env.url}/_emulator/calls").json() == []


def test_apply_json_prints_the_object_for_a_workspace_that_is_not_a_url(
    cli_env: EmulatorServer,
) -> None:
    code, body = _run("apply", str(EXAMPLE), "--workspace", "notaurl", "--json")

    assert code == 2
    assert body["status"] == "VALIDATION_FAILED"
    assert "'notaurl'" in body["error"]
    assert body["share_pack_id"] is None


def test_apply_json_prints_the_object_for_an_invalid_file(
    cli_env: EmulatorServer, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(EXAMPLE.read_text().replace("type: D2O", "type: D3X"))

    code, body = _run("apply", str(broken), "--workspace", cli_env.url, "--json")

    assert code == 2
    assert body["status"] == "VALIDATION_FAILED"
    assert "recipient[0].type" in body["error"]
    assert (body["actions"], body["rolled_back"]) == (0, False)


def test_apply_json_prints_the_object_when_the_run_is_handed_over(
    cli_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sharepack.usecases.plan_apply

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sharepack.usecases.plan_apply, "process_share_pack", interrupted)

    code, body = _run("apply", str(EXAMPLE), "--workspace", cli_env.url, "--json")

    assert code == 130
    assert body["status"] == "IN_PROGRESS"
    assert body["share_pack_id"]
    assert "interrupted" in body["error"]


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["version"])

    assert result.exit_code == 0
    assert result.stdout.strip()


def _without_email(tmp_path: Path) -> Path:
    pack = tmp_path / "no_email.yaml"
    pack.write_text(EXAMPLE.read_text().replace("    email: analyst@partner.example.com", ""))
    return pack


def test_plan_shows_the_file_s_warnings_with_the_plan_s(
    cli_env: EmulatorServer, tmp_path: Path
) -> None:
    pack = _without_email(tmp_path)
    result = CliRunner().invoke(app, ["plan", str(pack), "--workspace", cli_env.url])
    code, body = _run("plan", str(pack), "--workspace", cli_env.url, "--json")

    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert "no_email.yaml:" in said
    assert "recipient[0].email: Recipient 'sales-analyst' is D2O" in said
    assert code == 0
    (warning,) = body["warnings"]
    assert "Recipient 'sales-analyst' is D2O (open sharing) and has no email" in warning
    (located,) = body["located_warnings"]
    assert located["field"] == "recipient[0].email"
    assert located["location"].startswith("no_email.yaml:")


def test_apply_shows_the_file_s_warnings(cli_env: EmulatorServer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["apply", str(_without_email(tmp_path)), "--workspace", cli_env.url]
    )

    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert "recipient[0].email: Recipient 'sales-analyst' is D2O" in said
