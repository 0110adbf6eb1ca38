"""`plan(config, actual) -> Plan`: what must change, as a value, with no I/O.

Under UPDATE (and NEW switched to UPDATE) resources, objects and grants the pack does not
name are left alone; only what the pack declares is created or brought in line. With
`metadata.prune`, the objects and grants of its shares it no longer lists are removed, and
the recipients and shares the project provisioned before (`PlanOptions.retired`) that it no
longer names are deleted (see `plan_retired`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sharepack.engine.actions import MAX_OBJECT_UPDATES as MAX_OBJECT_UPDATES
from sharepack.engine.actions import (
    CreateRecipient,
    PlanAction,
    UpdateRecipient,
)
from sharepack.engine.changes import FieldChange, ResourceChange, resource_changes, summary
from sharepack.engine.desired import (
    as_declared,
    desired_object,
    desired_recipient,
)
from sharepack.engine.plan_pipelines import job_name, pipeline_actions, pipeline_conflicts
from sharepack.engine.plan_retired import retire
from sharepack.engine.plan_shares import share_actions
from sharepack.engine.plan_warnings import STRATEGY, PlanWarning, access_warnings
from sharepack.engine.serialise import action_summary
from sharepack.errors import PlanError
from sharepack.packfile.models import (
    RecipientSpec,
    SharePackConfig,
    ShareSpec,
    Strategy,
)
from sharepack.workspace.state import (
    RecipientState,
    WorkspaceState,
)


@dataclass(frozen=True)
class ResourceNames:
    """The names a pack touches: what to read, snapshot and verify."""

    recipients: tuple[str, ...] = ()
    shares: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    pipelines: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()  # tables the pack's pipelines produce (also in objects)
    #: Recipients whose grants on every share (the pack's or not) are read and verified.
    recipient_grants: tuple[str, ...] = ()

    def merged(self, other: ResourceNames) -> ResourceNames:
        """Both sets of names, each once, in the order first seen."""

        def both(mine: tuple[str, ...], theirs: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(dict.fromkeys((*mine, *theirs)))

        return ResourceNames(
            recipients=both(self.recipients, other.recipients),
            shares=both(self.shares, other.shares),
            objects=both(self.objects, other.objects),
            pipelines=both(self.pipelines, other.pipelines),
            jobs=both(self.jobs, other.jobs),
            targets=both(self.targets, other.targets),
            recipient_grants=both(self.recipient_grants, other.recipient_grants),
        )


@dataclass(frozen=True)
class PlanOptions:
    fail_on_existing_with_new: bool = False
    pipeline_wait_seconds: float = 1800.0
    #: The recipients, shares and pipelines this project provisioned before. With prune
    #: under UPDATE, the recipients and shares of them the pack no longer names are
    #: deleted; pipelines only get a warning.
    retired: ResourceNames = ResourceNames()


@dataclass(frozen=True)
class Plan:
    actions: tuple[PlanAction, ...]
    strategy: Strategy
    names: ResourceNames
    #: Each warning with the field of the pack it is about.
    located_warnings: tuple[PlanWarning, ...] = field(default=())
    #: The workspace the plan was made from (what it shows as each field's "before").
    before: WorkspaceState = field(default_factory=WorkspaceState)

    @property
    def warnings(self) -> tuple[str, ...]:
        """The warnings' texts."""
        return tuple(w.message for w in self.located_warnings)

    @property
    def is_empty(self) -> bool:
        return not self.actions

    def lines(self) -> list[str]:
        return [action.describe() for action in self.actions]

    def changes(self) -> tuple[ResourceChange, ...]:
        """Each resource the plan acts on, with what happens to it (`engine.changes`)."""
        return resource_changes(self.actions, self.before)

    def summary(self) -> dict[str, int]:
        """Resources to add, change and destroy, and pipeline updates to run."""
        return summary(self.changes())

    def to_dict(self) -> dict[str, Any]:
        """`sharepack plan --json`: each action with the change to its resource and the
        fields its call changes, each resource's change, and the counts."""
        changes = self.changes()
        of_action = {a.action.action_id: (r.change, a.fields) for r in changes for a in r.actions}
        actions = []
        for action in self.actions:
            change, changed = of_action.get(action.action_id, (None, ()))
            actions.append(
                {**action_summary(action), "change": change, "fields": _field_values(changed)}
            )
        return {
            "strategy": self.strategy.value,
            "warnings": list(self.warnings),
            "located_warnings": [
                {"field": w.field, "message": w.message} for w in self.located_warnings
            ],
            "actions": actions,
            "resources": [
                {
                    "kind": r.kind,
                    "name": r.name,
                    "change": r.change,
                    "fields": _field_values(r.fields),
                }
                for r in changes
            ],
            "summary": summary(changes),
        }


