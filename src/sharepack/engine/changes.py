"""A plan as a person reads it, in Terraform's conventions: each resource once, with what
happens to it and the fields that change.

`+` create, `~` update in place, `-` destroy, `-/+` replace (the plan deletes the resource
and creates it again), `>` run: a pipeline update sharepack starts and waits for, which
changes no definition and is counted apart. A resource's change is that of all its
actions together: the objects and grants of a share being created are part of creating it,
and emptying a share on its way out part of destroying it. Values are JSON values (lists,
mappings, text, numbers, None for absent), as `sharepack plan --json` prints them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from enum import Enum, StrEnum
from typing import Any, assert_never

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
    comparable_job,
    comparable_pipeline,
)
from sharepack.engine.desired import comparable_object
from sharepack.packfile.partitions import partitions_text
from sharepack.workspace.state import (
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareObjectState,
    WorkspaceState,
)


class Change(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"
    RUN = "run"


SYMBOLS = {
    Change.CREATE: "+",
    Change.UPDATE: "~",
    Change.DELETE: "-",
    Change.REPLACE: "-/+",
    Change.RUN: ">",
}
#: What each symbol means, as the legend of a plan says it.
MEANINGS = {
    Change.CREATE: "create",
    Change.UPDATE: "update in place",
    Change.DELETE: "destroy",
    Change.REPLACE: "destroy and then create replacement",
    Change.RUN: "run a pipeline update and wait for the table it produces",
}
#: The most elements of a list a line names; the rest are counted (`--json` has them all).
SHOWN_ELEMENTS = 20
_IPS_GONE = "removed (anyone holding the link can connect)"


@dataclass(frozen=True)
class FieldChange:
    """One field of a resource, before and after (None: absent, as before a create)."""

    field: str
    before: Any
    after: Any

    def text(self) -> str:
        """`comment: "Q1" -> "Q2"`, `allowed_ips: +198.51.100.50 -10.0.0.1`, `tags: +team=a`."""
        was, now = self.before, self.after
        if isinstance(was, list) or isinstance(now, list):
            return f"{self.field}: {_elements(self.field, was or [], now or [])}"
        if isinstance(was, Mapping) or isinstance(now, Mapping):
            return f"{self.field}: {_keys(was or {}, now or {})}"
        if was is None:
            return f"{self.field}: {_shown(now)}"
        return f"{self.field}: {_shown(was)} -> {_shown(now) if now is not None else '(none)'}"


@dataclass(frozen=True)
class ActionChange:
    """One action of a plan, and the fields its call changes."""

    action: PlanAction
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True)
class ResourceChange:
    """One resource of a plan: what happens to it, and its actions in plan order."""

    kind: str  # recipient, share, pipeline, job
    name: str
    change: Change
    actions: tuple[ActionChange, ...]

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.change]

    @property
    def title(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def fields(self) -> tuple[FieldChange, ...]:
        """Each field its actions change, from before the first to after the last."""
        merged: dict[str, FieldChange] = {}
        for action in self.actions:
            for change in action.fields:
                first = merged.get(change.field, change)
                merged[change.field] = FieldChange(change.field, first.before, change.after)
        return tuple(f for f in merged.values() if f.before != f.after)

    def details(self) -> list[str]:
        """The lines under the resource's title: its changed fields (nothing for a destroy),
        or what a run waits for."""
        if self.change is Change.RUN:
            runs = [a.action for a in self.actions if isinstance(a.action, RunPipelineUpdate)]
            return [f"run an update until it produces {r.pipeline.target_asset}" for r in runs]
        if self.change is Change.DELETE:
            return []
        return [f.text() for f in self.fields]


def resource_changes(
    actions: Sequence[PlanAction], before: WorkspaceState
) -> tuple[ResourceChange, ...]:
    """The plan's resources in the order the plan first acts on each; `before` is the
    workspace the plan was made from (what a share held before its object batches)."""
    shares = _ShareContents(before)
    grouped: dict[tuple[str, str], list[ActionChange]] = {}
    for action in actions:
        kind = _kind(action)
        if kind is None:
            continue
        grouped.setdefault((kind, action.resource), []).append(
            ActionChange(action, tuple(_fields(action, shares)))
        )
    return tuple(
        ResourceChange(
            _LABELS.get(kind, kind), name, _change_of(a.action for a in changes), tuple(changes)
        )
        for (kind, name), changes in grouped.items()
    )


def summary(changes: Iterable[ResourceChange]) -> dict[str, int]:
    """How many resources are added, changed, destroyed (a replacement is one added and
    one destroyed, as in Terraform), and how many pipeline updates run."""
    counts = {"add": 0, "change": 0, "destroy": 0, "run": 0}
    for resource in changes:
        match resource.change:
            case Change.CREATE:
                counts["add"] += 1
            case Change.UPDATE:
                counts["change"] += 1
            case Change.DELETE:
                counts["destroy"] += 1
            case Change.REPLACE:
                counts["add"] += 1
                counts["destroy"] += 1
            case Change.RUN:
                counts["run"] += 1
    return counts


def summary_line(counts: Mapping[str, int]) -> str:
    """`Plan: 2 to add, 1 to change, 1 to destroy.` (and `, 1 to run` when any run)."""
    said = f"Plan: {counts['add']} to add, {counts['change']} to change, "
    said += f"{counts['destroy']} to destroy"
    if counts.get("run"):
        said += f", {counts['run']} to run"
    return said + "."


#: A pipeline's update is a resource change of its own, titled as its pipeline.
_LABELS = {"pipeline update": "pipeline"}


def _kind(action: PlanAction) -> str | None:
    match action:
        case CreateRecipient() | UpdateRecipient() | DeleteRecipient():
            return "recipient"
        case (
            CreateShare()
            | UpdateShareComment()
            | DeleteShare()
            | UpdateShareObjects()
            | UpdateShareObjectOptions()
            | UpdateShareGrants()
        ):
            return "share"
        case CreatePipeline() | UpdatePipeline() | DeletePipeline():
            return "pipeline"
        case RunPipelineUpdate():
            return "pipeline update"  # grouped apart from the pipeline's definition
        case CreateScheduleJob() | UpdateScheduleJob() | DeleteScheduleJob():
            return "job"
        case Nothing():
            return None  # only ever an undo, never in a plan
        case _:
            assert_never(action)


def _change_of(actions: Iterable[PlanAction]) -> Change:
    own = {_own_change(a) for a in actions}
    if Change.CREATE in own and Change.DELETE in own:
        return Change.REPLACE
    for change in (Change.CREATE, Change.DELETE, Change.RUN):
        if change in own:
            return change
    return Change.UPDATE


def _own_change(action: PlanAction) -> Change:
    if isinstance(action, CreateRecipient | CreateShare | CreatePipeline | CreateScheduleJob):
        return Change.CREATE
    if isinstance(action, DeleteRecipient | DeleteShare | DeletePipeline | DeleteScheduleJob):
        return Change.DELETE
    if isinstance(action, RunPipelineUpdate):
        return Change.RUN
    return Change.UPDATE


class _ShareContents:
    """Each share's object names and grantees as the plan's actions, in order, leave them."""

    def __init__(self, before: WorkspaceState) -> None:
        self._objects = {n: [o.name for o in s.objects] for n, s in before.shares.items()}
        self._grantees = {n: sorted(s.grantees) for n, s in before.shares.items()}
        self._removed: dict[str, dict[str, ShareObjectState]] = {}

    def objects(self, action: UpdateShareObjects) -> list[FieldChange]:
        """The objects' names before and after, and the options of an object the plan
        removed and adds again (a replacement: what an UPDATE cannot change)."""
        was = self._objects.get(action.resource, [])
        removed = set(action.remove_objects)
        now = [n for n in was if n not in removed]
        now += [o.name for o in action.add_objects if o.name not in now]
        self._objects[action.resource] = now
        gone = self._removed.setdefault(action.resource, {})
        gone.update({o.name: o for o in action.removed_states})
        replaced = [
            change
            for obj in action.add_objects
            if obj.name in gone
            for change in _object_fields(gone[obj.name], obj, replaced=True)
        ]
        if not replaced or was != now:
            return [FieldChange("objects", was, now), *replaced]
        return replaced

    def grants(self, action: UpdateShareGrants) -> FieldChange:
        was = self._grantees.get(action.resource, [])
        now = sorted((set(was) - set(action.remove_grantees)) | set(action.add_grantees))
        self._grantees[action.resource] = now
        return FieldChange("grants", was, now)


def _fields(action: PlanAction, shares: _ShareContents) -> list[FieldChange]:
    match action:
        case CreateRecipient(recipient=r) | CreateScheduleJob(job=r):
            return _compared(None, _declared(r))
        case CreatePipeline(pipeline=p):
            return _compared(None, _declared(p))
        case UpdateRecipient(recipient=now, before=was):
            return _compared(_declared(was), _declared(now))
        case DeleteRecipient(before=r) | DeleteScheduleJob(before_job=r):
            return _compared(_declared(r), None)
        case UpdatePipeline(pipeline=now, before_pipeline=was):
            return _compared(_declared(was), _declared(now))
        case UpdateScheduleJob(job=now, before_job=was):
            return _compared(_declared(was), _declared(now))
        case CreateShare(comment=comment):
            return [FieldChange("comment", None, comment)] if comment else []
        case UpdateShareComment(comment=comment, before_comment=was):
            return [FieldChange("comment", was, comment)]
        case DeleteShare(before_share=share):
            return [FieldChange("comment", share.comment, None)] if share.comment else []
        case UpdateShareObjects():
            return shares.objects(action)
        case UpdateShareObjectOptions():
            return [
                change
                for now, was in zip(action.changed_objects, action.before_objects, strict=True)
                for change in _object_fields(was, now)
            ]
        case UpdateShareGrants():
            return [shares.grants(action)]
        case DeletePipeline() | RunPipelineUpdate() | Nothing():
            return []
        case _:
            assert_never(action)


def _object_fields(
    was: ShareObjectState, now: ShareObjectState, *, replaced: bool = False
) -> list[FieldChange]:
    """`<object>.<option>: before -> after` for each option that differs (as the service
    holds it: defaults filled in); a replaced object says so on each line."""
    then, after = comparable_object(was), comparable_object(now)
    suffix = " (removed and added again)" if replaced else ""
    return [
        FieldChange(f"{now.name}.{field}{suffix}", _jsonable(before), _jsonable(value))
        for field in _OBJECT_OPTIONS
        if (before := getattr(then, field)) != (value := getattr(after, field))
    ]


#: The options of a shared object a plan shows: every field of its state but its name
#: and the alias of non-table objects (which packs do not declare).
_OBJECT_OPTIONS = tuple(
    f.name for f in fields(ShareObjectState) if f.name not in ("name", "string_shared_as")
)


def _jsonable(value: Any) -> Any:
    """An option as a JSON value: an enumeration's name; partitions as SQL writes them."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [partitions_text([p.values]) for p in value] or None
    return value


