"""Undo a failed run: the inverses of its DONE actions in reverse order, then verify.

Verification reads every resource the plan named and compares it with the state read
before the run, field by declared field; what differs is reported, never hidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sharepack.engine.actions import (
    DELETED_FROM,
    PlanAction,
    comparable_job,
    comparable_pipeline,
    inverse,
)
from sharepack.engine.apply import execute, is_applied
from sharepack.engine.journal import ActionStatus, Journal
from sharepack.engine.plan import ResourceNames
from sharepack.workspace.errors import ResourceNotFoundError
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.state import PipelineState, ScheduleJobState, WorkspaceState


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
            execute(undo, workspace)
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
    )


def verify(before: WorkspaceState, workspace: Workspace, names: ResourceNames) -> list[str]:
    """How the named resources now differ from `before`; empty when restored."""
    after = read_names(workspace, names)
    differences: list[str] = []
    for name in names.recipients:
        was, now = before.recipients.get(name), after.recipients.get(name)
        if was != now:
            differences.append(f"recipient '{name}': expected {_state(was)}, found {_state(now)}")
    for name in names.shares:
        was_share, now_share = before.shares.get(name), after.shares.get(name)
        if (was_share is None) != (now_share is None):
            differences.append(
                f"share '{name}': expected {_state(was_share)}, found {_state(now_share)}"
            )
            continue
        if was_share is None or now_share is None:
            continue
        if was_share.comment != now_share.comment:
            differences.append(f"share '{name}': comment differs")
        if was_share.object_names != now_share.object_names:
            extra = sorted(now_share.object_names - was_share.object_names)
            missing = sorted(was_share.object_names - now_share.object_names)
            differences.append(f"share '{name}': objects +{extra} -{missing}")
        if was_share.grantees != now_share.grantees:
            differences.append(f"share '{name}': grants differ")
    for name in names.pipelines:
        was_p, now_p = before.pipelines.get(name), after.pipelines.get(name)
        if _pipeline_view(was_p) != _pipeline_view(now_p):
            differences.append(f"pipeline '{name}': expected {_state(was_p)} as before")
    for name in names.jobs:
        was_j, now_j = before.jobs.get(name), after.jobs.get(name)
        if _job_view(was_j) != _job_view(now_j):
            differences.append(f"schedule job '{name}': expected {_state(was_j)} as before")
    return differences


def _pipeline_view(pipeline: PipelineState | None) -> PipelineState | None:
    return comparable_pipeline(pipeline) if pipeline else None


def _job_view(job: ScheduleJobState | None) -> ScheduleJobState | None:
    return comparable_job(job) if job else None


def _state(value: object) -> str:
    return "absent" if value is None else "present"