def _field_values(changed: tuple[FieldChange, ...]) -> dict[str, dict[str, Any]]:
    return {f.field: {"before": f.before, "after": f.after} for f in changed}


def names_of(config: SharePackConfig) -> ResourceNames:
    pipelines = [p for s in config.shares for p in s.pipelines]
    objects = {o for s in config.shares for o in s.object_names}
    objects.update(p.source_asset for p in pipelines)
    objects.update(p.target_asset for p in pipelines)
    return ResourceNames(
        recipients=tuple(r.name for r in config.recipients),
        shares=tuple(s.name for s in config.shares),
        objects=tuple(sorted(objects)),
        pipelines=tuple(p.name for p in pipelines),
        # Every pipeline's schedule job, wanted or not: one no longer on a cron loses it.
        jobs=tuple(job_name(p.name) for p in pipelines),
        targets=tuple(sorted({p.target_asset for p in pipelines})),
    )


def no_longer_named(config: SharePackConfig, retired: ResourceNames) -> ResourceNames:
    """The `retired` recipients, shares and pipelines `config` does not name, in any case."""
    named = names_of(config)

    def left(names: tuple[str, ...], kept: tuple[str, ...], *, fold: bool) -> tuple[str, ...]:
        keep = {n.lower() for n in kept}
        found = (n.lower() if fold else n for n in names if n.lower() not in keep)
        return tuple(dict.fromkeys(found))

    recipients = left(retired.recipients, named.recipients, fold=True)
    return ResourceNames(
        recipients=recipients,
        shares=left(retired.shares, named.shares, fold=True),
        # Pipeline names keep their case: Databricks does not fold them.
        pipelines=left(retired.pipelines, named.pipelines, fold=False),
        recipient_grants=recipients,
    )


def names_to_read(config: SharePackConfig, retired: ResourceNames) -> ResourceNames:
    """What to read (and hold) before planning `config` with `PlanOptions(retired=...)`:
    the pack's names and, when it prunes, the retired ones it no longer names, with the
    grants of those recipients on every share."""
    names = names_of(config)
    if not config.metadata.prune:
        return names
    return names.merged(no_longer_named(config, retired))


def plan(
    config: SharePackConfig, actual: WorkspaceState, options: PlanOptions | None = None
) -> Plan:
    """The ordered actions that bring the workspace to what `config` declares."""
    options = options or PlanOptions()
    strategy, warnings = _effective_strategy(config, actual, options)
    _preflight(config, actual)
    warnings.extend(access_warnings(config, actual))
    actions: list[PlanAction] = []
    created_recipients: dict[str, str] = {}
    for spec in config.recipients:
        existing = actual.recipients.get(spec.name)
        action = _recipient_action(desired_recipient(spec, existing), existing, spec)
        if action is not None:
            actions.append(action)
            created_recipients[spec.name] = action.action_id
    # Pipelines first: a table one share's pipeline produces may be listed by another share.
    producers: dict[str, str] = {}
    for share in config.shares:
        produced, produced_by = pipeline_actions(share, actual, options.pipeline_wait_seconds)
        actions.extend(produced)
        producers.update(produced_by)
    prune = config.metadata.prune and strategy is Strategy.UPDATE
    for share in config.shares:
        actions.extend(share_actions(share, actual, created_recipients, producers, prune))
    names = names_of(config)
    if prune:
        gone = no_longer_named(config, options.retired)
        retirement = retire(
            actual,
            recipients=gone.recipients,
            shares=gone.shares,
            pipelines=gone.pipelines,
            planned=actions,
            pack_shares={s.name: frozenset(s.recipients) for s in config.shares},
        )
        actions.extend(retirement.actions)
        warnings.extend(retirement.warnings)
        touched = ResourceNames(
            recipients=retirement.recipients,
            shares=retirement.shares,
            recipient_grants=retirement.recipients,
        )
        names = names.merged(touched)
    return Plan(tuple(actions), strategy, names, tuple(warnings), actual)


