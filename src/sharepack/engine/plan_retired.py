"""Retiring what a project provisioned before and its pack no longer names (prune, UPDATE).

Each step is invertible from the before-state it records. A share is emptied first (its
grants revoked, its objects removed in batches) and then deleted with its comment
recorded; undone, it is created again and refilled. A recipient is deleted with its state
recorded (undone, it is created again from that state and re-granted) once the pack's
prune has revoked it on the pack's shares and the retired shares are gone; one that a
share of the pack still lists is still in use, and one that a share outside the project
grants is another team's partner too: both are kept, the second with a warning. A
re-created TOKEN recipient gets a new activation link (the old credential cannot come
back), so recipients are deleted last, once every other action is done, where a failure
is least likely to follow. Pipelines are never deleted: that would drop the tables they
produce.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sharepack.engine.actions import (
    MAX_OBJECT_UPDATES,
    DeleteRecipient,
    DeleteShare,
    PlanAction,
    UpdateShareGrants,
    UpdateShareObjects,
)
from sharepack.engine.plan_warnings import PRUNE, PlanWarning
from sharepack.workspace.state import ShareState, WorkspaceState


@dataclass(frozen=True)
class Retirement:
    actions: tuple[PlanAction, ...] = ()
    recipients: tuple[str, ...] = ()  # the retired recipients that exist: deleted
    shares: tuple[str, ...] = ()  # the retired shares that exist: deleted
    warnings: tuple[PlanWarning, ...] = ()  # at `metadata.prune`: the file names none of it


def retire(
    actual: WorkspaceState,
    *,
    recipients: Iterable[str],
    shares: Iterable[str],
    pipelines: Iterable[str],
    planned: Sequence[PlanAction],
    pack_shares: Mapping[str, frozenset[str]],
) -> Retirement:
    """Delete the retired `shares` and `recipients` that exist, after the `planned` actions
    of the pack (`pack_shares`: each of its shares and the recipients it lists); warn about
    the retired `pipelines` that exist and the recipients kept for another share."""
    gone_shares = tuple(s for s in shares if s in actual.shares)
    in_use = frozenset().union(*pack_shares.values())
    ours = {*pack_shares, *gone_shares}
    warnings: list[PlanWarning] = []
    gone_recipients: list[str] = []
    for name in recipients:
        if name not in actual.recipients or name in in_use:
            continue
        elsewhere = sorted(actual.recipient_grants.get(name, frozenset()) - ours)
        if elsewhere:
            kept = (
                f"Recipient '{name}' is no longer in the pack, but share(s) "
                f"{', '.join(repr(s) for s in elsewhere)} outside this project still grant it: "
                "it is kept. Remove those grants, or the recipient, by hand if it must go."
            )
            warnings.append(PlanWarning(kept, PRUNE))
        else:
            gone_recipients.append(name)
    actions: list[PlanAction] = []
    for name in gone_shares:
        actions += _share_deletion(name, actual.shares[name])
    everything_else = tuple(a.action_id for a in (*planned, *actions))
    actions += [
        DeleteRecipient(
            f"delete-recipient:{name}",
            name,
            depends_on=everything_else,
            before=actual.recipients[name],
        )
        for name in gone_recipients
    ]
    warnings += [
        PlanWarning(
            f"Pipeline '{name}' is no longer in the pack; sharepack does not delete pipelines "
            "(that would drop the tables they produce): delete it by hand if it is no longer "
            "needed.",
            PRUNE,
        )
        for name in pipelines
        if name in actual.pipelines
    ]
    return Retirement(tuple(actions), tuple(gone_recipients), gone_shares, tuple(warnings))


def _share_deletion(name: str, share: ShareState) -> list[PlanAction]:
    """Revoke every grant, remove every object (at most 100 a call), delete the empty share."""
    actions: list[PlanAction] = []
    after: tuple[str, ...] = ()
    if share.grantees:
        revoke = UpdateShareGrants(
            f"retire-share-grants:{name}",
            name,
            remove_grantees=tuple(sorted(share.grantees)),
        )
        actions.append(revoke)
        after = (revoke.action_id,)
    for number, start in enumerate(range(0, len(share.objects), MAX_OBJECT_UPDATES), start=1):
        chunk = share.objects[start : start + MAX_OBJECT_UPDATES]
        batch = UpdateShareObjects(
            f"retire-share-objects:{name}:{number}",
            name,
            depends_on=after,
            remove_objects=tuple(o.name for o in chunk),
            removed_states=chunk,
        )
        actions.append(batch)
        after = (batch.action_id,)
    actions.append(
        DeleteShare(
            f"delete-share:{name}",
            name,
            depends_on=after,
            before_share=ShareState(name=name, comment=share.comment),
        )
    )
    return actions
