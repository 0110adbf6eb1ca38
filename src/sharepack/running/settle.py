"""How a run ends: COMPLETED with its records, or FAILED with its changes undone (or
left, when asked) and the history saying so. Every status change is a new SCD2 version
of the pack; the pack's open request (`store.tenancy`) ends with it, in the same
transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from sharepack.engine import ActionStatus, Plan, ResourceNames, apply, rollback
from sharepack.engine.actions import PlanAction
from sharepack.engine.after import missing_ids, state_after
from sharepack.engine.apply import ApplyResult, Progress, is_applied
from sharepack.engine.plan_text import plan_lines
from sharepack.history.provisioned import record_provisioned
from sharepack.history.rolled_back import record_rollback, still_in_effect
from sharepack.history.versions import record_version
from sharepack.notify.events import NotificationEvent
from sharepack.observability.metrics import Phase, timed_phase
from sharepack.observability.tracing import mark_phase
from sharepack.packfile.models import SharePackConfig
from sharepack.running.notices import FAILURE_EVENTS, tell
from sharepack.running.saved_run import EarlierAttempts, StoreJournal
from sharepack.running.status import PackStatus, RollbackOutcome
from sharepack.runtime import Runtime
from sharepack.store import SharePackRecord
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.state import WorkspaceState

ACTOR = "sharepack-worker"

#: Journal statuses of actions whose change may still be in the workspace.
MAY_REMAIN = frozenset({ActionStatus.DONE, ActionStatus.PENDING, ActionStatus.COMPENSATION_FAILED})


@dataclass(frozen=True)
class Undone:
    """What a rollback leaves for the history: the records the pack names, the workspace
    before the run, and the records (`kind:name`) whose changes are still in effect."""

    names: ResourceNames
    before: WorkspaceState
    kept: frozenset[str] = frozenset()
    #: The workspace after the rollback, when it could be read: a record whose resource
    #: is gone gets a deleted version whatever the journal says.
    after: WorkspaceState | None = None


class PackVersions:
    """The pack being processed: writes its status versions."""

    def __init__(self, runtime: Runtime, record: SharePackRecord) -> None:
        self.runtime = runtime
        self.record = record

    def identify(self, workspace_id: str) -> None:
        """Record the id the pack's workspace answered with: on every row of the pack's URL
        that has none yet (`store.workspaces`), and on the pack's next version if its
        current one names another."""
        with self.runtime.database.unit_of_work() as uow:
            uow.workspaces.identify(self.record.workspace_url, workspace_id)
            current = uow.share_packs.get_current(self.record.share_pack_id)
            if current.workspace_id != workspace_id:
                current = uow.share_packs.update(
                    current.share_pack_id,
                    created_by=ACTOR,
                    change_reason=f"{current.workspace_url} answered as workspace {workspace_id}",
                    workspace_id=workspace_id,
                )
            self.record = current
            uow.commit()

    def step(self, number: int, line: str) -> None:
        mark_phase(f"Step {number}/8: {line}")
        self._update(f"Step {number}/8: {line}", provisioning_status=f"Step {number}/8: {line}")

    def _update(self, reason: str, **changes: object) -> None:
        with self.runtime.database.unit_of_work() as uow:
            self.record = uow.share_packs.update(
                self.record.share_pack_id, created_by=ACTOR, change_reason=reason, **changes
            )
            uow.commit()

    def fail(
        self, error: str, outcome: RollbackOutcome, line: str, undone: Undone | None = None
    ) -> None:
        """FAILED, with the `Rollback:` versions of the records the run wrote when it was
        rolled back (`undone`), in the same transaction."""
        with self.runtime.database.unit_of_work() as uow:
            if undone is not None:
                record_rollback(
                    uow,
                    self.record,
                    undone.names,
                    undone.before,
                    kept=undone.kept,
                    after=undone.after,
                    created_by=ACTOR,
                    reason=f"Rollback: {error}",
                )
            self.record = uow.share_packs.update(
                self.record.share_pack_id,
                created_by=ACTOR,
                change_reason=f"Provisioning failed: {error}"[:500],
                share_pack_status=PackStatus.FAILED.value,
                provisioning_status=line,
                error_message=error,
                rollback_status=outcome.value,
            )
            uow.tenancy.request_ended(self.record.share_pack_id, PackStatus.FAILED.value, by=ACTOR)
            tell(uow, self.runtime, self.record, FAILURE_EVENTS[outcome], detail=f"{line}: {error}")
            uow.commit()


def taken_over(
    earlier: EarlierAttempts, journal: StoreJournal, workspace: Workspace
) -> list[PlanAction]:
    """Actions killed workers finished, or left PENDING or FAILED but visibly took effect
    (the change was made, the answer lost): all of them are this run's to undo."""
    done: list[PlanAction] = []
    # An action a later attempt ran again is that attempt's: its own entry decides.
    newest = {action.action_id: stored_id for stored_id, action, _ in earlier.started}
    for stored_id, action, status in earlier.started:
        if newest[action.action_id] != stored_id:
            continue
        journal.adopt(stored_id, action)
        if status is ActionStatus.DONE:
            journal.done_again(action)
            done.append(action)
        elif status is ActionStatus.PENDING:
            if is_applied(action, workspace):
                journal.finished(action, ActionStatus.DONE)
                done.append(action)
            else:
                journal.finished(action, ActionStatus.FAILED, "interrupted: the worker stopped")
        elif status is ActionStatus.FAILED and is_applied(action, workspace):
            journal.finished(action, ActionStatus.DONE, "took effect though its call failed")
            done.append(action)
    return done


