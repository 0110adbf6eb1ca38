"""Actions on a recipient. Each records the state it replaces, so its inverse is known."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from sharepack.engine.actions.base import Action, ActionKind, Reads
from sharepack.workspace.state import RecipientState, WorkspaceState


def recipient_holds(found: RecipientState | None, wanted: RecipientState) -> bool:
    """Is `found` the recipient `wanted`? An owner left None is whoever created it."""
    if found is None:
        return False
    return found == (wanted if wanted.owner is not None else replace(wanted, owner=found.owner))


@dataclass(frozen=True)
class _RecipientAction(Action):
    def reads(self) -> Reads:
        return {"recipients": [self.resource]}


@dataclass(frozen=True)
class CreateRecipient(_RecipientAction):
    """Create `recipient` (to undo a delete: as it was)."""

    kind: Literal[ActionKind.CREATE_RECIPIENT] = field(
        default=ActionKind.CREATE_RECIPIENT, init=False
    )
    recipient: RecipientState

    def inverse(self) -> DeleteRecipient:
        return DeleteRecipient(self.undo_id, self.resource, before=self.recipient)

    def took_effect(self, state: WorkspaceState) -> bool:
        return recipient_holds(state.recipients.get(self.resource), self.recipient)


@dataclass(frozen=True)
class UpdateRecipient(_RecipientAction):
    """Make the recipient `recipient`; it was `before`."""

    kind: Literal[ActionKind.UPDATE_RECIPIENT] = field(
        default=ActionKind.UPDATE_RECIPIENT, init=False
    )
    recipient: RecipientState
    before: RecipientState

    def inverse(self) -> UpdateRecipient:
        return UpdateRecipient(
            self.undo_id, self.resource, recipient=self.before, before=self.recipient
        )

    def took_effect(self, state: WorkspaceState) -> bool:
        return recipient_holds(state.recipients.get(self.resource), self.recipient)


@dataclass(frozen=True)
class DeleteRecipient(_RecipientAction):
    """Delete the recipient, which was `before`."""

    kind: Literal[ActionKind.DELETE_RECIPIENT] = field(
        default=ActionKind.DELETE_RECIPIENT, init=False
    )
    before: RecipientState

    def inverse(self) -> CreateRecipient:
        # A TOKEN recipient comes back with a new activation link: the old one is gone.
        return CreateRecipient(self.undo_id, self.resource, recipient=self.before)

    def took_effect(self, state: WorkspaceState) -> bool:
        return self.resource not in state.recipients
