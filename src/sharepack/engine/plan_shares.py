"""What a share of the pack needs: itself, its comment, its objects with their options, and
its grants.

An object the share lacks is added; one whose options differ is changed in place when an
UPDATE can change them (comment, history sharing, change data feed, partitions), else
removed and added again (an alias, a start version, a type, or partitions taken away),
the removal in one call and the addition in a later one, since a call may name an object
once. At most 100 object updates go in one call.
"""

from __future__ import annotations

from dataclasses import replace

from sharepack.engine.actions import (
    MAX_OBJECT_UPDATES,
    CreateShare,
    PlanAction,
    UpdateShareComment,
    UpdateShareGrants,
    UpdateShareObjectOptions,
    UpdateShareObjects,
)
from sharepack.engine.desired import (
    ObjectChange,
    comparable_object,
    desired_comment,
    desired_object,
    object_change,
)
from sharepack.packfile.models import DataObjectSpec, ShareSpec
from sharepack.workspace.state import ShareObjectState, WorkspaceState


def share_actions(
    share: ShareSpec,
    actual: WorkspaceState,
    recipient_actions: dict[str, str],
    producers: dict[str, str],
    prune: bool,
) -> list[PlanAction]:
    name, existing = share.name, actual.shares.get(share.name)
    comment = desired_comment(share.comment, existing.comment if existing else None)
    actions: list[PlanAction] = []
    after: tuple[str, ...] = ()
    if existing is None:
        create = CreateShare(f"create-share:{name}", name, comment=comment)
        actions.append(create)
        after = (create.action_id,)
    elif existing.comment != comment:
        actions.append(
            UpdateShareComment(
                f"update-share-comment:{name}",
                name,
                comment=comment,
                before_comment=existing.comment,
            )
        )
    held = {o.name: o for o in existing.objects} if existing else {}
    kinds = actual.catalog_kinds
    to_add: list[ShareObjectState] = []
    changed: list[tuple[ShareObjectState, ShareObjectState]] = []
    replaced: list[tuple[ShareObjectState, ShareObjectState]] = []
    for spec in share.objects:
        current = held.get(spec.name)
        wanted = desired_object(spec, kinds, current)
        if current is None:
            to_add.append(wanted)
            continue
        wanted = _as_held(wanted, current, spec)
        match object_change(wanted, current):
            case ObjectChange.UPDATE:
                # Every option spelled out, both ways: an UPDATE leaves what it does not
                # name, so an undo that left out a default would leave the change.
                changed.append((comparable_object(wanted), comparable_object(current)))
            case ObjectChange.REPLACE:
                replaced.append((wanted, current))
    declared = set(share.object_names)
    to_remove = (
        [o for o in existing.objects if o.name not in declared] if existing and prune else []
    )
    # Tables this pack's pipelines must produce first come after their first update.
    after = (*after, *sorted({producers[o.name] for o in to_add if o.name in producers}))
    batches = _object_batches(name, to_add, [*to_remove, *(was for _, was in replaced)], after)
    if batches:
        after = (batches[-1].action_id,)
    batches += _object_batches(name, [w for w, _ in replaced], [], after, first=len(batches) + 1)
    actions.extend(batches)
    actions.extend(_option_batches(name, changed, (batches[-1].action_id,) if batches else after))
    if actions and isinstance(actions[-1], UpdateShareObjects | UpdateShareObjectOptions):
        after = (actions[-1].action_id,)
    granted = existing.grantees if existing else frozenset()
    grantees = tuple(r for r in share.recipients if r not in granted)
    revoked = tuple(sorted(granted - set(share.recipients))) if prune else ()
    if grantees or revoked:
        needs = tuple(recipient_actions[r] for r in grantees if r in recipient_actions)
        actions.append(
            UpdateShareGrants(
                f"share-grants:{name}",
                name,
                depends_on=(*after, *needs),
                add_grantees=grantees,
                remove_grantees=revoked,
            )
        )
    return actions


def _as_held(
    wanted: ShareObjectState, held: ShareObjectState, spec: DataObjectSpec
) -> ShareObjectState:
    """`wanted` with what the pack leaves out and only an addition sets kept as `held` has
    it: its alias and start version (changing them removes the object and adds it again,
    which a pack must ask for) and its type when told from the catalog (a guess the share's
    own answer settles: a pipeline's table added before it existed, say)."""
    return replace(
        wanted,
        data_object_type=held.data_object_type if spec.type is None else wanted.data_object_type,
        shared_as=held.shared_as if spec.shared_as is None else wanted.shared_as,
        start_version=held.start_version if spec.start_version is None else wanted.start_version,
    )


def _object_batches(
    name: str,
    to_add: list[ShareObjectState],
    to_remove: list[ShareObjectState],
    after: tuple[str, ...],
    *,
    first: int = 1,
) -> list[UpdateShareObjects]:
    """Additions then removals, at most 100 per call, one after the other; each object once."""
    changes: list[tuple[ShareObjectState, bool]] = [(o, True) for o in to_add]
    changes += [(o, False) for o in to_remove]
    batches: list[UpdateShareObjects] = []
    for number, start in enumerate(range(0, len(changes), MAX_OBJECT_UPDATES), start=first):
        chunk = changes[start : start + MAX_OBJECT_UPDATES]
        removed = tuple(o for o, adding in chunk if not adding)
        batch = UpdateShareObjects(
            f"share-objects:{name}:{number}",
            name,
            depends_on=after,
            add_objects=tuple(o for o, adding in chunk if adding),
            remove_objects=tuple(o.name for o in removed),
            removed_states=removed,
        )
        batches.append(batch)
        after = (batch.action_id,)
    return batches


def _option_batches(
    name: str,
    changed: list[tuple[ShareObjectState, ShareObjectState]],
    after: tuple[str, ...],
) -> list[UpdateShareObjectOptions]:
    """Objects whose options change in place, at most 100 per call, one after the other."""
    batches: list[UpdateShareObjectOptions] = []
    for number, start in enumerate(range(0, len(changed), MAX_OBJECT_UPDATES), start=1):
        chunk = changed[start : start + MAX_OBJECT_UPDATES]
        batch = UpdateShareObjectOptions(
            f"share-object-options:{name}:{number}",
            name,
            depends_on=after,
            changed_objects=tuple(wanted for wanted, _ in chunk),
            before_objects=tuple(was for _, was in chunk),
        )
        batches.append(batch)
        after = (batch.action_id,)
    return batches
