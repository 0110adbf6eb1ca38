"""Undo a failed run: its DONE actions undone field by field in reverse order, then verify.

Verification reads every resource the plan named and compares it with what the undo
left (the resources the run touched) or with the state read before the run (the rest),
field by field of its state, which holds everything a client can set (a share's objects
each whole, whatever their order); what differs is reported, never hidden. What the
server fills is not compared: a recipient a rollback re-created (after a prune deleted
it) has a new id and a new activation link, and that is not reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import timedelta
from enum import Enum
from typing import Any

from databricks.sdk.retries import retried

from sharepack.engine.actions import (
    DELETING_ACTIONS,
    PlanAction,
    comparable_job,
    comparable_pipeline,
    marked,
)
from sharepack.engine.apply import execute, is_applied
from sharepack.engine.desired import comparable_object
from sharepack.engine.journal import ActionStatus, Journal
from sharepack.engine.plan import ResourceNames
from sharepack.engine.reading import read_names
from sharepack.engine.undo import NoInverseError, UndoStep, collection_of, undo_step
from sharepack.errors import LeaseLostError
from sharepack.observability.metrics import Phase, phase
from sharepack.workspace.errors import (
    ResourceNotFoundError,
    WorkspaceError,
    WorkspaceUnavailableError,
)
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.state import (
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)


@dataclass(frozen=True)
class RollbackResult:
    undone: int
    failures: tuple[str, ...]
    differences: tuple[str, ...]
    #: Changes others made to what the run touched, kept rather than overwritten.
    kept: tuple[str, ...] = ()
    #: Whether one of those stood in the way of undoing one of the run's own changes.
    conflicts: bool = False
    #: The named resources as read back after the undo.
    after: WorkspaceState | None = None

    @property
    def restored(self) -> bool:
        """Every change of the run is undone (others' changes may have been kept)."""
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
    """Undo newest first, field by field (`engine.undo`), reading each resource just
    before its undo; keep going past a failure so as much as possible is undone. Then
    read everything back: what the run touched must be as its undo left it, the rest as
    before the run (a difference there is another's change, kept and reported).

    A `failed` action whose effect the workspace shows (it made the change, then the
    answer was lost) is undone first, like a done one."""
    failures: list[str] = []
    kept: list[str] = []
    conflicts = False
    expected: dict[tuple[str, str], object] = {}
    undone = 0
    took_effect = [action for action in failed if _took_effect(action, workspace)]
    for action in [*reversed(took_effect), *reversed(done)]:
        try:
            step = undo_step(action, _read_for(action, workspace))
            for call in step.calls:
                _undo_call(marked(call, journal.run_id), workspace)
        except LeaseLostError:
            raise
        except NoInverseError as exc:
            failures.append(str(exc))
            continue
        except Exception as exc:
            journal.finished(action, ActionStatus.COMPENSATION_FAILED, str(exc))
            failures.append(f"undo {action.describe()}: {exc}")
            continue
        kept.extend(step.kept)
        conflicts = conflicts or step.conflict
        _expect(expected, action, step)
        status = ActionStatus.KEPT if step.conflict else ActionStatus.COMPENSATED
        journal.finished(action, status, "; ".join(step.kept) or None)
        undone += 0 if step.conflict else 1
    try:
        after = _read_back(workspace, names)
    except WorkspaceError as exc:
        unread = f"the workspace could not be read back to verify the rollback: {exc}"
        return RollbackResult(undone, (*failures, unread), (), tuple(kept), conflicts)
    found, others = _verified(before, after, names, expected)
    return RollbackResult(
        undone,
        tuple(failures),
        tuple(found),
        tuple(dict.fromkeys([*kept, *others])),
        conflicts,
        after,
    )


def _expect(expected: dict[tuple[str, str], object], action: PlanAction, step: UndoStep) -> None:
    """Record what the resource should hold once `step` is done. It builds on what an
    earlier undo of the same resource was to leave, not on a read of it: a lossy restore
    must still be found by verification."""
    collection = collection_of(action)
    if collection is None:
        return
    key = (collection, action.resource)
    if key in expected:
        basis = _holding(collection, action.resource, expected[key])
        expected[key] = undo_step(action, basis).expected
    else:
        expected[key] = step.expected


def _holding(collection: str, name: str, value: Any) -> WorkspaceState:
    """A workspace holding just `value` (None: nothing) as `name` in `collection`."""
    held: dict[str, Any] = {} if value is None else {name: value}
    if collection == "recipients":
        return WorkspaceState(recipients=held)
    if collection == "shares":
        return WorkspaceState(shares=held)
    if collection == "pipelines":
        return WorkspaceState(pipelines=held)
    return WorkspaceState(jobs=held)


def _read_for(action: PlanAction, workspace: Workspace) -> WorkspaceState:
    collection = collection_of(action)
    if collection is None:
        return WorkspaceState()
    return _read_retried(lambda: workspace.read_state(**{collection: [action.resource]}))


def _undo_call(call: PlanAction, workspace: Workspace) -> None:
    """One undo call; a delete met by "not found" (it took effect, the answer was lost,
    the SDK sent it again) is done."""
    try:
        execute(call, workspace)
    except ResourceNotFoundError:
        if not isinstance(call, DELETING_ACTIONS):
            raise


#: Reads of a rollback (before each undo, and to verify) try again on server errors and
#: unreachable workspaces, beyond the 429/503 the SDK retries itself: one failed read must
#: not leave a rolled-back run unverified.
_retried_read = retried(
    on=[WorkspaceUnavailableError], timeout=timedelta(seconds=60), max_attempts=4
)


def _read_retried(read: Callable[[], WorkspaceState]) -> WorkspaceState:
    try:
        state: WorkspaceState = _retried_read(read)()
    except TimeoutError as exc:  # every try failed: the last error says why
        if isinstance(exc.__cause__, WorkspaceError):
            raise exc.__cause__ from exc
        raise
    return state


@phase(Phase.VERIFY)
def _read_back(workspace: Workspace, names: ResourceNames) -> WorkspaceState:
    """The workspace after the undo, read with a few tries."""
    return _read_retried(lambda: read_names(workspace, names))


def _took_effect(action: PlanAction, workspace: Workspace) -> bool:
    try:
        return is_applied(action, workspace)
    except LeaseLostError:
        raise
    except Exception:  # unreadable now: verification will report what remains
        return False


def _verified(
    before: WorkspaceState,
    after: WorkspaceState,
    names: ResourceNames,
    expected: dict[tuple[str, str], object],
) -> tuple[list[str], list[str]]:
    """What the undo failed to restore (each resource it touched, against what its undo
    left), and how the resources it did not touch differ from before (others' changes)."""
    expect = WorkspaceState(
        recipients=_expected(before.recipients, expected, "recipients"),
        shares=_expected(before.shares, expected, "shares"),
        pipelines=_expected(before.pipelines, expected, "pipelines"),
        jobs=_expected(before.jobs, expected, "jobs"),
        existing_objects=before.existing_objects,
        views=before.views,
        recipient_grants=before.recipient_grants,
    )
    found: list[str] = []
    others: list[str] = []
    for line in differences(expect, after, names):
        resource = _resource_of(line)
        untouched = resource is not None and resource not in expected
        grants_of_ours = line.startswith("recipient '") and "granted on shares" in line
        (others if untouched or grants_of_ours else found).append(line)
    return found, [f"{line} (changed by another during the run; kept)" for line in others]


def _expected(
    was: Mapping[str, Any], expected: dict[tuple[str, str], object], collection: str
) -> dict[str, Any]:
    values = dict(was)
    for (kind, name), value in expected.items():
        if kind != collection:
            continue
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return values


_LABELS = {"recipient": "recipients", "share": "shares", "pipeline": "pipelines"}
_LABELS["schedule job"] = "jobs"


def _resource_of(line: str) -> tuple[str, str] | None:
    """(`collection`, name) of a difference line about one recipient, share, pipeline or
    job; None for tables and grants."""
    for label, collection in _LABELS.items():
        prefix = f"{label} '"
        if line.startswith(prefix) and "granted on shares" not in line:
            return collection, line[len(prefix) :].split("'", 1)[0]
    return None


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
    objects_now = {o.name: o for o in now.objects}
    for obj in was.objects:
        again = objects_now.get(obj.name)
        # As the service fills them: change data feed unset is off, history DISABLED.
        if again is not None and comparable_object(again) != comparable_object(obj):
            was_obj, now_obj = comparable_object(obj), comparable_object(again)
            found.append(f"share '{name}': object '{obj.name}' {_changed_fields(was_obj, now_obj)}")
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
    return [f"{kind} '{name}': {_changed_fields(was, now)}"]


def _changed_fields(was: _Resource | ShareObjectState, now: _Resource | ShareObjectState) -> str:
    """`field is new (was old)` for each field of the two dataclass values that differs."""
    return ", ".join(
        f"{f.name} is {_shown(getattr(now, f.name))} (was {_shown(getattr(was, f.name))})"
        for f in fields(was)
        if getattr(was, f.name) != getattr(now, f.name)
    )


def _shown(value: object) -> str:
    return repr(value.value) if isinstance(value, Enum) else repr(value)


def _pipeline_view(pipeline: PipelineState | None) -> PipelineState | None:
    return comparable_pipeline(pipeline) if pipeline else None


def _job_view(job: ScheduleJobState | None) -> ScheduleJobState | None:
    return comparable_job(job) if job else None
