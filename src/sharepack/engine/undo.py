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
from typing import Any, TypeVar, assert_never

from sharepack.engine.actions import (
    JOB_ACTIONS,
    PIPELINE_WRITES,
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
    comparable_job,
    comparable_pipeline,
    options_of,
    recipient_holds,
)
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

_NAMES = {"recipients": "recipient", "shares": "share", "pipelines": "pipeline", "jobs": "job"}

T = TypeVar("T")


def collection_of(action: PlanAction) -> str | None:
    """The `WorkspaceState` collection whose resource undoing `action` reads and changes;
    None for an action whose undo needs no read."""
    if isinstance(action, RECIPIENT_ACTIONS):
        return "recipients"
    if isinstance(action, SHARE_ACTIONS):
        return "shares"
    if isinstance(action, PIPELINE_WRITES):
        return "pipelines"
    if isinstance(action, JOB_ACTIONS):
        return "jobs"
    return None


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
    name = action.resource
    match action:
        case CreateRecipient() | UpdateRecipient() | DeleteRecipient():
            return _recipient(action, current.recipients.get(name))
        case CreateShare() | DeleteShare():
            return _share(action, current.shares.get(name))
        case (
            UpdateShareComment()
            | UpdateShareObjects()
            | UpdateShareObjectOptions()
            | UpdateShareGrants()
        ):
            return _share_change(action, current.shares.get(name))
        case CreatePipeline() | UpdatePipeline():
            return _pipeline(action, current.pipelines.get(name))
        case CreateScheduleJob() | UpdateScheduleJob() | DeleteScheduleJob():
            return _job(action, current.jobs.get(name))
        case RunPipelineUpdate():
            # The table an update produced goes when the pipeline that owns it is deleted.
            return UndoStep((), None)
        case DeletePipeline() | Nothing():
            raise NoInverseError(f"{action.describe()}: no inverse is known")
        case _:
            assert_never(action)


def _label(collection: str, name: str) -> str:
    return f"{_NAMES[collection]} '{name}'"


def _recipient(
    action: CreateRecipient | UpdateRecipient | DeleteRecipient, now: RecipientState | None
) -> UndoStep:
    label = _label("recipients", action.resource)
    undo_id, name = action.undo_id, action.resource
    match action:
        case CreateRecipient():
            if now is None:
                return UndoStep((), None)
            if not recipient_holds(now, action.recipient):
                return _kept_whole(label, now, "changed by another since the run created it")
            return UndoStep((DeleteRecipient(undo_id, name, before=now),), None)
        case DeleteRecipient():
            if now is None:
                create = CreateRecipient(undo_id, name, recipient=action.before)
                return UndoStep((create,), action.before)
            if now == action.before:
                return UndoStep((), now)
            return _kept_whole(label, now, "created again by another since the run deleted it")
        case UpdateRecipient():
            if now is None:
                return _kept_whole(label, None, "deleted by another since the run changed it")
            target, kept, conflict = merge_back(action.before, action.recipient, now, label)
            call = UpdateRecipient(undo_id, name, recipient=target, before=now)
            calls = () if target == now else (call,)
            return UndoStep(calls, target, kept, conflict)
        case _:
            assert_never(action)


def _share(action: CreateShare | DeleteShare, now: ShareState | None) -> UndoStep:
    label = _label("shares", action.resource)
    undo_id, name = action.undo_id, action.resource
    match action:
        case CreateShare():
            if now is None:
                return UndoStep((), None)
            if now.objects or now.grantees or now.comment != action.comment:
                return _kept_whole(label, now, "changed by another since the run created it")
            return UndoStep((DeleteShare(undo_id, name, before_share=now),), None)
        case DeleteShare():
            was = action.before_share
            if now is None:
                create = CreateShare(undo_id, name, comment=was.comment)
                return UndoStep((create,), ShareState(name, was.comment))
            if now.comment == was.comment and not now.objects and not now.grantees:
                return UndoStep((), now)
            return _kept_whole(label, now, "created again by another since the run deleted it")
        case _:
            assert_never(action)


_ShareChange = (
    UpdateShareComment | UpdateShareObjects | UpdateShareObjectOptions | UpdateShareGrants
)


def _share_change(action: _ShareChange, now: ShareState | None) -> UndoStep:
    label = _label("shares", action.resource)
    if now is None:
        if _took_away(action):
            return _kept_whole(label, None, "deleted by another since the run changed it")
        return UndoStep((), None)  # what the run added went with the share
    match action:
        case UpdateShareComment():
            target, kept, conflict = _scalar(
                action.before_comment, action.comment, now.comment, f"{label}: comment"
            )
            call = UpdateShareComment(
                action.undo_id, action.resource, comment=target, before_comment=now.comment
            )
            calls = () if target == now.comment else (call,)
            return UndoStep(calls, replace(now, comment=target), kept, conflict)
        case UpdateShareObjects():
            return _share_objects(action, now, label)
        case UpdateShareObjectOptions():
            return _share_options(action, now, label)
        case UpdateShareGrants():
            return _share_grants(action, now)
        case _:
            assert_never(action)


