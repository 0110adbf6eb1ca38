"""Rollback on an in-memory workspace: a run that fails partway is undone newest first and
verified; what another changed meanwhile is kept and reported; a restore that does not
hold is reported, not called restored."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sharepack.engine import (
    Plan,
    RollbackResult,
    apply,
    names_of,
    plan,
    read_names,
    rollback,
    verify,
)
from sharepack.engine.apply import ApplyResult
from sharepack.engine.journal import ActionStatus
from sharepack.packfile.models import (
    Metadata,
    PipelineSpec,
    RecipientSpec,
    RecipientType,
    ScheduleSpec,
    SharePackConfig,
    ShareSpec,
    Strategy,
)
from sharepack.workspace.errors import WorkspaceUnavailableError
from sharepack.workspace.memory import InMemoryWorkspace
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.state import AuthenticationType, RecipientState, WorkspaceState
from tests.engine.observed import RecordingJournal
from tests.workspace_hooks import Hook, hooked_workspace

TABLE = "prod_catalog.sales.transactions"
SOURCE = "raw_catalog.sales.transactions"
TARGET = "prod_catalog.sales.rollback_daily"
ADMIN_IP = "203.0.113.7"
ANALYST = RecipientSpec(
    name="analyst",
    type=RecipientType.D2O,
    email="analyst@partner.example.com",
    allowed_ips=("192.168.1.0/24",),
    comment="External analyst",
)
FEED = PipelineSpec(
    name="rollback_feed",
    source_asset=SOURCE,
    target_asset=TARGET,
    key_columns=("id",),
    schedule=ScheduleSpec(cron="0 0 2 * * ?"),
)


def _pack(strategy: Strategy = Strategy.NEW) -> SharePackConfig:
    return SharePackConfig(
        metadata=Metadata(
            requestor="a@example.com", project_name="P", business_line="B", strategy=strategy
        ),
        recipients=(ANALYST,),
        shares=(
            ShareSpec(
                name="sales",
                comment="Sales tables",
                recipients=("analyst",),
                data_objects=(TABLE, TARGET),
                pipelines=(FEED,),
            ),
        ),
    )


def _grants_fail() -> Hook:
    """The run's grant call fails: the workspace answers a server error."""

    def fail() -> None:
        raise WorkspaceUnavailableError("Updating the grants of share 'sales': 500 Internal")

    return Hook("update_share_grants", before=fail)


def _failed_run(
    workspace: InMemoryWorkspace, config: SharePackConfig, hook: Hook
) -> tuple[Plan, WorkspaceState, ApplyResult, RecordingJournal]:
    """Plan `config`, apply it through `hook`: the run fails partway."""
    the_plan = plan(config, read_names(workspace, names_of(config)))
    before = read_names(workspace, the_plan.names)
    journal = RecordingJournal()
    result = apply(the_plan, hooked_workspace(workspace, hook), journal, concurrency=4)
    assert result.failed is not None
    assert result.failed.action_id == "share-grants:sales"
    return the_plan, before, result, journal


def _rolled_back(
    workspace: Workspace,
    the_plan: Plan,
    before: WorkspaceState,
    result: ApplyResult,
    journal: RecordingJournal,
) -> RollbackResult:
    return rollback(
        result.done,
        workspace,
        journal,
        before=before,
        names=the_plan.names,
        failed=result.failures,
    )


def test_a_run_that_fails_partway_is_undone_newest_first_and_verified() -> None:
    workspace = InMemoryWorkspace(tables=[TABLE, SOURCE])
    the_plan, before, result, journal = _failed_run(workspace, _pack(), _grants_fail())
    assert result.done  # recipient, pipeline, its run and job, share and objects

    outcome = _rolled_back(workspace, the_plan, before, result, journal)

    assert outcome.restored, (outcome.failures, outcome.differences)
    assert (outcome.kept, outcome.conflicts) == ((), False)
    assert outcome.undone == len(result.done)
    compensated = [a for a, status in journal.events if status is ActionStatus.COMPENSATED]
    assert compensated == [a.action_id for a in reversed(result.done)]
    assert verify(before, workspace, the_plan.names) == []
    after = read_names(workspace, the_plan.names)
    assert (after.recipients, after.shares, after.pipelines, after.jobs) == ({}, {}, {}, {})
    assert TARGET not in after.existing_objects  # it went with the pipeline that made it


