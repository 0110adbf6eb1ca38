"""Use case: provision one queued share pack; it completes, or its changes are undone.

Every status change is a new SCD2 version of the pack. Failures of the run end in
`FAILED` with the action and error named and `RollbackStatus` saying what was undone.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sharepack.engine import Plan, ResourceNames, names_to_read, plan, read_names
from sharepack.engine.actions import PlanAction
from sharepack.engine.apply import Progress
from sharepack.errors import LeaseLostError, NotFoundError, PlanError
from sharepack.history.provisioned import ActionTracker
from sharepack.history.retired import retired_names
from sharepack.history.rolled_back import still_in_effect
from sharepack.observability.metrics import Phase, lock_waited, timed_phase
from sharepack.packfile.models import SharePackConfig
from sharepack.running.awaiting import approved_as_planned
from sharepack.running.measured import measured
from sharepack.running.saved_run import (
    EarlierAttempts,
    StoreJournal,
    earlier_attempts,
    save_before_state,
)
from sharepack.running.settle import ACTOR, MAY_REMAIN, PackVersions, Run, Undone, taken_over
from sharepack.running.status import PackStatus, RollbackOutcome
from sharepack.running.worker import Worker, process_identity
from sharepack.runtime import Runtime
from sharepack.store import SharePackRecord
from sharepack.store.locks import HeldLock
from sharepack.workspace.errors import WorkspaceError
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.state import WorkspaceState

log = logging.getLogger(__name__)
_LOCK_POLL_SECONDS = 0.5


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
    started = start_run(runtime, share_pack_id)
    if started is None:
        log.info("Share pack %s was cancelled or waits for approval: not run", share_pack_id)
        return
    runtime, record = started
    pack = PackVersions(runtime, record)
    config = SharePackConfig.model_validate(record.config)
    earlier = earlier_attempts(runtime.database, share_pack_id)
    retired = retired_names(runtime.database, record.workspace_url, config, earlier.before)
    names = names_to_read(config, retired)
    identified = _identify_workspace(pack, bool(earlier.started))
    if identified is None or not _hold_resources(pack, names, identified[1]):
        return
    _provision(pack, identified[0], config, names, retired, earlier, observer)
    # Ended (COMPLETED or FAILED): the resources are free for other packs. A run that
    # raised keeps them: the retry or the worker taking it over is the same pack.
    _release_resources(runtime, share_pack_id)


def start_run(runtime: Runtime, share_pack_id: uuid.UUID) -> tuple[Runtime, SharePackRecord] | None:
    """Take the pack's run up and claim it, in one transaction under the pack's lock, so
    that a cancel either comes first (and the run does not start) or is refused. None if
    the pack may not run (cancelled, ended, waiting for approval)."""
    with runtime.database.unit_of_work() as uow:
        record = uow.share_packs.start_run(share_pack_id, created_by=ACTOR)
        if record is None:
            return None
        claim = uow.run_claims.claim(share_pack_id, process_identity())
        uow.commit()
    return dataclasses.replace(runtime, database=runtime.database.fenced(claim)), record


def claimed(runtime: Runtime, share_pack_id: uuid.UUID) -> Runtime:
    """Claim the pack's run for this holder: `runtime` whose database commits only while
    no later claim (a worker taking the run over) has been made."""
    with runtime.database.unit_of_work() as uow:
        claim = uow.run_claims.claim(share_pack_id, process_identity())
        uow.commit()
    return dataclasses.replace(runtime, database=runtime.database.fenced(claim))


def _provision(
    pack: PackVersions,
    workspace: Workspace,
    config: SharePackConfig,
    names: ResourceNames,
    retired: ResourceNames,
    earlier: EarlierAttempts,
    observer: Observer,
) -> None:
    """`earlier` was read before the locks were taken; it still holds, since the message's
    lease, kept alive while this worker waits, keeps any other worker off the pack."""
    runtime, record, share_pack_id = pack.runtime, pack.record, pack.record.share_pack_id
    prior_done: list[PlanAction] | None = None
    try:
        with timed_phase(Phase.PLAN):
            pack.step(2, "Reading the workspace")
            # A run that changed nothing yet reads the workspace afresh (an earlier attempt's
            # snapshot may predate a wait for approval); one that did keeps its first read.
            resumed = earlier.before if earlier.started else None
            before = resumed if resumed is not None else read_names(workspace, names)
            journal = _journal(runtime, record, config, before, earlier.attempt)
            prior_done = taken_over(earlier, journal, workspace)
            # A run taken over plans from a read made after settling what killed workers left:
            # a pipeline update they started may complete meanwhile, and must not run twice.
            current = before if resumed is None else read_names(workspace, names)
            pack.step(3, "Planning changes")
            options = runtime.plan_options(resuming=bool(earlier.started), retired=retired)
            the_plan = plan(config, current, options)
            if resumed is None:
                if not approved_as_planned(pack, the_plan):
                    return  # waits for approval of this plan; nothing was changed
                save_before_state(
                    runtime.database, share_pack_id, record.workspace_url, names, before
                )
    except (PlanError, WorkspaceError) as exc:
        if not earlier.started:
            pack.fail(exc.message, RollbackOutcome.NOT_NEEDED, "Failed before any change was made")
            return
        if isinstance(exc, WorkspaceError) or prior_done is None or before is None:
            raise  # the workspace may answer on the next attempt; giving up rolls back
        # Re-planning a run taken over cannot succeed later either (a table it shares
        # was dropped since, say): undo what the earlier attempts did, now.
        run = Run(pack, config, workspace, journal, before, prior_done)
        run.undo(f"Re-planning the resumed run failed: {exc.message}", prior_done, names)
        return
    if observer.planned:
        observer.planned(the_plan)
    run = Run(pack, config, workspace, journal, before, prior_done)
    run.apply_and_settle(the_plan, observer.progress)


def _journal(
    runtime: Runtime,
    record: SharePackRecord,
    config: SharePackConfig,
    before: WorkspaceState,
    attempt: int,
) -> StoreJournal:
    """The run's journal; each action it records DONE gets its version in the history."""
    tracker = ActionTracker(runtime.database, record, config, before, created_by=ACTOR)
    return StoreJournal(runtime.database, record.share_pack_id, attempt, on_done=tracker.done)


