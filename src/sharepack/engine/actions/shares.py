"""Actions on a share: itself, its comment, its objects and its grants."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sharepack.engine.actions.base import Action, ActionKind, Reads
from sharepack.workspace.state import (
    HistoryDataSharingStatus,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)


@dataclass(frozen=True)
class _ShareAction(Action):
    def reads(self) -> Reads:
        return {"shares": [self.resource]}

    def _share(self, state: WorkspaceState) -> ShareState | None:
        return state.shares.get(self.resource)


@dataclass(frozen=True)
class CreateShare(_ShareAction):
    """Create the share, empty, with `comment`."""

    kind: Literal[ActionKind.CREATE_SHARE] = field(default=ActionKind.CREATE_SHARE, init=False)
    comment: str

    def inverse(self) -> DeleteShare:
        empty = ShareState(self.resource, self.comment)
        return DeleteShare(self.undo_id, self.resource, before_share=empty)

    def took_effect(self, state: WorkspaceState) -> bool:
        share = self._share(state)
        return share is not None and share.comment == self.comment


@dataclass(frozen=True)
class UpdateShareComment(_ShareAction):
    """Set the share's comment to `comment`; it was `before_comment`."""

    kind: Literal[ActionKind.UPDATE_SHARE_COMMENT] = field(
        default=ActionKind.UPDATE_SHARE_COMMENT, init=False
    )
    comment: str
    before_comment: str

    def inverse(self) -> UpdateShareComment:
        return UpdateShareComment(
            self.undo_id, self.resource, comment=self.before_comment, before_comment=self.comment
        )

    def took_effect(self, state: WorkspaceState) -> bool:
        share = self._share(state)
        return share is not None and share.comment == self.comment


@dataclass(frozen=True)
class DeleteShare(_ShareAction):
    """Delete the share, which was `before_share` (emptied first: its comment is what is
    left to restore)."""

    kind: Literal[ActionKind.DELETE_SHARE] = field(default=ActionKind.DELETE_SHARE, init=False)
    before_share: ShareState

    def inverse(self) -> CreateShare:
        return CreateShare(self.undo_id, self.resource, comment=self.before_share.comment)

    def took_effect(self, state: WorkspaceState) -> bool:
        return self.resource not in state.shares


@dataclass(frozen=True)
class UpdateShareObjects(_ShareAction):
    """Add `add_objects` to the share and remove `remove_objects` (by name), at most
    `MAX_OBJECT_UPDATES` in all; `removed_states` are the removed ones as they were."""

    kind: Literal[ActionKind.UPDATE_SHARE_OBJECTS] = field(
        default=ActionKind.UPDATE_SHARE_OBJECTS, init=False
    )
    add_objects: tuple[ShareObjectState, ...] = ()
    remove_objects: tuple[str, ...] = ()
    removed_states: tuple[ShareObjectState, ...] = ()

    def describe(self) -> str:
        return (
            f"share {self.resource}: add {len(self.add_objects)} object(s), "
            f"remove {len(self.remove_objects)}"
        )

    def inverse(self) -> UpdateShareObjects:
        known = {o.name: o for o in self.removed_states}
        restored = tuple(known.get(n, ShareObjectState(name=n)) for n in self.remove_objects)
        return UpdateShareObjects(
            self.undo_id,
            self.resource,
            add_objects=restored,
            remove_objects=tuple(o.name for o in self.add_objects),
            removed_states=self.add_objects,
        )

    def took_effect(self, state: WorkspaceState) -> bool:
        share = self._share(state)
        if share is None:
            return False
        names = share.object_names
        added = all(o.name in names for o in self.add_objects)
        return added and not names.intersection(self.remove_objects)


@dataclass(frozen=True)
class UpdateShareObjectOptions(_ShareAction):
    """Change the options of objects the share holds (history sharing, change data feed,
    partitions, comment) to `changed_objects`; they were `before_objects`."""

    kind: Literal[ActionKind.UPDATE_SHARE_OBJECT_OPTIONS] = field(
        default=ActionKind.UPDATE_SHARE_OBJECT_OPTIONS, init=False
    )
    changed_objects: tuple[ShareObjectState, ...] = ()
    before_objects: tuple[ShareObjectState, ...] = ()

    def describe(self) -> str:
        return f"share {self.resource}: change {len(self.changed_objects)} object(s)"

    def inverse(self) -> UpdateShareObjectOptions:
        return UpdateShareObjectOptions(
            self.undo_id,
            self.resource,
            changed_objects=self.before_objects,
            before_objects=self.changed_objects,
        )

    def took_effect(self, state: WorkspaceState) -> bool:
        share = self._share(state)
        if share is None:
            return False
        held = {o.name: options_of(o) for o in share.objects}
        return all(held.get(o.name) == options_of(o) for o in self.changed_objects)


def options_of(obj: ShareObjectState) -> tuple[object, ...]:
    """What an UPDATE of a share changes on an object, as compared: its comment, history
    sharing (DISABLED unless set), change data feed (off unless set) and partitions."""
    return (
        obj.comment,
        obj.history_data_sharing_status or HistoryDataSharingStatus.DISABLED,
        bool(obj.cdf_enabled),
        obj.partitions,
    )


@dataclass(frozen=True)
class UpdateShareGrants(_ShareAction):
    """Grant the share to `add_grantees` and revoke it from `remove_grantees`."""

    kind: Literal[ActionKind.UPDATE_SHARE_GRANTS] = field(
        default=ActionKind.UPDATE_SHARE_GRANTS, init=False
    )
    add_grantees: tuple[str, ...] = ()
    remove_grantees: tuple[str, ...] = ()

    def describe(self) -> str:
        changes = [f"+{g}" for g in self.add_grantees] + [f"-{g}" for g in self.remove_grantees]
        return f"share {self.resource}: grants {' '.join(changes)}"

    def inverse(self) -> UpdateShareGrants:
        return UpdateShareGrants(
            self.undo_id,
            self.resource,
            add_grantees=self.remove_grantees,
            remove_grantees=self.add_grantees,
        )

    def took_effect(self, state: WorkspaceState) -> bool:
        share = self._share(state)
        if share is None:
            return False
        granted = share.grantees.issuperset(self.add_grantees)
        return granted and not share.grantees.intersection(self.remove_grantees)