_Declared = RecipientState | PipelineState | ScheduleJobState


def _declared(value: _Declared) -> dict[str, Any]:
    """The fields a client sets, as JSON values, without the name (it titles the resource)
    and the ids the workspace gives."""
    if isinstance(value, PipelineState):
        value = comparable_pipeline(value)
    elif isinstance(value, ScheduleJobState):
        value = comparable_job(value)
    skipped = {"name", "pipeline_id", "job_id", "created_by", "runs_sharepack_notebook"}
    declared = {f.name: _json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, RecipientState):
        declared["properties"] = dict(value.properties)  # key, value pairs
    return {name: v for name, v in declared.items() if name not in skipped}


def _compared(was: dict[str, Any] | None, now: dict[str, Any] | None) -> list[FieldChange]:
    """The fields that differ; for a create or a destroy, those with a value."""
    names = dict.fromkeys([*(was or {}), *(now or {})])
    found: list[FieldChange] = []
    for name in names:
        before = was.get(name) if was is not None else None
        after = now.get(name) if now is not None else None
        if was is None or now is None:  # an empty value is no value
            before, after = _or_none(before), _or_none(after)
        if before != after:
            found.append(FieldChange(name, before, after))
    return found


def _or_none(value: Any) -> Any:
    return None if value in ("", [], {}) else value


def _json(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _elements(field: str, was: list[Any], now: list[Any]) -> str:
    added = [f"+{x}" for x in now if x not in was]
    removed = [f"-{x}" for x in was if x not in now]
    listed = [*added, *removed]
    if len(listed) > SHOWN_ELEMENTS:
        listed = [*listed[:SHOWN_ELEMENTS], f"... and {len(listed) - SHOWN_ELEMENTS} more"]
    said = " ".join(listed)
    if field == "allowed_ips" and was and not now:
        return f"{_IPS_GONE}: {said}"
    return said


def _keys(was: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    parts = [f"-{k}={was[k]}" for k in was if k not in now or now[k] != was[k]]
    parts = [f"+{k}={now[k]}" for k in now if k not in was or was[k] != now[k]] + parts
    return " ".join(parts)
