"""How to undo one action now: field-level inverses that keep what others changed since.

An action took a resource from what it was (`before`) to what the run left (`left`); the
workspace now holds `current`. Each field the run changed goes back to `before` if it is
still as the run left it; a field or list element someone else changed since keeps their
value, and is reported. Elements of lists (IP addresses, share objects, grantees) and keys
of mappings (tags) are undone one by one: the IPs the run added are removed, those it
removed are put back, and an IP someone else added stays. An undo already in effect needs
no call, so undoing again after a crash is safe.

This module is pure: `undo_step` takes values and returns the calls to make and the state
the resource should then be in, for verification.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

from sharepack.engine.actions import ActionKind, PlanAction, comparable_job, comparable_pipeline
from sharepack.engine.apply import recipient_holds
from sharepack.workspace.state import (
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)

#: Fields whose value is a set of elements, undone element by element.
_SET_FIELDS = frozenset({"allowed_ips", "notification"})

#: Which `WorkspaceState` collection each kind of action changes.
COLLECTION: dict[ActionKind, str] = {
    ActionKind.CREATE_RECIPIENT: "recipients",
    ActionKind.UPDATE_RECIPIENT: "recipients",
    ActionKind.DELETE_RECIPIENT: "recipients",
    ActionKind.CREATE_SHARE: "shares",
    ActionKind.UPDATE_SHARE_COMMENT: "shares",
    ActionKind.DELETE_SHARE: "shares",
    ActionKind.UPDATE_SHARE_OBJECTS: "shares",
    ActionKind.UPDATE_SHARE_GRANTS: "shares",
    ActionKind.CREATE_PIPELINE: "pipelines",
    ActionKind.UPDATE_PIPELINE: "pipelines",
    ActionKind.CREATE_SCHEDULE_JOB: "jobs",
    ActionKind.UPDATE_SCHEDULE_JOB: "jobs",
    ActionKind.DELETE_SCHEDULE_JOB: "jobs",
}

_NAMES = {"recipients": "recipient", "shares": "share", "pipelines": "pipeline", "jobs": "job"}

T = TypeVar("T")


@dataclass(frozen=True)
class UndoStep:
    """The calls that undo an action now, and what the resource should hold after them
    (`expected`, None for absent). `kept`: changes others made since the run, left as they
    are; `conflict` when one of them stands in the way of undoing the run's own change."""

    calls: tuple[PlanAction, ...]
    expected: Any
    kept: tuple[str, ...] = ()
    conflict: bool = False


class NoInverseError(Exception):
    """No inverse is known for this kind of action."""


def undo_step(action: PlanAction, current: WorkspaceState) -> UndoStep:
    """What undoing `action` takes, given the workspace as it is now."""
    collection = COLLECTION.get(action.kind)
    if action.kind is ActionKind.RUN_PIPELINE_UPDATE:
        # The table an update produced goes when the pipeline that owns it is deleted.
        return UndoStep((), None)
    if collection is None:
        raise NoInverseError(f"{action.describe()}: no inverse is known")
    now = getattr(current, collection).get(action.resource)
    if collection == "recipients":
        return _recipient(action, now)
    if collection == "shares":
        return _share(action, now)
    return _pipeline_or_job(action, now, collection)


def _label(collection: str, name: str) -> str:
    return f"{_NAMES[collection]} '{name}'"


def _call(action: PlanAction, kind: ActionKind, **values: Any) -> PlanAction:
    return PlanAction(f"undo:{action.action_id}", kind, action.resource, **values)


def _recipient(action: PlanAction, now: RecipientState | None) -> UndoStep:
    label = _label("recipients", action.resource)
    if action.kind is ActionKind.CREATE_RECIPIENT:
        assert action.recipient is not None
        if now is None:
            return UndoStep((), None)
        if not recipient_holds(now, action.recipient):
            return _kept_whole(label, now, "changed by another since the run created it")
        return UndoStep((_call(action, ActionKind.DELETE_RECIPIENT),), None)
    assert action.before is not None
    if action.kind is ActionKind.DELETE_RECIPIENT:
        if now is None:
            return UndoStep(
                (_call(action, ActionKind.CREATE_RECIPIENT, recipient=action.before),),
                action.before,
            )
        if now == action.before:
            return UndoStep((), now)
        return _kept_whole(label, now, "created again by another since the run deleted it")
    assert action.recipient is not None
    if now is None:
        return _kept_whole(label, None, "deleted by another since the run changed it")
    target, kept, conflict = merge_back(action.before, action.recipient, now, label)
    calls = () if target == now else (_call(action, ActionKind.UPDATE_RECIPIENT, recipient=target),)
    return UndoStep(calls, target, kept, conflict)