@dataclass
class Run:
    pack: PackVersions
    config: SharePackConfig
    workspace: Workspace
    journal: StoreJournal
    before: WorkspaceState
    prior_done: list[PlanAction]

    def apply_and_settle(self, the_plan: Plan, progress: Progress | None) -> None:
        """Apply; on success record and complete, on failure undo this run and earlier ones."""
        pack, workspace = self.pack, self.workspace
        runtime = pack.runtime
        pack.step(4, f"Applying {len(the_plan.actions)} change(s)")
        concurrency = runtime.apply_concurrency(pack.record.workspace_url)
        with timed_phase(Phase.APPLY):
            result = apply(
                the_plan, workspace, self.journal, concurrency=concurrency, on_progress=progress
            )
        if not result.ok:
            done = [*self.prior_done, *result.done]
            self.undo(result.error or "unknown error", done, the_plan.names, result.failures)
            return
        after = _after(the_plan, result, workspace)
        with runtime.database.unit_of_work() as uow:
            record_provisioned(uow, pack.record, self.config, after, created_by=ACTOR)
            record_version(uow, pack.record, the_plan, self.before, after, created_by=ACTOR)
            pack.record = uow.share_packs.update(
                pack.record.share_pack_id,
                created_by=ACTOR,
                change_reason="Provisioning completed",
                share_pack_status=PackStatus.COMPLETED.value,
                provisioning_status=_completed_line(the_plan),
                rollback_status=RollbackOutcome.NOT_NEEDED.value,
            )
            uow.tenancy.request_ended(
                pack.record.share_pack_id, PackStatus.COMPLETED.value, by=ACTOR
            )
            tell(
                uow,
                runtime,
                pack.record,
                NotificationEvent.COMPLETED,
                summary=plan_lines(the_plan),
                detail=_completed_line(the_plan),
            )
            uow.commit()

    def undo(
        self,
        error: str,
        done: Sequence[PlanAction],
        names: ResourceNames,
        failed: Sequence[PlanAction] = (),
    ) -> None:
        """FAILED: the `done` actions (and `failed` ones that took effect) undone in reverse
        and the workspace verified against the before-state, unless rollback is off."""
        pack = self.pack
        if not pack.runtime.settings.sharepack_auto_rollback:
            pack.fail(error, RollbackOutcome.LEFT_IN_PLACE, "Failed; changes left in place")
            return
        pack.step(6, f"Rolling back {len(done)} change(s)")
        with timed_phase(Phase.ROLLBACK):
            undone = rollback(
                done, self.workspace, self.journal, before=self.before, names=names, failed=failed
            )
        kept = still_in_effect(self.journal.entries())
        if undone.restored and not undone.kept:
            pack.fail(
                error,
                RollbackOutcome.ROLLED_BACK,
                "Failed; every change was rolled back",
                Undone(names, self.before, kept, undone.after),
            )
            return
        if undone.restored:
            pack.fail(
                f"{error}. Rolled back, keeping changes others made meanwhile: "
                f"{'; '.join(undone.kept)}",
                RollbackOutcome.ROLLED_BACK_WITH_CONFLICTS,
                "Failed; every change was rolled back, others' changes were kept",
                Undone(names, self.before, kept, undone.after),
            )
            return
        remains = "; ".join([*undone.failures, *undone.differences, *undone.kept])
        entries = self.journal.entries()
        left = [e.action.describe() for e in entries if e.status in MAY_REMAIN]
        if left:
            remains += f"; still in place: {', '.join(left)}"
        pack.fail(
            f"{error}. Rollback incomplete: {remains}",
            RollbackOutcome.ROLLBACK_FAILED,
            "Failed; rollback could not restore everything",
            Undone(names, self.before, kept, undone.after),
        )


def _after(the_plan: Plan, result: ApplyResult, workspace: Workspace) -> WorkspaceState:
    """The workspace as the completed run left it: the plan's starting point with each
    action's effect, and the ids the workspace gave in its answers. Only the ids no answer
    gave (a create found to have taken effect, a run taken over) are read."""
    after = state_after(the_plan.before, result.done, result.answers)
    pipelines, jobs = missing_ids(after)
    if not pipelines and not jobs:
        return after
    found = workspace.read_state(pipelines=pipelines, jobs=jobs)
    return dataclasses.replace(
        after,
        pipelines={**after.pipelines, **found.pipelines},
        jobs={**after.jobs, **found.jobs},
    )


def _completed_line(the_plan: Plan) -> str:
    if the_plan.is_empty:
        return "Step 8/8: Completed; the workspace already matched the pack"
    return f"Step 8/8: Completed; {len(the_plan.actions)} change(s) applied"