def _effective_strategy(
    config: SharePackConfig, actual: WorkspaceState, options: PlanOptions
) -> tuple[Strategy, list[PlanWarning]]:
    strategy = config.metadata.strategy
    existing = _existing_resources(config, actual)
    if strategy is not Strategy.NEW or not any(existing.values()):
        return strategy, []
    found = f"{_counted(existing)} already exist"
    if options.fail_on_existing_with_new:
        each = " ".join(
            f"{kind} '{name}' already exists." for kind, names in existing.items() for name in names
        )
        raise PlanError(f"Strategy NEW, but {found}. Use strategy UPDATE to change them. {each}")
    switched = (
        f"Auto-switched from NEW to UPDATE: {found}. "
        "Existing resources will be updated, new ones will be created."
    )
    return Strategy.UPDATE, [PlanWarning(switched, STRATEGY)]


def _existing_resources(config: SharePackConfig, actual: WorkspaceState) -> dict[str, list[str]]:
    """The pack's resources that already exist, by kind, in the pack's order."""
    names = names_of(config)
    return {
        "Recipient": [n for n in names.recipients if n in actual.recipients],
        "Share": [n for n in names.shares if n in actual.shares],
        "Pipeline": [n for n in names.pipelines if n in actual.pipelines],
        "Job": [n for n in names.jobs if n in actual.jobs],
    }


def _counted(existing: dict[str, list[str]]) -> str:
    """'1 recipient(s) and 1 share(s)' (seed 002's words), with pipelines and jobs when any."""
    counts = [
        f"{len(names)} {kind.lower()}(s)"
        for kind, names in existing.items()
        if kind in ("Recipient", "Share") or names
    ]
    return f"{', '.join(counts[:-1])} and {counts[-1]}"


def _preflight(config: SharePackConfig, actual: WorkspaceState) -> None:
    """Conflicts and missing tables, all reported at once before anything runs."""
    problems: list[str] = []
    for spec in config.recipients:
        existing = actual.recipients.get(spec.name)
        wanted = desired_recipient(spec)
        if existing is None:
            continue
        if existing.authentication_type is not wanted.authentication_type:
            problems.append(
                f"Recipient '{spec.name}' exists with {existing.authentication_type.value} "
                f"authentication; the pack declares {spec.type.value} "
                f"({wanted.authentication_type.value}). Rename it or delete the existing one."
            )
        elif existing.metastore_id != wanted.metastore_id:
            problems.append(
                f"Recipient '{spec.name}' exists for metastore '{existing.metastore_id}', "
                f"not '{wanted.metastore_id}'; a recipient's metastore cannot change."
            )
    produced = {p.target_asset for s in config.shares for p in s.pipelines}
    for share in config.shares:
        missing = [
            o for o in share.object_names if o not in actual.existing_objects and o not in produced
        ]
        for name in missing:
            problems.append(f"Share '{share.name}': '{name}' does not exist in the workspace.")
        problems.extend(_kind_conflicts(share, actual))
        for pipeline in share.pipelines:
            if pipeline.source_asset not in actual.existing_objects:
                problems.append(
                    f"Pipeline '{pipeline.name}': source '{pipeline.source_asset}' does not "
                    "exist in the workspace."
                )
            problems.extend(pipeline_conflicts(pipeline, actual))
    if problems:
        raise PlanError("Pre-flight checks failed: " + " ".join(problems))


def _kind_conflicts(share: ShareSpec, actual: WorkspaceState) -> list[str]:
    """Objects declared as a type the catalog says they are not (the service refuses them)."""
    problems = []
    kinds = actual.catalog_kinds
    for spec in share.objects:
        if spec.type is None or spec.name not in actual.existing_objects:
            continue
        found = desired_object(spec.model_copy(update={"type": None}), kinds)
        if found.data_object_type.value != spec.type.value:
            problems.append(
                f"Share '{share.name}': '{spec.name}' is declared a {spec.type.value}, but "
                f"the catalog holds a {found.data_object_type.value}."
            )
    return problems


def _recipient_action(
    wanted: RecipientState, existing: RecipientState | None, spec: RecipientSpec | None = None
) -> PlanAction | None:
    if existing is None:
        return CreateRecipient(f"create-recipient:{wanted.name}", wanted.name, recipient=wanted)
    wanted = as_declared(wanted, existing, spec)
    if existing == wanted:
        return None
    return UpdateRecipient(
        f"update-recipient:{wanted.name}", wanted.name, recipient=wanted, before=existing
    )
