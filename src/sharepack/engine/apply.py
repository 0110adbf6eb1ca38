"""Apply a plan: independent actions concurrently, dependent ones in order, each journaled.

Apply never decides what to do; it runs the plan's actions and stops scheduling new ones
at the first failure, letting those already running finish.
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import assert_never

from sharepack.engine.actions import (
    DELETING_ACTIONS,
    JOB_ACTIONS,
    PIPELINE_ACTIONS,
    RECIPIENT_ACTIONS,
    SHARE_ACTIONS,
    CreatePipeline,
    CreateRecipient,
    CreateScheduleJob,
    CreateShare,
    DeletePipeline,
    DeleteRecipient,
    DeleteScheduleJob,
    DeleteShare,
    Nothing,
    PlanAction,
    RunPipelineUpdate,
    UpdatePipeline,
    UpdateRecipient,
    UpdateScheduleJob,
    UpdateShareComment,
    UpdateShareGrants,
    UpdateShareObjectOptions,
    UpdateShareObjects,
    marked,
)
from sharepack.engine.after import Answers
from sharepack.engine.journal import ActionStatus, Journal
from sharepack.engine.plan import Plan
from sharepack.errors import LeaseLostError
from sharepack.workspace.errors import ResourceAlreadyExistsError, ResourceNotFoundError
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.state import PipelineState, ScheduleJobState

#: What a write answers that the run needs later: a pipeline or job with its new id.
Answer = PipelineState | ScheduleJobState | None

#: Told of each action as it starts (PENDING) and as it ends (DONE or FAILED), always from
#: the thread that called `apply`.
Progress = Callable[[PlanAction, ActionStatus], None]
#: How many actions may run at once: a number, or asked anew each time one can start (a
#: workspace's adaptive rate limit answers it, see `workspace.rate_limit`).
Concurrency = int | Callable[[], int]
#: The most threads an apply runs, whatever a `Concurrency` callable answers.
MAX_THREADS = 64


@dataclass(frozen=True)
class ApplyResult:
    done: tuple[PlanAction, ...]
    failed: PlanAction | None = None
    error: str | None = None
    #: Every action whose call failed (`failed` is the first). A failed call may still
    #: have taken effect: the workspace made the change and the answer was lost.
    failures: tuple[PlanAction, ...] = ()
    #: The ids the workspace gave what the done actions created (`engine.after`).
    answers: Answers = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failed is None


def execute(
    action: PlanAction, workspace: Workspace, pipeline_ids: Mapping[str, str] | None = None
) -> Answer:
    """Make the one call `action` stands for; a pipeline or job as the workspace answered.
    `pipeline_ids`: the ids of pipelines the run knows, by name (else they are read)."""
    name = action.resource
    known = pipeline_ids or {}
    match action:
        case CreateRecipient():
            workspace.create_recipient(action.recipient)
        case UpdateRecipient():
            workspace.update_recipient(action.recipient, action.before)
        case DeleteRecipient():
            workspace.delete_recipient(name)
        case CreateShare():
            workspace.create_share(name, action.comment)
        case UpdateShareComment():
            workspace.update_share_comment(name, action.comment)
        case DeleteShare():
            workspace.delete_share(name)
        case UpdateShareObjects():
            workspace.update_share_objects(name, action.add_objects, action.remove_objects)
        case UpdateShareObjectOptions():
            workspace.update_share_objects(name, (), (), action.changed_objects)
        case UpdateShareGrants():
            workspace.update_share_grants(name, action.add_grantees, action.remove_grantees)
        case CreatePipeline():
            return workspace.create_pipeline(action.pipeline)
        case UpdatePipeline():
            return workspace.update_pipeline(action.pipeline)
        case DeletePipeline():
            workspace.delete_pipeline(known.get(name) or _pipeline_id(workspace, name))
        case RunPipelineUpdate():
            workspace.run_pipeline_update(
                known.get(name) or _pipeline_id(workspace, name),
                timeout_seconds=action.wait_seconds,
                continuous=action.pipeline.continuous,
                produces=action.pipeline.target_asset,
            )
        case CreateScheduleJob():
            return workspace.create_schedule_job(_with_pipeline_id(action.job, known))
        case UpdateScheduleJob():
            return workspace.update_schedule_job(_with_pipeline_id(action.job, known))
        case DeleteScheduleJob():
            job = workspace.read_state(jobs=[name]).jobs.get(name)
            if job is None or job.job_id is None:
                raise ResourceNotFoundError(f"Schedule job '{name}' does not exist")
            workspace.delete_schedule_job(job.job_id)
        case Nothing():
            pass
        case _:
            assert_never(action)
    return None


def _chains_after(actions: tuple[PlanAction, ...]) -> dict[str, int]:
    """Each action's id and the length of the longest chain of actions waiting on it."""
    waiting_on: dict[str, list[str]] = {a.action_id: [] for a in actions}
    for action in actions:
        for needed in action.depends_on:
            waiting_on.setdefault(needed, []).append(action.action_id)
    chains: dict[str, int] = {}

    def chain(action_id: str) -> int:
        if action_id not in chains:
            chains[action_id] = 1 + max((chain(w) for w in waiting_on[action_id]), default=0)
        return chains[action_id]

    return {a.action_id: chain(a.action_id) for a in actions}


