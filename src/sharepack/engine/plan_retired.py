"""Retiring what a project provisioned before and its pack no longer names (prune, UPDATE).

Each step is invertible from the before-state it records. A share is emptied first (its
grants revoked, its objects removed in batches) and then deleted with its comment
recorded; undone, it is created again and refilled. A recipient's grants on every share
granting it, the pack's or not, are revoked, then it is deleted with its state recorded;
undone, it is created again from that state and re-granted. A re-created TOKEN recipient
gets a new activation link (the old credential cannot come back), so recipients are
deleted last, once every other action is done, where a failure is least likely to
follow. Pipelines are never deleted: that would drop the tables they produce.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sharepack.engine.actions import MAX_OBJECT_UPDATES, ActionKind, PlanAction
from sharepack.workspace.state import ShareState, WorkspaceState


@dataclass(frozen=True)
class Retirement:
    actions: tuple[PlanAction, ...] = ()
    recipients: tuple[str, ...] = ()  # the retired recipients that exist: deleted
    shares: tuple[str, ...] = ()  # the retired shares that exist: deleted
    warnings: tuple[str, ...] = ()


def retire(
    actual: WorkspaceState,
    *,
    recipients: Iterable[str],
    shares: Iterable[str],
    pipelines: Iterable[str],
    planned: Sequence[PlanAction],
) -> Retirement:
    """Delete the retired `shares` and `recipients` that exist, after the `planned` actions
    of the pack; warn about the retired `pipelines` that exist."""
    gone_shares = tuple(s for s in shares if s in actual.shares)
    gone_recipients = tuple(r for r in recipients if r in actual.recipients)
    actions: list[PlanAction] = []
    for name in gone_shares:
        actions += _share_deletion(name, actual.shares[name])
    actions += _revocations(gone_recipients, actual, [*planned, *actions], set(gone_shares))
    everything_else = tuple(a.action_id for a in (*planned, *actions))
    actions += [
        PlanAction(
            f"delete-recipient:{name}",
            ActionKind.DELETE_RECIPIENT,
            name,
            depends_on=everything_else,
            before=actual.recipients[name],
        )
        for name in gone_recipients
    ]
    warnings = tuple(
        f"Pipeline '{name}' is no longer in the pack; sharepack does not delete pipelines "
        "(that would drop the tables they produce): delete it by hand if it is no longer needed."
        for name in pipelines
        if name in actual.pipelines
    )
    return Retirement(tuple(actions), gone_recipients, gone_shares, warnings)


def _share_deletion(name: str, share: ShareState) -> list[PlanAction]:
    """Revoke every grant, remove every object (at most 100 a call), delete the empty share."""
    actions: list[PlanAction] = []
    after: tuple[str, ...] = ()
    if share.grantees:
        revoke = PlanAction(
            f"retire-share-grants:{name}",
            ActionKind.UPDATE_SHARE_GRANTS,
            name,
            remove_grantees=tuple(sorted(share.grantees)),
        )
        actions.append(revoke)
        after = (revoke.action_id,)
    for number, start in enumerate(range(0, len(share.objects), MAX_OBJECT_UPDATES), start=1):
        chunk = share.objects[start : start + MAX_OBJECT_UPDATES]
        batch = PlanAction(
            f"retire-share-objects:{name}:{number}",
            ActionKind.UPDATE_SHARE_OBJECTS,
            name,
            depends_on=after,
            remove_objects=tuple(o.name for o in chunk),
            removed_states=chunk,
        )
        actions.append(batch)
        after = (batch.action_id,)
    actions.append(
        PlanAction(
            f"delete-share:{name}",
            ActionKind.DELETE_SHARE,
            name,
            depends_on=after,
            before_share=ShareState(name=name, comment=share.comment),
        )
    )
    return actions


def _revocations(
    recipients: Sequence[str],
    actual: WorkspaceState,
    earlier: Sequence[PlanAction],
    deleted_shares: set[str],
) -> list[PlanAction]:
    """One revocation per share still granting a retired recipient after `earlier` (the
    pack's prune revokes them on its own shares; a deleted share revokes everyone)."""
    revoked = {
        (a.resource, grantee)
        for a in earlier
        if a.kind is ActionKind.UPDATE_SHARE_GRANTS
        for grantee in a.remove_grantees
    }
    by_share: dict[str, list[str]] = {}
    for recipient in recipients:
        for share in sorted(actual.recipient_grants.get(recipient, ())):
            if share not in deleted_shares and (share, recipient) not in revoked:
                by_share.setdefault(share, []).append(recipient)
    return [
        PlanAction(
            f"retire-grants:{share}",
            ActionKind.UPDATE_SHARE_GRANTS,
            share,
            # After any change the pack itself makes to the share's grants.
            depends_on=tuple(
                a.action_id
                for a in earlier
                if a.resource == share and a.kind is ActionKind.UPDATE_SHARE_GRANTS
            ),
            remove_grantees=tuple(names),
        )
        for share, names in sorted(by_share.items())
    ]
