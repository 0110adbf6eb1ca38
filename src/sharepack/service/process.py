"""Use case: provision one queued share pack; it completes, or its changes are undone.

Every status change is a new SCD2 version of the pack. Failures of the run end in
`FAILED` with the action and error named and `RollbackStatus` saying what was undone.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sharepack.engine import (
    ActionStatus,
    Plan,
    ResourceNames,
    apply,
    names_of,
    plan,
    read_names,
    rollback,
)
from sharepack.engine.actions import PlanAction
from sharepack.engine.apply import Progress, is_applied
from sharepack.errors import NotFoundError, PlanError
from sharepack.service.runs import (
    EarlierAttempts,
    StoreJournal,
    earlier_attempts,
    save_before_state,
)
from sharepack.service.runtime import Runtime
from sharepack.service.status import PackStatus, RollbackOutcome
from sharepack.service.tracking import record_provisioned, soft_delete_pack_records
from sharepack.service.worker import Worker
from sharepack.spec.models import SharePackConfig
from sharepack.store import SharePackRecord
from sharepack.store.locks import HeldLock
from sharepack.workspace.errors import WorkspaceError
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.state import WorkspaceState

log = logging.getLogger(__name__)
_LOCK_POLL_SECONDS = 0.5
ACTOR = "sharepack-worker"


class _Pack:
    """The pack being processed: writes its status versions."""

    def __init__(self, runtime: Runtime, record: SharePackRecord) -> None:
        self.runtime = runtime
        self.record = record

    def step(self, number: int, line: str) -> None:
        self._update(f"Step {number}/8: {line}", provisioning_status=f"Step {number}/8: {line}")

    def _update(self, reason: str, **changes: object) -> None:
        with self.runtime.database.unit_of_work() as uow:
            self.record = uow.share_packs.update(
                self.record.share_pack_id, created_by=ACTOR, change_reason=reason, **changes
            )
            uow.commit()

    def fail(self, error: str, outcome: RollbackOutcome, line: str) -> None:
        with self.runtime.database.unit_of_work() as uow:
            if outcome is not RollbackOutcome.LEFT_IN_PLACE:
                soft_delete_pack_records(
                    uow, self.record, created_by=ACTOR, reason=f"Rollback: {error}"
                )
            uow.share_packs.update(
                self.record.share_pack_id,
                created_by=ACTOR,
                change_reason=f"Provisioning failed: {error}"[:500],
                share_pack_status=PackStatus.FAILED.value,
                provisioning_status=line,
                error_message=error,
                rollback_status=outcome.value,
            )
            uow.commit()


@dataclass(frozen=True)
class Observer:
    """Optional callbacks for a caller that shows progress (the CLI)."""

    planned: Callable[[Plan], None] | None = None
    progress: Progress | None = None


def process_share_pack(
    runtime: Runtime, share_pack_id: uuid.UUID, observer: Observer | None = None
) -> None:
    """Plan against the workspace as it is now, apply, and finish or undo."""
    observer = observer or Observer()
    try:
        with runtime.database.unit_of_work() as uow:
            record = uow.share_packs.get_current(share_pack_id)
    except NotFoundError:
        # A queue outside the database (Azure) gets the message before the pack's row
        # commits; a commit that failed leaves a message that names no pack: no work.
        log.warning("Share pack %s does not exist; its message is dropped", share_pack_id)
        return
    if record.share_pack_status != PackStatus.IN_PROGRESS.value:
        log.info("Share pack %s is already %s", share_pack_id, record.share_pack_status)
        return
    pack = _Pack(runtime, record)
    config = SharePackConfig.model_validate(record.config)
    names = names_of(config)
    if not _hold_resources(pack, names):
        return
    _provision(pack, config, names, observer)
    # Ended (COMPLETED or FAILED): the resources are free for other packs. A run that
    # raised keeps them: the retry or the worker taking it over is the same pack.
    _release_resources(runtime, share_pack_id)


def _provision(
    pack: _Pack, config: SharePackConfig, names: ResourceNames, observer: Observer
) -> None:
    runtime, record, share_pack_id = pack.runtime, pack.record, pack.record.share_pack_id
    workspace = runtime.workspace_for(record.workspace_url)
    earlier = earlier_attempts(runtime.database, share_pack_id)
    journal = StoreJournal(runtime.database, share_pack_id, earlier.attempt)
    try:
        pack.step(2, "Reading the workspace")
        current = read_names(workspace, names)
        if earlier.before is None:
            save_before_state(runtime.database, share_pack_id, record.workspace_url, names, current)
        before = earlier.before or current
        prior_done = _taken_over(earlier, journal, workspace)
        pack.step(3, "Planning changes")
        options = runtime.plan_options(resuming=bool(earlier.started))
        the_plan = plan(config, current, options)
    except (PlanError, WorkspaceError) as exc:
        if earlier.started:
            raise
        pack.fail(exc.message, RollbackOutcome.NOT_NEEDED, "Failed before any change was made")
        return
    if observer.planned:
        observer.planned(the_plan)
    run = _Run(pack, config, workspace, journal, before, prior_done)
    run.apply_and_settle(the_plan, observer.progress)


def _resources(names: ResourceNames) -> list[str]:
    return [
        *(f"recipient:{n}" for n in names.recipients),
        *(f"share:{n}" for n in names.shares),
        *(f"pipeline:{n}" for n in names.pipelines),
        *(f"job:{n}" for n in names.jobs),
    ]


def _hold_resources(pack: _Pack, names: ResourceNames) -> bool:
    """Take the locks of every resource the pack names, waiting while other packs' runs
    hold some (a lock whose pack has ended is stale and taken over). False, with the pack
    FAILED and nothing changed, if they are still held after the lock wait."""
    runtime, record = pack.runtime, pack.record
    wait = runtime.settings.sharepack_lock_wait_seconds
    deadline = time.monotonic() + wait
    waiting_for: HeldLock | None = None
    resources = _resources(names)
    while True:
        with runtime.database.unit_of_work() as uow:
            held = uow.locks.acquire(record.workspace_url, resources, record.share_pack_id)
            uow.commit()
        if held == []:
            return True
        if held and _release_stale(runtime, held):
            continue
        if held and held[0] != waiting_for:
            waiting_for = held[0]
            pack.step(
                2,
                f"Waiting for share pack {waiting_for.share_pack_id} to finish with "
                f"{waiting_for.resource}",
            )
        if time.monotonic() > deadline:
            busy = (
                f"Share pack {waiting_for.share_pack_id} was still changing {waiting_for.resource}"
                if waiting_for
                else "Another share pack was still changing the same resources"
            )
            pack.fail(
                f"{busy} after {wait:g} s; nothing was changed: upload again once it has ended",
                RollbackOutcome.NOT_NEEDED,
                "Failed before any change was made",
            )
            return False
        time.sleep(min(_LOCK_POLL_SECONDS, wait))


def _release_stale(runtime: Runtime, held: list[HeldLock]) -> bool:
    """Give back the locks of holders that are no longer running; whether there were any."""
    released = False
    with runtime.database.unit_of_work() as uow:
        for holder in {lock.share_pack_id for lock in held}:
            try:
                running = uow.share_packs.get_current(holder).share_pack_status
            except NotFoundError:
                running = None
            if running != PackStatus.IN_PROGRESS.value:
                released = uow.locks.release(holder) > 0 or released
        uow.commit()
    return released


def _release_resources(runtime: Runtime, share_pack_id: uuid.UUID) -> None:
    with runtime.database.unit_of_work() as uow:
        uow.locks.release(share_pack_id)
        uow.commit()


def _taken_over(
    earlier: EarlierAttempts, journal: StoreJournal, workspace: Workspace
) -> list[PlanAction]:
    """Actions a killed worker finished, or left PENDING but visibly took effect."""
    done: list[PlanAction] = []
    for stored_id, action, status in earlier.started:
        journal.adopt(stored_id, action)
        if status is ActionStatus.DONE:
            done.append(action)
        elif status is ActionStatus.PENDING:
            if is_applied(action, workspace):
                journal.finished(action, ActionStatus.DONE)
                done.append(action)
            else:
                journal.finished(action, ActionStatus.FAILED, "interrupted: the worker stopped")
    return done


@dataclass
class _Run:
    pack: _Pack
    config: SharePackConfig
    workspace: Workspace
    journal: StoreJournal
    before: WorkspaceState
    prior_done: list[PlanAction]

    def apply_and_settle(self, the_plan: Plan, progress: Progress | None) -> None:
        """Apply; on success record and complete, on failure undo this run and earlier ones."""
        pack, config, workspace, journal = self.pack, self.config, self.workspace, self.journal
        runtime = pack.runtime
        pack.step(4, f"Applying {len(the_plan.actions)} change(s)")
        concurrency = runtime.settings.sharepack_apply_concurrency
        result = apply(the_plan, workspace, journal, concurrency=concurrency, on_progress=progress)
        if result.ok:
            names = the_plan.names
            live = workspace.read_state(
                shares=names.shares, pipelines=names.pipelines, jobs=names.jobs
            )
            with runtime.database.unit_of_work() as uow:
                record_provisioned(uow, pack.record, config, live, created_by=ACTOR)
                uow.share_packs.update(
                    pack.record.share_pack_id,
                    created_by=ACTOR,
                    change_reason="Provisioning completed",
                    share_pack_status=PackStatus.COMPLETED.value,
                    provisioning_status=_completed_line(the_plan),
                    rollback_status=RollbackOutcome.NOT_NEEDED.value,
                )
                uow.commit()
            return
        error = result.error or "unknown error"
        if not runtime.settings.sharepack_auto_rollback:
            pack.fail(error, RollbackOutcome.LEFT_IN_PLACE, "Failed; changes left in place")
            return
        done = [*self.prior_done, *result.done]
        pack.step(6, f"Rolling back {len(done)} change(s)")
        undone = rollback(
            done,
            workspace,
            journal,
            before=self.before,
            names=the_plan.names,
            failed=result.failures,
        )
        if undone.restored:
            pack.fail(error, RollbackOutcome.ROLLED_BACK, "Failed; every change was rolled back")
            return
        remains = "; ".join([*undone.failures, *undone.differences])
        pack.fail(
            f"{error}. Rollback incomplete: {remains}",
            RollbackOutcome.ROLLBACK_FAILED,
            "Failed; rollback could not restore everything",
        )


def _completed_line(the_plan: Plan) -> str:
    if the_plan.is_empty:
        return "Step 8/8: Completed; the workspace already matched the pack"
    return f"Step 8/8: Completed; {len(the_plan.actions)} change(s) applied"


def mark_failed(runtime: Runtime, share_pack_id: uuid.UUID, error: str) -> None:
    """Record that processing gave up (e.g. after repeated infrastructure errors)."""
    with runtime.database.unit_of_work() as uow:
        record = uow.share_packs.get_current(share_pack_id)
        if record.share_pack_status != PackStatus.IN_PROGRESS.value:
            return
        uow.share_packs.update(
            share_pack_id,
            created_by=ACTOR,
            change_reason=f"Processing gave up: {error}"[:500],
            share_pack_status=PackStatus.FAILED.value,
            error_message=error,
        )
        uow.locks.release(share_pack_id)
        uow.commit()


def make_worker(runtime: Runtime) -> Worker:
    return Worker(runtime, process_share_pack, give_up=mark_failed)