def _with_pipeline_id(job: ScheduleJobState, known: Mapping[str, str]) -> ScheduleJobState:
    if job.pipeline_id is not None or job.pipeline_name not in known:
        return job
    return dataclasses.replace(job, pipeline_id=known[job.pipeline_name])


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
    if isinstance(action, CreateScheduleJob) and action.job.created_by is not None:
        # Only a job this action made counts, found by its mark; if the create was sent
        # twice, the extra one goes.
        return action.holds(workspace.reconcile_schedule_job(action.job))
    return action.took_effect(workspace.read_state(**action.reads()))


def run_action(
    action: PlanAction,
    workspace: Workspace,
    journal: Journal,
    pipeline_ids: Mapping[str, str] | None = None,
) -> Answer:
    """Run `action`, journaled; its answer (None when it was found to have taken effect)."""
    journal.started(action)
    answer: Answer = None
    try:
        try:
            answer = execute(action, workspace, pipeline_ids)
        except ResourceAlreadyExistsError:
            if not is_applied(action, workspace):
                raise
        except ResourceNotFoundError:
            # A delete whose answer was lost after it took effect (the SDK retried it).
            if not isinstance(action, DELETING_ACTIONS) or not is_applied(action, workspace):
                raise
    except LeaseLostError:
        raise  # nothing may be written: the run is another holder's now
    except Exception as exc:
        journal.finished(action, ActionStatus.FAILED, str(exc))
        raise
    journal.finished(action, ActionStatus.DONE)
    return answer


def _api(action: PlanAction) -> str:
    """The workspace API an action calls: each is rate-limited apart."""
    for api, types in (
        ("recipients", RECIPIENT_ACTIONS),
        ("shares", SHARE_ACTIONS),
        ("pipelines", PIPELINE_ACTIONS),
        ("jobs", JOB_ACTIONS),
    ):
        if isinstance(action, types):
            return api
    return "none"


def spread(
    ready: Sequence[PlanAction], running: Iterable[PlanAction], room: int
) -> list[PlanAction]:
    """Up to `room` ready actions to start, each of the API with the fewest actions running
    (plan order among equals): with recipients and shares to make, both APIs are kept busy,
    and each gets its own rate limit's worth of calls."""
    queues: dict[str, deque[PlanAction]] = {}
    for action in ready:
        queues.setdefault(_api(action), deque()).append(action)
    load = Counter(_api(action) for action in running)
    chosen: list[PlanAction] = []
    while queues and len(chosen) < room:
        api = min(queues, key=lambda name: load[name])  # dicts keep plan order among ties
        chosen.append(queues[api].popleft())
        load[api] += 1
        if not queues[api]:
            del queues[api]
    return chosen


def _allowed(concurrency: Concurrency) -> int:
    if not callable(concurrency):
        return concurrency
    return max(1, min(MAX_THREADS, concurrency()))


def apply(
    plan: Plan,
    workspace: Workspace,
    journal: Journal,
    *,
    concurrency: Concurrency = 8,
    on_progress: Progress | None = None,
) -> ApplyResult:
    """Run every action whose dependencies are done, up to `concurrency` at a time (asked
    again before each start when it is a callable); what they create is marked with the
    journal's run.

    `LeaseLostError` (another holder took the run over) stops it: the actions running
    finish, and it is raised with nothing more recorded."""
    waiting = [marked(action, journal.run_id) for action in plan.actions]
    if concurrency != 1:
        # Within each API, those with the longest chain of actions after them first: a
        # share's create, whose objects and grants wait for it, before one nothing waits
        # for. (One at a time, the order changes nothing but how it reads: the plan's is
        # kept.)
        chains = _chains_after(plan.actions)
        waiting.sort(key=lambda action: chains[action.action_id], reverse=True)
    done: list[PlanAction] = []
    done_ids: set[str] = set()
    running: dict[Future[Answer], PlanAction] = {}
    answers: dict[str, PipelineState | ScheduleJobState] = {}
    # Pipelines' ids as read before the run or answered by its creates: an action starts
    # only once those it depends on are done, so the id it needs is here by then.
    pipeline_ids = {n: p.pipeline_id for n, p in plan.before.pipelines.items() if p.pipeline_id}
    failure: tuple[PlanAction, str] | None = None
    failures: list[PlanAction] = []
    lost: BaseException | None = None
    threads = MAX_THREADS if callable(concurrency) else concurrency
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="apply") as pool:
        while waiting or running:
            if failure is None and lost is None:
                ready = [a for a in waiting if set(a.depends_on) <= done_ids]
                room = _allowed(concurrency) - len(running)
                for action in spread(ready, running.values(), room):
                    waiting.remove(action)
                    # In a copy of this thread's context: the action's calls belong to the
                    # run's trace span and its log lines name the run.
                    context = contextvars.copy_context()
                    started = pool.submit(
                        context.run, run_action, action, workspace, journal, dict(pipeline_ids)
                    )
                    running[started] = action
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
                    if (answer := future.result()) is not None:
                        answers[action.action_id] = answer
                        if isinstance(answer, PipelineState) and answer.pipeline_id:
                            pipeline_ids[answer.name] = answer.pipeline_id
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
        return ApplyResult(tuple(done), failure[0], failure[1], tuple(failures), answers)
    return ApplyResult(tuple(done), answers=answers)