def _resources(names: ResourceNames) -> list[str]:
    return [
        *(f"recipient:{n}" for n in names.recipients),
        *(f"share:{n}" for n in names.shares),
        *(f"pipeline:{n}" for n in names.pipelines),
        *(f"job:{n}" for n in names.jobs),
    ]


def _identify_workspace(pack: PackVersions, started: bool) -> tuple[Workspace, str] | None:
    """The run's workspace and its own id, recorded with the pack. None, with the pack
    FAILED, if the workspace cannot say and the run has changed nothing yet; a run that
    has (`started`) raises instead, to be tried again (giving up undoes it)."""
    runtime, record = pack.runtime, pack.record
    try:
        workspace = runtime.workspace_for(record.workspace_url)
        workspace_id = workspace.workspace_id
    except WorkspaceError as exc:
        if started:
            raise
        pack.fail(exc.message, RollbackOutcome.NOT_NEEDED, "Failed before any change was made")
        return None
    pack.identify(workspace_id)
    return workspace, workspace_id


@lock_waited("resources")
def _hold_resources(pack: PackVersions, names: ResourceNames, workspace_id: str) -> bool:
    """Take the locks of every resource the pack names, waiting while other packs' runs
    hold some (a lock whose pack has ended is stale and taken over). False, with the pack
    FAILED and nothing changed, if they are still held after the lock wait. Locks are
    keyed on the workspace's own id, so a pack naming another spelling of the same
    workspace's URL (`localhost`, `127.0.0.1`) waits too."""
    runtime, record = pack.runtime, pack.record
    wait = runtime.settings.sharepack_lock_wait_seconds
    deadline = time.monotonic() + wait
    waiting_for: HeldLock | None = None
    resources = _resources(names)
    while True:
        with runtime.database.unit_of_work() as uow:
            held = uow.locks.acquire(workspace_id, resources, record.share_pack_id)
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


def mark_failed(runtime: Runtime, share_pack_id: uuid.UUID, error: str) -> None:
    """Give a run up (after repeated infrastructure errors): FAILED, with what its attempts
    did undone once more if the workspace allows, else ROLLBACK_FAILED naming it."""
    with runtime.database.unit_of_work() as uow:
        record = uow.share_packs.get_current(share_pack_id)
    if record.share_pack_status != PackStatus.IN_PROGRESS.value:
        return
    runtime = claimed(runtime, share_pack_id)
    _give_up(PackVersions(runtime, record), error)
    _release_resources(runtime, share_pack_id)


def _give_up(pack: PackVersions, error: str) -> None:
    runtime, record = pack.runtime, pack.record
    earlier = earlier_attempts(runtime.database, record.share_pack_id)
    if not earlier.started:
        pack.fail(error, RollbackOutcome.NOT_NEEDED, "Failed before any change was made")
        return
    if not runtime.settings.sharepack_auto_rollback:
        pack.fail(error, RollbackOutcome.LEFT_IN_PLACE, "Failed; changes left in place")
        return
    config = SharePackConfig.model_validate(record.config)
    retired = retired_names(runtime.database, record.workspace_url, config, earlier.before)
    names = names_to_read(config, retired)
    before = earlier.before or WorkspaceState()
    journal = _journal(runtime, record, config, before, earlier.attempt)
    try:
        workspace = runtime.workspace_for(record.workspace_url)
        done = taken_over(earlier, journal, workspace)
        Run(pack, config, workspace, journal, before, done).undo(error, done, names)
    except LeaseLostError:
        raise
    except Exception as exc:  # whatever stops the rollback, the run must end saying so
        log.exception("Share pack %s: the rollback on giving up failed", record.share_pack_id)
        entries = journal.entries()
        left = [e.action.describe() for e in entries if e.status in MAY_REMAIN]
        pack.fail(
            f"{error}. Rollback could not run ({exc}); still in place: "
            f"{', '.join(left) or 'nothing the journal names'}",
            RollbackOutcome.ROLLBACK_FAILED,
            "Failed; rollback could not restore everything",
            Undone(names, before, still_in_effect(entries)),
        )


def make_worker(runtime: Runtime) -> Worker:
    return Worker(runtime, measured(process_share_pack), give_up=measured(mark_failed))
