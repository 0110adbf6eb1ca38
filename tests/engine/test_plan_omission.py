"""What a field left out of a pack file means, from the file to the plan, the apply and the
rollback: a descriptive field left out (a comment, a pipeline's tags) is not managed and
keeps what the workspace has; an explicit empty value clears it. In a workbook an empty
cell is a field left out."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sharepack.engine import apply, names_of, plan, read_names, rollback
from sharepack.engine.actions import UpdateRecipient
from sharepack.packfile import SharePackConfig, load_share_pack
from sharepack.packfile.writer import write_xlsx
from sharepack.workspace.errors import WorkspaceUnavailableError
from sharepack.workspace.memory import InMemoryWorkspace
from sharepack.workspace.state import AuthenticationType, RecipientState, ShareObjectState
from tests.engine.observed import RecordingJournal
from tests.workspace_hooks import Hook, hooked_workspace

TABLE = "prod_catalog.sales.transactions"
HEADER = """\
metadata:
  requestor: a@example.com
  project_name: P
  business_line: B
  strategy: UPDATE
"""


def _yaml(*, recipient_comment: str = "", share_comment: str = "", ips: str = "") -> str:
    return (
        HEADER
        + "recipient:\n  - name: analyst\n    type: D2O\n"
        + ips
        + recipient_comment
        + "share:\n  - name: sales\n"
        + share_comment
        + f"    recipients: [analyst]\n    data_objects: [{TABLE}]\n"
    )


def _workspace() -> InMemoryWorkspace:
    """The analyst and the share as an earlier pack left them, comments and all."""
    workspace = InMemoryWorkspace(tables=[TABLE])
    workspace.create_recipient(
        RecipientState(
            name="analyst",
            authentication_type=AuthenticationType.TOKEN,
            comment="Analyst of Q1",
            allowed_ips=("10.0.0.1",),
        )
    )
    workspace.create_share("sales", "Q1 sales")
    workspace.update_share_objects("sales", [ShareObjectState(name=TABLE)], [])
    workspace.update_share_grants("sales", ["analyst"], [])
    return workspace


def _planned(config: SharePackConfig, workspace: InMemoryWorkspace) -> list[tuple[str, str]]:
    the_plan = plan(config, read_names(workspace, names_of(config)))
    return [(a.kind.value, a.resource) for a in the_plan.actions]


def _config(text: str) -> SharePackConfig:
    return load_share_pack(text.encode(), "pack.yaml").config


IPS = "    allowed_ips: [10.0.0.1]\n"


def test_a_file_that_omits_the_comments_keeps_those_the_workspace_has() -> None:
    config = _config(_yaml(ips=IPS))

    assert _planned(config, _workspace()) == []


def test_an_explicit_empty_comment_clears_it() -> None:
    config = _config(
        _yaml(ips=IPS, recipient_comment='    comment: ""\n', share_comment="    comment: ''\n")
    )

    assert _planned(config, _workspace()) == [
        ("UPDATE_RECIPIENT", "analyst"),
        ("UPDATE_SHARE_COMMENT", "sales"),
    ]


def test_an_empty_comment_cell_in_a_workbook_is_a_comment_left_out(tmp_path: Path) -> None:
    declared = _config(_yaml(ips=IPS, share_comment='    comment: ""\n'))
    path = tmp_path / "pack.xlsx"
    write_xlsx(declared, path)  # an empty comment is an empty cell: Excel has no other

    config = load_share_pack(path.read_bytes(), "pack.xlsx").config

    assert (config.shares[0].comment, config.recipients[0].comment) == (None, None)
    assert _planned(config, _workspace()) == []


def test_a_change_that_omits_the_comment_leaves_it_as_it_is() -> None:
    workspace = _workspace()
    config = _config(_yaml(ips="    allowed_ips: [10.0.0.1, 198.51.100.50]\n"))

    result = apply(
        plan(config, read_names(workspace, names_of(config))), workspace, RecordingJournal()
    )

    assert result.ok, result.error
    analyst = workspace.read_state(recipients=["analyst"]).recipients["analyst"]
    assert (analyst.comment, analyst.allowed_ips) == (
        "Analyst of Q1",
        ("10.0.0.1", "198.51.100.50"),
    )
    assert plan(config, read_names(workspace, names_of(config))).is_empty


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_comment_an_admin_changes_during_a_run_that_omits_it_is_no_conflict(
    concurrency: int,
) -> None:
    workspace = _workspace()
    config = _config(
        _yaml(ips="    allowed_ips: [10.0.0.1, 198.51.100.50]\n")
        + "  - name: sales_q2\n    recipients: [analyst]\n"
        + f"    data_objects: [{TABLE}]\n"
    )

    def admin_edits_the_comment_then_grants_fail() -> None:
        current = workspace.read_state(recipients=["analyst"]).recipients["analyst"]
        workspace.update_recipient(replace(current, comment="Edited by an admin"))
        raise WorkspaceUnavailableError("Updating the grants of share 'sales_q2': 500 Internal")

    the_plan = plan(config, read_names(workspace, names_of(config)))
    assert any(isinstance(a, UpdateRecipient) for a in the_plan.actions)
    before = read_names(workspace, the_plan.names)
    journal = RecordingJournal()
    hook = Hook("update_share_grants", before=admin_edits_the_comment_then_grants_fail)
    result = apply(the_plan, hooked_workspace(workspace, hook), journal, concurrency=concurrency)
    assert result.failed is not None

    outcome = rollback(
        result.done,
        workspace,
        journal,
        before=before,
        names=the_plan.names,
        failed=result.failures,
    )

    # The run never set the comment: the admin's is theirs, kept, and stands in no undo's way.
    assert outcome.restored, (outcome.failures, outcome.differences)
    assert not outcome.conflicts, outcome.kept
    analyst = workspace.read_state(recipients=["analyst"]).recipients["analyst"]
    assert (analyst.comment, analyst.allowed_ips) == ("Edited by an admin", ("10.0.0.1",))