def _took_away(action: _ShareChange) -> bool:
    """Did the action take from the share something its undo would put back?"""
    if isinstance(action, UpdateShareObjects):
        return bool(action.remove_objects)
    if isinstance(action, UpdateShareGrants):
        return bool(action.remove_grantees)
    return True  # the comment it replaced


def _share_objects(action: UpdateShareObjects, now: ShareState, label: str) -> UndoStep:
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
        removing = tuple(held[name] for name in remove)
        call = UpdateShareObjects(
            action.undo_id,
            action.resource,
            add_objects=restore,
            remove_objects=remove,
            removed_states=removing,
        )
        calls = (call,)
    return UndoStep(calls, replace(now, objects=objects), kept)


def _share_options(action: UpdateShareObjectOptions, now: ShareState, label: str) -> UndoStep:
    """Each object's options back as they were, if still as the run left them; an object
    someone else changed or removed since is kept as it is, and reported."""
    held = {o.name: o for o in now.objects}
    restore: list[ShareObjectState] = []
    undone: list[ShareObjectState] = []
    kept: list[str] = []
    conflict = False
    for ran, was in zip(action.changed_objects, action.before_objects, strict=True):
        current = held.get(ran.name)
        if current is None:
            kept.append(f"{label}: object '{ran.name}' was removed by another since (kept)")
        elif options_of(current) == options_of(was):
            continue  # already as it was
        elif options_of(current) != options_of(ran):
            kept.append(f"{label}: object '{ran.name}' was changed by another since (kept)")
            conflict = True
        else:
            restore.append(was)
            undone.append(current)
    back = {o.name: o for o in restore}
    objects = tuple(back.get(o.name, o) for o in now.objects)
    calls: tuple[PlanAction, ...] = ()
    if restore:
        call = UpdateShareObjectOptions(
            action.undo_id,
            action.resource,
            changed_objects=tuple(restore),
            before_objects=tuple(undone),
        )
        calls = (call,)
    return UndoStep(calls, replace(now, objects=objects), tuple(kept), conflict)


def _share_grants(action: UpdateShareGrants, now: ShareState) -> UndoStep:
    revoke = tuple(g for g in action.add_grantees if g in now.grantees)
    grant = tuple(g for g in action.remove_grantees if g not in now.grantees)
    grantees = (now.grantees - set(revoke)) | set(grant)
    calls: tuple[PlanAction, ...] = ()
    if revoke or grant:
        call = UpdateShareGrants(
            action.undo_id, action.resource, add_grantees=grant, remove_grantees=revoke
        )
        calls = (call,)
    return UndoStep(calls, replace(now, grantees=frozenset(grantees)))


def _pipeline(action: CreatePipeline | UpdatePipeline, now: PipelineState | None) -> UndoStep:
    label = _label("pipelines", action.resource)
    undo_id, name = action.undo_id, action.resource
    match action:
        case CreatePipeline():
            if now is None:
                return UndoStep((), None)
            if comparable_pipeline(now) != comparable_pipeline(action.pipeline):
                return _kept_whole(label, now, "changed by another since the run created it")
            return UndoStep((DeletePipeline(undo_id, name),), None)
        case UpdatePipeline():
            if now is None:
                return _kept_whole(label, None, "deleted by another since the run changed it")
            merged, kept, conflict = merge_back(
                comparable_pipeline(action.before_pipeline),
                comparable_pipeline(action.pipeline),
                comparable_pipeline(now),
                label,
            )
            if merged == comparable_pipeline(now):
                return UndoStep((), now, kept, conflict)
            target = replace(merged, pipeline_id=now.pipeline_id)
            call = UpdatePipeline(undo_id, name, pipeline=target, before_pipeline=now)
            return UndoStep((call,), target, kept, conflict)
        case _:
            assert_never(action)


def _job(
    action: CreateScheduleJob | UpdateScheduleJob | DeleteScheduleJob,
    now: ScheduleJobState | None,
) -> UndoStep:
    label = _label("jobs", action.resource)
    undo_id, name = action.undo_id, action.resource
    match action:
        case CreateScheduleJob():
            if now is None:
                return UndoStep((), None)
            if comparable_job(now) != comparable_job(action.job):
                return _kept_whole(label, now, "changed by another since the run created it")
            return UndoStep((DeleteScheduleJob(undo_id, name, before_job=now),), None)
        case DeleteScheduleJob():
            if now is None:
                create = CreateScheduleJob(undo_id, name, job=action.before_job)
                return UndoStep((create,), action.before_job)
            if comparable_job(now) == comparable_job(action.before_job):
                return UndoStep((), now)
            return _kept_whole(label, now, "created again by another since the run deleted it")
        case UpdateScheduleJob():
            if now is None:
                return _kept_whole(label, None, "deleted by another since the run changed it")
            merged, kept, conflict = merge_back(
                comparable_job(action.before_job),
                comparable_job(action.job),
                comparable_job(now),
                label,
            )
            if merged == comparable_job(now):
                return UndoStep((), now, kept, conflict)
            target = replace(merged, job_id=now.job_id, pipeline_id=now.pipeline_id)
            call = UpdateScheduleJob(undo_id, name, job=target, before_job=now)
            return UndoStep((call,), target, kept, conflict)
        case _:
            assert_never(action)


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
