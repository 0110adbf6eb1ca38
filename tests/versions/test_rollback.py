"""Rolling a project back to an earlier version, against the emulator through the CLI:
what the earlier version had comes back, what it did not have goes, the rollback is itself
a version, verification compares the workspace with a version, and the plan says where
the result cannot be exactly the earlier version."""

from __future__ import annotations

import json

from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from tests.versions.conftest import (
    V1,
    V2,
    V3,
    Cli,
    apply_versions,
    change_objects,
    versions,
    view,
)


def test_each_completed_run_is_a_numbered_version_with_what_it_changed(
    cli: Cli, emulator: EmulatorServer
) -> None:
    v1, v2 = apply_versions(cli, emulator, V1, V2)
    assert (v1["number"], v1["kind"], v2["number"], v2["kind"]) == (1, "APPLIED", 2, "APPLIED")
    assert v1["changes"][-1] == "Plan: 3 to add, 0 to change, 0 to destroy."
    assert any("r-beta" in line for line in v2["changes"])  # pruned by v2
    assert v2["states_kept"]
    assert v2["created_by"] == "sharepack-worker"
    code, text = cli("rollback", "--list", "--project", "versions trial")
    assert code == 0
    assert v1["version_id"][:8] in text
    assert v2["version_id"][:8] in text


def test_rollback_to_the_previous_version_brings_back_what_it_had_and_removes_the_rest(
    cli: Cli, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    (v1,) = apply_versions(cli, emulator, V1)
    at_v1 = view(workspace_client)
    apply_versions(cli, emulator, V2)
    assert view(workspace_client) != at_v1

    code, output = cli("rollback", "--id", v1["version_id"][:8], "--yes", "--json")

    assert code == 0, output
    result = json.loads(output[output.index("{") :])
    assert result["status"] == "COMPLETED"
    assert result["differences"] == []
    assert view(workspace_client) == at_v1  # r-gamma and s_extra gone; r-beta back
    newest = versions(cli)[0]
    assert (newest["number"], newest["kind"], newest["restores"]) == (
        3,
        "ROLLBACK",
        v1["version_id"],
    )
    assert newest["change_reason"].startswith("Rolled back to version 1 by cli:")


def test_rollback_to_an_older_version_past_two_later_ones(
    cli: Cli, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    (v1,) = apply_versions(cli, emulator, V1)
    at_v1 = view(workspace_client)
    apply_versions(cli, emulator, V2, V3)
    assert "r-delta" in view(workspace_client)["recipients"]

    code, output = cli("rollback", "--id", v1["version_id"], "--yes")

    assert code == 0, output
    assert "Verified: the workspace holds version 1" in output
    assert view(workspace_client) == at_v1
    assert [v["number"] for v in versions(cli)] == [4, 3, 2, 1]


def test_verify_alone_compares_and_changes_nothing(
    cli: Cli, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    v1, v2 = apply_versions(cli, emulator, V1, V2)
    code, output = cli("rollback", "--id", v2["version_id"], "--verify")
    assert (code, "Verified" in output) == (0, True), output

    change_objects(workspace_client, "s_main", add="prod_catalog.hr.employees")
    before = view(workspace_client)
    code, output = cli("rollback", "--id", v2["version_id"], "--verify")
    assert code == 3, output
    assert "share 's_main': objects +['prod_catalog.hr.employees'] -[]" in output

    # Against version 1: what v2 added, and r-beta missing.
    code, output = cli("rollback", "--id", v1["version_id"][:8], "--verify", "--json")
    assert code == 3
    found = json.loads(output)["differences"]
    assert "recipient 'r-beta' is missing (it existed before)" in found
    assert "share 's_extra' exists (it did not before)" in found
    assert view(workspace_client) == before
    assert len(versions(cli)) == 2


def test_the_plan_says_before_anything_runs_where_it_cannot_restore_exactly(
    cli: Cli, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    v1, _ = apply_versions(cli, emulator, V1, V2)
    before = view(workspace_client)

    # Not a terminal and no --yes: the plan is shown, nothing is applied.
    code, output = cli("rollback", "--id", v1["version_id"])

    assert code == 2, output
    assert "Recipient 'r-beta' is created again: a TOKEN recipient made again has a new " in (
        output.replace("\n", " ").replace("  ", " ")
    )
    assert "activation link" in output
    assert "add --yes" in output
    assert view(workspace_client) == before
    assert len(versions(cli)) == 2


def test_an_unknown_or_ambiguous_id_and_wrong_flag_mixes_are_refused(
    cli: Cli, emulator: EmulatorServer
) -> None:
    apply_versions(cli, emulator, V1)
    assert cli("rollback", "--id", "00000000")[0] == 1
    code, output = cli("rollback", "--id", "0123")
    assert code == 1
    assert "too short" in output
    assert cli("rollback", "--list", "--id", "x")[0] == 2
    assert cli("rollback", "--verify")[0] == 2
    assert cli("rollback")[0] == 2