def _share(action: PlanAction, now: ShareState | None) -> UndoStep:
    label = _label("shares", action.resource)
    kind = action.kind
    if kind is ActionKind.CREATE_SHARE:
        if now is None:
            return UndoStep((), None)
        if now.objects or now.grantees or now.comment != action.comment:
            return _kept_whole(label, now, "changed by another since the run created it")
        return UndoStep((_call(action, ActionKind.DELETE_SHARE),), None)
    if kind is ActionKind.DELETE_SHARE:
        was = action.before_share or ShareState(action.resource)
        if now is None:
            call = _call(action, ActionKind.CREATE_SHARE, comment=was.comment)
            return UndoStep((call,), ShareState(action.resource, was.comment))
        if now.comment == was.comment and not now.objects and not now.grantees:
            return UndoStep((), now)
        return _kept_whole(label, now, "created again by another since the run deleted it")
    if now is None:
        if (
            kind is ActionKind.UPDATE_SHARE_COMMENT
            or action.remove_objects
            or action.remove_grantees
        ):
            return _kept_whole(label, None, "deleted by another since the run changed it")
        return UndoStep((), None)  # what the run added went with the share
    if kind is ActionKind.UPDATE_SHARE_COMMENT:
        target, kept, conflict = _scalar(
            action.before_comment, action.comment, now.comment, f"{label}: comment"
        )
        calls = () if target == now.comment else (_call(action, kind, comment=target),)
        return UndoStep(calls, replace(now, comment=target), kept, conflict)
    if kind is ActionKind.UPDATE_SHARE_OBJECTS:
        return _share_objects(action, now, label)
    return _share_grants(action, now)


def _share_objects(action: PlanAction, now: ShareState, label: str) -> UndoStep:
    held = {o.name: o for o in now.objects}
    remove = tuple(o.name for o in action.add_objects if o.name in held)
    was = {o.name: o for o in action.removed_states}
    restore = tuple(
        was.get(name, ShareObjectState(name)) for name in action.remove_objects if name not in held
    )
    kept = tuple(
        f"{label}: object '{name}' was added again by another since the run removed it (kept)"
        for name in action.remove_objects
        if name in held and name in was and held[name] != was[name]
    )
    objects = tuple(o for o in now.objects if o.name not in remove) + restore
    calls: tuple[PlanAction, ...] = ()
    if remove or restore:
        calls = (
            _call(
                action, ActionKind.UPDATE_SHARE_OBJECTS, add_objects=restore, remove_objects=remove
            ),
        )
    return UndoStep(calls, replace(now, objects=objects), kept)


def _share_grants(action: PlanAction, now: ShareState) -> UndoStep:
    revoke = tuple(g for g in action.add_grantees if g in now.grantees)
    grant = tuple(g for g in action.remove_grantees if g not in now.grantees)
    grantees = (now.grantees - set(revoke)) | set(grant)
    calls: tuple[PlanAction, ...] = ()
    if revoke or grant:
        calls = (
            _call(
                action,
                ActionKind.UPDATE_SHARE_GRANTS,
                add_grantees=grant,
                remove_grantees=revoke,
            ),
        )
    return UndoStep(calls, replace(now, grantees=frozenset(grantees)))


def _pipeline_or_job(action: PlanAction, now: Any, collection: str) -> UndoStep:
    label = _label(collection, action.resource)
    is_job = collection == "jobs"
    view = _view
    left = action.job if is_job else action.pipeline
    before = action.before_job if is_job else action.before_pipeline
    kinds = _JOB_KINDS if is_job else _PIPELINE_KINDS
    create, update, delete = kinds
    field = "job" if is_job else "pipeline"
    if action.kind is create:
        assert left is not None
        if now is None:
            return UndoStep((), None)
        if view(now) != view(left):
            return _kept_whole(label, now, "changed by another since the run created it")
        return UndoStep((_call(action, delete),), None)
    assert before is not None
    if action.kind is delete:
        if now is None:
            return UndoStep((_call(action, create, **{field: before}),), before)
        if view(now) == view(before):
            return UndoStep((), now)
        return _kept_whole(label, now, "created again by another since the run deleted it")
    assert left is not None
    if now is None:
        return _kept_whole(label, None, "deleted by another since the run changed it")
    merged, kept, conflict = merge_back(view(before), view(left), view(now), label)
    if merged == view(now):
        return UndoStep((), now, kept, conflict)
    target = _with_ids(merged, now)
    return UndoStep((_call(action, update, **{field: target}),), target, kept, conflict)


