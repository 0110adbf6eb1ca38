"""Apply a plan: independent actions concurrently, dependent ones in order, each journaled.

Apply never decides what to do; it runs the plan's actions and stops scheduling new ones
at the first failure, letting those already running finish.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from sharepack.engine.actions import (
    DELETED_FROM,
    ActionKind,
    PlanAction,
    comparable_job,
    comparable_pipeline,
)
from sharepack.engine.journal import ActionStatus, Journal
from sharepack.engine.plan import Plan
from sharepack.errors import LeaseLostError
from sharepack.workspace.errors import ResourceAlreadyExistsError, ResourceNotFoundError
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.state import RecipientState

#: Told of each action as it starts (PENDING) and as it ends (DONE or FAILED), always from
#: the thread that called `apply`.
Progress = Callable[[PlanAction, ActionStatus], None]


@dataclass(frozen=True)
class ApplyResult:
    done: tuple[PlanAction, ...]
    failed: PlanAction | None = None
    error: str | None = None
    #: Every action whose call failed (`failed` is the first). A failed call may still
    #: have taken effect: the workspace made the change and the answer was lost.
    failures: tuple[PlanAction, ...] = ()

    @property
    def ok(self) -> bool:
        return self.failed is None


def execute(action: PlanAction, workspace: Workspace) -> None:
    """Make the one call `action` stands for."""
    kind, name = action.kind, action.resource
    if kind in (ActionKind.CREATE_RECIPIENT, ActionKind.UPDATE_RECIPIENT):
        assert action.recipient is not None
        if kind is ActionKind.CREATE_RECIPIENT:
            workspace.create_recipient(action.recipient)
        else:
            workspace.update_recipient(action.recipient)
    elif kind is ActionKind.DELETE_RECIPIENT:
        workspace.delete_recipient(name)
    elif kind is ActionKind.CREATE_SHARE:
        workspace.create_share(name, action.comment)
    elif kind is ActionKind.UPDATE_SHARE_COMMENT:
        workspace.update_share_comment(name, action.comment)
    elif kind is ActionKind.DELETE_SHARE:
        workspace.delete_share(name)
    elif kind is ActionKind.UPDATE_SHARE_OBJECTS:
        workspace.update_share_objects(name, action.add_objects, action.remove_objects)
    elif kind is ActionKind.UPDATE_SHARE_GRANTS:
        workspace.update_share_grants(name, action.add_grantees, action.remove_grantees)
    else:
        _execute_pipeline_action(action, workspace)


def _execute_pipeline_action(action: PlanAction, workspace: Workspace) -> None:
    kind, name = action.kind, action.resource
    if kind is ActionKind.CREATE_PIPELINE:
        assert action.pipeline is not None
        workspace.create_pipeline(action.pipeline)
    elif kind is ActionKind.UPDATE_PIPELINE:
        assert action.pipeline is not None
        workspace.update_pipeline(action.pipeline)
    elif kind is ActionKind.DELETE_PIPELINE:
        workspace.delete_pipeline(_pipeline_id(workspace, name))
    elif kind is ActionKind.RUN_PIPELINE_UPDATE:
        assert action.pipeline is not None
        workspace.run_pipeline_update(
            _pipeline_id(workspace, name),
            timeout_seconds=action.wait_seconds,
            continuous=action.pipeline.continuous,
            produces=action.pipeline.target_asset,
        )
    elif kind is ActionKind.CREATE_SCHEDULE_JOB:
        assert action.job is not None
        workspace.create_schedule_job(action.job)
    elif kind is ActionKind.UPDATE_SCHEDULE_JOB:
        assert action.job is not None
        workspace.update_schedule_job(action.job)
    elif kind is ActionKind.DELETE_SCHEDULE_JOB:
        job = workspace.read_state(jobs=[name]).jobs.get(name)
        if job is None or job.job_id is None:
            raise ResourceNotFoundError(f"Schedule job '{name}' does not exist")
        workspace.delete_schedule_job(job.job_id)
    elif kind is not ActionKind.NOTHING:  # pragma: no cover - every kind is handled
        raise AssertionError(f"unhandled action kind {kind}")


def _pipeline_id(workspace: Workspace, name: str) -> str:
    pipeline = workspace.read_state(pipelines=[name]).pipelines.get(name)
    if pipeline is None or pipeline.pipeline_id is None:
        raise ResourceNotFoundError(f"Pipeline '{name}' does not exist")
    return pipeline.pipeline_id


def is_applied(action: PlanAction, workspace: Workspace) -> bool:
    """Does the workspace hold exactly what the action wanted?

    Asked after "already exists" (the SDK retries creates on timeouts, so a create can reach
    the server twice) and for actions a crashed run left PENDING.
    """
    kind = action.kind
    collection = DELETED_FROM.get(kind)
    if collection is not None:
        state = workspace.read_state(**{collection: [action.resource]})
        return action.resource not in getattr(state, collection)
    if kind in _PIPELINE_KINDS:
        return _pipeline_action_applied(action, workspace)
    if kind in (ActionKind.CREATE_RECIPIENT, ActionKind.UPDATE_RECIPIENT):
        assert action.recipient is not None
        found = workspace.read_state(recipients=[action.resource]).recipients
        return recipient_holds(found.get(action.resource), action.recipient)
    share = workspace.read_state(shares=[action.resource]).shares.get(action.resource)
    if share is None:
        return False
    if kind in (ActionKind.CREATE_SHARE, ActionKind.UPDATE_SHARE_COMMENT):
        return share.comment == action.comment
    if kind is ActionKind.UPDATE_SHARE_OBJECTS:
        names = share.object_names
        added = all(o.name in names for o in action.add_objects)
        return added and not names.intersection(action.remove_objects)
    granted = share.grantees.issuperset(action.add_grantees)
    return granted and not share.grantees.intersection(action.remove_grantees)


def recipient_holds(found: RecipientState | None, wanted: RecipientState) -> bool:
    """Is `found` the recipient `wanted`? An owner left None is whoever created it."""
    if found is None:
        return False
    return found == (wanted if wanted.owner is not None else replace(wanted, owner=found.owner))


_PIPELINE_KINDS = frozenset(
    {
        ActionKind.CREATE_PIPELINE,
        ActionKind.UPDATE_PIPELINE,
        ActionKind.RUN_PIPELINE_UPDATE,
        ActionKind.CREATE_SCHEDULE_JOB,
        ActionKind.UPDATE_SCHEDULE_JOB,
    }
)


def _pipeline_action_applied(action: PlanAction, workspace: Workspace) -> bool:
    name = action.resource
    if action.kind is ActionKind.RUN_PIPELINE_UPDATE:
        assert action.pipeline is not None
        target = action.pipeline.target_asset
        return target in workspace.read_state(objects=[target]).existing_objects
    if action.pipeline is not None:
        found = workspace.read_state(pipelines=[name]).pipelines.get(name)
        wanted = comparable_pipeline(action.pipeline)
        return found is not None and comparable_pipeline(found) == wanted
    assert action.job is not None
    job = workspace.read_state(jobs=[name]).jobs.get(name)
    return job is not None and comparable_job(job) == comparable_job(action.job)


def run_action(action: PlanAction, workspace: Workspace, journal: Journal) -> None:
    journal.started(action)
    try:
        try:
            execute(action, workspace)
        except ResourceAlreadyExistsError:
            if not is_applied(action, workspace):
                raise
        except ResourceNotFoundError:
            # A delete whose answer was lost after it took effect (the SDK retried it).
            if action.kind not in DELETED_FROM or not is_applied(action, workspace):
                raise
    except LeaseLostError:
        raise  # nothing may be written: the run is another holder's now
    except Exception as exc:
        journal.finished(action, ActionStatus.FAILED, str(exc))
        raise
    journal.finished(action, ActionStatus.DONE)


def apply(
    plan: Plan,
    workspace: Workspace,
    journal: Journal,
    *,
    concurrency: int = 8,
    on_progress: Progress | None = None,
) -> ApplyResult:
    """Run every action whose dependencies are done, up to `concurrency` at a time.

    `LeaseLostError` (another holder took the run over) stops it: the actions running
    finish, and it is raised with nothing more recorded."""
    waiting = list(plan.actions)
    done: list[PlanAction] = []
    done_ids: set[str] = set()
    running: dict[Future[None], PlanAction] = {}
    failure: tuple[PlanAction, str] | None = None
    failures: list[PlanAction] = []
    lost: BaseException | None = None
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="apply") as pool:
        while waiting or running:
            if failure is None and lost is None:
                ready = [a for a in waiting if set(a.depends_on) <= done_ids]
                for action in ready[: concurrency - len(running)]:
                    waiting.remove(action)
                    running[pool.submit(run_action, action, workspace, journal)] = action
                    if on_progress:
                        on_progress(action, ActionStatus.PENDING)  # started
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                action = running.pop(future)
                error = future.exception()
                if isinstance(error, LeaseLostError) or (
                    error is not None and not isinstance(error, Exception)
                ):
                    # Not this run's failure: its new holder carries on (or the process
                    # is being stopped); nothing more is recorded here.
                    lost = error
                    continue
                if error is None:
                    done.append(action)
                    done_ids.add(action.action_id)
                else:
                    failures.append(action)
                    if failure is None:
                        failure = (action, f"{action.describe()}: {error}")
                if on_progress:
                    status = ActionStatus.DONE if error is None else ActionStatus.FAILED
                    on_progress(action, status)
    if lost is not None:
        raise lost
    if failure is None and waiting:
        stuck = ", ".join(a.action_id for a in waiting)
        return ApplyResult(tuple(done), waiting[0], f"Unsatisfiable dependencies: {stuck}")
    if failure is not None:
        return ApplyResult(tuple(done), failure[0], failure[1], tuple(failures))
    return ApplyResult(tuple(done))
