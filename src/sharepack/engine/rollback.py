"""Undo a failed run: the inverses of its DONE actions in reverse order, then verify.

Verification reads every resource the plan named and compares it with the state read
before the run, field by declared field; what differs is reported, never hidden. A
recipient is compared as `RecipientState` declares it, without its tokens: one a rollback
re-created (after a prune deleted it) has a new activation link, and that is not reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from sharepack.engine.actions import (
    DELETED_FROM,
    PlanAction,
    comparable_job,
    comparable_pipeline,
    inverse,
    marked,
)
from sharepack.engine.apply import execute, is_applied
from sharepack.engine.journal import ActionStatus, Journal
from sharepack.engine.plan import ResourceNames
from sharepack.workspace.errors import ResourceNotFoundError
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.state import (
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareState,
    WorkspaceState,
)


@dataclass(frozen=True)
class RollbackResult:
    undone: int
    failures: tuple[str, ...]
    differences: tuple[str, ...]

    @property
    def restored(self) -> bool:
        return not self.failures and not self.differences


def rollback(
    done: Sequence[PlanAction],
    workspace: Workspace,
    journal: Journal,
    *,
    before: WorkspaceState,
    names: ResourceNames,
    failed: Sequence[PlanAction] = (),
) -> RollbackResult:
    """Run inverses newest first; keep going past a failure so as much as possible is undone.

    A `failed` action whose effect the workspace shows (it made the change, then the
    answer was lost) is undone first, like a done one."""
    failures: list[str] = []
    undone = 0
    took_effect = [action for action in failed if _took_effect(action, workspace)]
    for action in [*reversed(took_effect), *reversed(done)]:
        undo = inverse(action)
        if undo is None:
            failures.append(f"{action.describe()}: no inverse is known")
            continue
        try:
            execute(marked(undo, journal.run_id), workspace)
        except ResourceNotFoundError:
            if undo.kind not in DELETED_FROM:
                failures.append(f"undo {action.describe()}: the resource is gone")
                continue
        except Exception as exc:
            journal.finished(action, ActionStatus.COMPENSATION_FAILED, str(exc))
            failures.append(f"undo {action.describe()}: {exc}")
            continue
        journal.finished(action, ActionStatus.COMPENSATED)
        undone += 1
    differences = verify(before, workspace, names)
    return RollbackResult(undone, tuple(failures), tuple(differences))


def _took_effect(action: PlanAction, workspace: Workspace) -> bool:
    try:
        return is_applied(action, workspace)
    except Exception:  # unreadable now: verification will report what remains
        return False


def read_names(workspace: Workspace, names: ResourceNames) -> WorkspaceState:
    return workspace.read_state(
        recipients=names.recipients,
        shares=names.shares,
        objects=names.objects,
        pipelines=names.pipelines,
        jobs=names.jobs,
        recipient_grants=names.recipient_grants,
    )


def verify(before: WorkspaceState, workspace: Workspace, names: ResourceNames) -> list[str]:
    """How the named resources now differ from `before`; empty when restored."""
    return differences(before, read_names(workspace, names), names)


def differences(before: WorkspaceState, after: WorkspaceState, names: ResourceNames) -> list[str]:
    """Each named resource that differs between the two states, with the fields that do."""
    found: list[str] = []
    for name in names.recipients:
        found += _compared(
            "recipient", name, before.recipients.get(name), after.recipients.get(name)
        )
    for name in names.shares:
        found += _share_differences(name, before.shares.get(name), after.shares.get(name))
    for name in names.pipelines:
        was_p, now_p = before.pipelines.get(name), after.pipelines.get(name)
        found += _compared("pipeline", name, _pipeline_view(was_p), _pipeline_view(now_p))
    for name in names.jobs:
        was_j, now_j = before.jobs.get(name), after.jobs.get(name)
        found += _compared("schedule job", name, _job_view(was_j), _job_view(now_j))
    for name in names.recipient_grants:
        was_g = before.recipient_grants.get(name, frozenset())
        now_g = after.recipient_grants.get(name, frozenset())
        if was_g != now_g:
            found.append(
                f"recipient '{name}': granted on shares +{sorted(now_g - was_g)} "
                f"-{sorted(was_g - now_g)}"
            )
    for name in names.targets:
        was_there, is_there = name in before.existing_objects, name in after.existing_objects
        if is_there and not was_there:
            found.append(f"table '{name}' exists (it did not before): produced during the run")
        elif was_there and not is_there:
            found.append(f"table '{name}' is missing (it existed before)")
    return found


def _share_differences(name: str, was: ShareState | None, now: ShareState | None) -> list[str]:
    if was is None or now is None:
        return _compared("share", name, was, now)
    found: list[str] = []
    if was.comment != now.comment:
        found.append(f"share '{name}': comment is {now.comment!r} (was {was.comment!r})")
    if was.object_names != now.object_names:
        extra = sorted(now.object_names - was.object_names)
        missing = sorted(was.object_names - now.object_names)
        found.append(f"share '{name}': objects +{extra} -{missing}")
    if was.grantees != now.grantees:
        granted = sorted(now.grantees - was.grantees)
        revoked = sorted(was.grantees - now.grantees)
        found.append(f"share '{name}': grants +{granted} -{revoked}")
    return found


_Resource = RecipientState | ShareState | PipelineState | ScheduleJobState


def _compared(kind: str, name: str, was: _Resource | None, now: _Resource | None) -> list[str]:
    """Nothing when equal; else that it appeared or went, or the fields that differ."""
    if was == now:
        return []
    if was is None:
        return [f"{kind} '{name}' exists (it did not before)"]
    if now is None:
        return [f"{kind} '{name}' is missing (it existed before)"]
    changed = [
        f"{f.name} is {getattr(now, f.name)!r} (was {getattr(was, f.name)!r})"
        for f in fields(was)
        if getattr(was, f.name) != getattr(now, f.name)
    ]
    return [f"{kind} '{name}': {', '.join(changed)}"]


def _pipeline_view(pipeline: PipelineState | None) -> PipelineState | None:
    return comparable_pipeline(pipeline) if pipeline else None


def _job_view(job: ScheduleJobState | None) -> ScheduleJobState | None:
    return comparable_job(job) if job else None