_PIPELINE_KINDS = (
    ActionKind.CREATE_PIPELINE,
    ActionKind.UPDATE_PIPELINE,
    ActionKind.DELETE_PIPELINE,
)
_JOB_KINDS = (
    ActionKind.CREATE_SCHEDULE_JOB,
    ActionKind.UPDATE_SCHEDULE_JOB,
    ActionKind.DELETE_SCHEDULE_JOB,
)


def _view(state: Any) -> Any:
    """A pipeline or job as the pack declares it, without the ids the workspace gave."""
    if isinstance(state, ScheduleJobState):
        return comparable_job(state)
    return comparable_pipeline(state)


def _with_ids(merged: Any, now: Any) -> Any:
    if isinstance(now, ScheduleJobState):
        return replace(merged, job_id=now.job_id, pipeline_id=now.pipeline_id)
    assert isinstance(now, PipelineState)
    return replace(merged, pipeline_id=now.pipeline_id)


def _kept_whole(label: str, now: Any, why: str) -> UndoStep:
    return UndoStep((), now, (f"{label} {why} (kept)",), conflict=True)


def merge_back(before: T, left: T, current: T, label: str) -> tuple[T, tuple[str, ...], bool]:
    """`current` with each field the run changed (from `before` to `left`) put back, where
    it is still as the run left it; the changes of others kept, and whether any of them
    stood in the way of the run's own."""
    values: dict[str, Any] = {}
    kept: list[str] = []
    conflict = False
    for field in fields(before):  # type: ignore[arg-type]
        name = field.name
        was, ran, now = getattr(before, name), getattr(left, name), getattr(current, name)
        where = f"{label}: {name}"
        if name in _SET_FIELDS:
            values[name], notes = _elements(tuple(was), tuple(ran), tuple(now), where)
        elif isinstance(was, Mapping) and isinstance(ran, Mapping) and isinstance(now, Mapping):
            values[name], notes, clash = _keys(was, ran, now, where)
            conflict = conflict or clash
        else:
            values[name], notes, clash = _scalar(was, ran, now, where)
            conflict = conflict or clash
        kept.extend(notes)
    return replace(current, **values), tuple(kept), conflict  # type: ignore[type-var]


def _scalar(was: Any, ran: Any, now: Any, where: str) -> tuple[Any, tuple[str, ...], bool]:
    if now == ran:
        return was, (), False  # as the run left it: put back (or unchanged by the run)
    if was == ran:
        return now, (f"{where} is {now!r}, changed by another during the run (kept)",), False
    if now == was:
        return now, (), False  # someone else already put it back
    return now, (f"{where} is {now!r}, changed by another since the run set {ran!r} (kept)",), True


def _elements(
    was: tuple[Any, ...], ran: tuple[Any, ...], now: tuple[Any, ...], where: str
) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    touched = set(was) ^ set(ran)
    keep = (set(now) - touched) | (set(was) & touched)
    ordered = tuple(dict.fromkeys(x for x in (*now, *was) if x in keep))
    others = sorted((set(now) ^ set(ran)) - touched, key=str)
    notes = tuple(
        f"{where}: {x!r} {'added' if x in now else 'removed'} by another during the run (kept)"
        for x in others
    )
    return ordered, notes


_ABSENT = object()


def _keys(
    was: Mapping[str, Any], ran: Mapping[str, Any], now: Mapping[str, Any], where: str
) -> tuple[dict[str, Any], tuple[str, ...], bool]:
    result: dict[str, Any] = {}
    notes: list[str] = []
    conflict = False
    for key in dict.fromkeys((*now, *was, *ran)):
        value, note, clash = _scalar(
            was.get(key, _ABSENT), ran.get(key, _ABSENT), now.get(key, _ABSENT), f"{where}[{key}]"
        )
        if value is not _ABSENT:
            result[key] = value
        notes.extend(n.replace(repr(_ABSENT), "absent") for n in note)
        conflict = conflict or clash
    return result, tuple(notes), conflict