def test_another_s_change_made_during_the_run_is_kept_and_reported_as_a_conflict() -> None:
    workspace = InMemoryWorkspace(tables=[TABLE, SOURCE])
    workspace.create_recipient(
        RecipientState(
            name="analyst",
            authentication_type=AuthenticationType.TOKEN,
            comment="Analyst",
            allowed_ips=("10.0.0.1",),
            contact_email="analyst@partner.example.com",
        )
    )

    def admin_edits_the_analyst_then_grants_fail() -> None:
        current = workspace.read_state(recipients=["analyst"]).recipients["analyst"]
        workspace.update_recipient(
            replace(
                current, comment="Edited by an admin", allowed_ips=(*current.allowed_ips, ADMIN_IP)
            )
        )
        raise WorkspaceUnavailableError("Updating the grants of share 'sales': 500 Internal")

    hook = Hook("update_share_grants", before=admin_edits_the_analyst_then_grants_fail)
    the_plan, before, result, journal = _failed_run(workspace, _pack(Strategy.UPDATE), hook)
    assert "update-recipient:analyst" in [a.action_id for a in result.done]

    outcome = _rolled_back(workspace, the_plan, before, result, journal)

    assert outcome.conflicts
    assert outcome.restored, (outcome.failures, outcome.differences)  # the run's own undone
    assert any("Edited by an admin" in note for note in outcome.kept), outcome.kept
    assert any(ADMIN_IP in note for note in outcome.kept), outcome.kept
    analyst = workspace.read_state(recipients=["analyst"]).recipients["analyst"]
    assert analyst.comment == "Edited by an admin"  # theirs, kept
    assert set(analyst.allowed_ips) == {"10.0.0.1", ADMIN_IP}  # the run's IP gone, theirs kept
    statuses = {e.action.action_id: e.status for e in journal.entries()}
    assert statuses["update-recipient:analyst"] is ActionStatus.KEPT


def test_a_restore_that_does_not_hold_fails_verification() -> None:
    workspace = InMemoryWorkspace(tables=[TABLE, SOURCE])
    the_plan, before, result, journal = _failed_run(workspace, _pack(), _grants_fail())

    def another_creates_it_again() -> None:
        workspace.create_share("sales", "Someone else's")

    # Right after the rollback deletes the share the run created, another makes one.
    racing = hooked_workspace(workspace, Hook("delete_share", after=another_creates_it_again))
    outcome = _rolled_back(racing, the_plan, before, result, journal)

    assert not outcome.restored
    assert outcome.failures == ()
    assert outcome.differences == ("share 'sales' exists (it did not before)",)
    assert verify(before, workspace, the_plan.names) == ["share 'sales' exists (it did not before)"]


@pytest.mark.parametrize("concurrency", [1, 8])
def test_undoing_a_failed_run_twice_changes_nothing_more(concurrency: int) -> None:
    workspace = InMemoryWorkspace(tables=[TABLE, SOURCE])
    the_plan = plan(_pack(), read_names(workspace, names_of(_pack())))
    before = read_names(workspace, the_plan.names)
    journal = RecordingJournal()
    result = apply(
        the_plan, hooked_workspace(workspace, _grants_fail()), journal, concurrency=concurrency
    )
    first = _rolled_back(workspace, the_plan, before, result, journal)

    again = _rolled_back(workspace, the_plan, before, result, journal)

    assert first.restored
    assert again.restored
    assert again.undone == len(result.done)  # each undo found already in effect
    assert verify(before, workspace, the_plan.names) == []
