"""The workspace after a run, from what it was and what the run did: no read needed.

A run that completes records what it leaves (`history.provisioned`). Each action's effect
is known from the action itself, and what only the workspace could say (the ids it gives
a pipeline or a job it creates) from the answer to the write that made it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import assert_never

from sharepack.engine.actions import (
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
)
from sharepack.workspace.state import (
    PipelineState,
    ScheduleJobState,
    ShareState,
    WorkspaceState,
)

#: What a write answered that the action alone cannot say, by action id.
Answers = Mapping[str, PipelineState | ScheduleJobState]


def state_after(
    before: WorkspaceState, done: Iterable[PlanAction], answers: Answers
) -> WorkspaceState:
    """`before` with the effect of each action of `done`, in the order they were done.

    A pipeline or job created without an answer on record (its create was found to have
    taken effect rather than answered) is left without its id: `missing_ids` names them."""
    recipients = dict(before.recipients)
    shares = dict(before.shares)
    pipelines = dict(before.pipelines)
    jobs = dict(before.jobs)
    for action in done:
        name = action.resource
        match action:
            case CreateRecipient() | UpdateRecipient():
                recipients[name] = action.recipient
            case DeleteRecipient():
                recipients.pop(name, None)
            case CreateShare():
                shares[name] = ShareState(name, action.comment)
            case UpdateShareComment():
                shares[name] = dataclasses.replace(_share(shares, name), comment=action.comment)
            case UpdateShareObjects():
                shares[name] = _with_objects(_share(shares, name), action)
            case UpdateShareObjectOptions():
                shares[name] = _with_options(_share(shares, name), action)
            case UpdateShareGrants():
                share = _share(shares, name)
                grantees = (share.grantees - set(action.remove_grantees)) | set(action.add_grantees)
                shares[name] = dataclasses.replace(share, grantees=frozenset(grantees))
            case DeleteShare():
                shares.pop(name, None)
            case CreatePipeline() | UpdatePipeline():
                pipelines[name] = _pipeline(action, pipelines.get(name), answers)
            case DeletePipeline():
                pipelines.pop(name, None)
            case CreateScheduleJob() | UpdateScheduleJob():
                jobs[name] = _job(action, jobs.get(name), answers)
            case DeleteScheduleJob():
                jobs.pop(name, None)
            case RunPipelineUpdate() | Nothing():
                pass
            case _:
                assert_never(action)
    return dataclasses.replace(
        before, recipients=recipients, shares=shares, pipelines=pipelines, jobs=jobs
    )


def missing_ids(state: WorkspaceState) -> tuple[list[str], list[str]]:
    """The pipelines and the jobs of `state` whose ids it does not know."""
    return (
        [name for name, p in state.pipelines.items() if p.pipeline_id is None],
        [name for name, j in state.jobs.items() if j.job_id is None],
    )


def _share(shares: Mapping[str, ShareState], name: str) -> ShareState:
    return shares.get(name) or ShareState(name)


def _with_objects(share: ShareState, action: UpdateShareObjects) -> ShareState:
    removed = set(action.remove_objects)
    added = {o.name for o in action.add_objects}
    kept = tuple(o for o in share.objects if o.name not in removed and o.name not in added)
    return dataclasses.replace(share, objects=kept + tuple(action.add_objects))


def _with_options(share: ShareState, action: UpdateShareObjectOptions) -> ShareState:
    changed = {o.name: o for o in action.changed_objects}
    objects = tuple(changed.get(o.name, o) for o in share.objects)
    return dataclasses.replace(share, objects=objects)


def _pipeline(
    action: CreatePipeline | UpdatePipeline, was: PipelineState | None, answers: Answers
) -> PipelineState:
    answer = answers.get(action.action_id)
    if isinstance(answer, PipelineState):
        return answer
    known = was.pipeline_id if was else None
    return dataclasses.replace(action.pipeline, pipeline_id=action.pipeline.pipeline_id or known)


def _job(
    action: CreateScheduleJob | UpdateScheduleJob, was: ScheduleJobState | None, answers: Answers
) -> ScheduleJobState:
    answer = answers.get(action.action_id)
    if isinstance(answer, ScheduleJobState):
        return answer
    known = was.job_id if was else None
    return dataclasses.replace(action.job, job_id=action.job.job_id or known)
