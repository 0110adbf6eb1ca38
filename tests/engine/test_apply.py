"""Apply on an in-memory workspace: what a progress display is told, and when."""

from __future__ import annotations

from sharepack.engine import InMemoryJournal, Plan, names_of, plan, read_names
from sharepack.engine.actions import PlanAction
from sharepack.engine.apply import apply
from sharepack.engine.journal import ActionStatus
from sharepack.packfile import load_share_pack
from sharepack.workspace.errors import InvalidRequestError
from sharepack.workspace.memory import InMemoryWorkspace
from tests.conftest import REPO_ROOT
from tests.workspace_hooks import Hook, hooked_workspace

TABLE = "prod_catalog.sales.transactions"


def _example_planned() -> tuple[InMemoryWorkspace, Plan]:
    config = load_share_pack((REPO_ROOT / "examples" / "sharepack.yaml").read_bytes(), "p.yaml")
    workspace = InMemoryWorkspace(tables=[TABLE])
    return workspace, plan(config.config, read_names(workspace, names_of(config.config)))


def test_progress_hears_of_each_action_when_it_starts_and_when_it_ends() -> None:
    workspace, the_plan = _example_planned()
    heard: list[tuple[str, ActionStatus]] = []

    def progress(action: PlanAction, status: ActionStatus) -> None:
        heard.append((action.action_id, status))

    result = apply(the_plan, workspace, InMemoryJournal(), concurrency=2, on_progress=progress)

    assert result.ok
    for action in the_plan.actions:
        events = [status for action_id, status in heard if action_id == action.action_id]
        assert events == [ActionStatus.PENDING, ActionStatus.DONE], action.action_id


def test_after_a_failure_no_dependent_action_is_started() -> None:
    workspace, the_plan = _example_planned()

    def refuse() -> None:
        raise InvalidRequestError("Creating recipient 'sales-analyst': refused")

    refusing = hooked_workspace(workspace, Hook("create_recipient", before=refuse))
    journal = InMemoryJournal()

    result = apply(the_plan, refusing, journal, concurrency=8)

    assert result.failed is not None
    assert result.failed.action_id == "create-recipient:sales-analyst"
    journaled = {e.action.action_id: e.status for e in journal.entries()}
    assert journaled["create-recipient:sales-analyst"] is ActionStatus.FAILED
    grants = [a for a in the_plan.actions if "create-recipient:sales-analyst" in a.depends_on]
    assert grants
    assert all(a.action_id not in journaled for a in grants)
