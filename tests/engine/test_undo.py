"""Field-level undo: the run's own changes go back, others' changes stay and are reported."""

from __future__ import annotations

from sharepack.engine.actions import (
    ActionKind,
    CreateRecipient,
    CreateShare,
    UpdateRecipient,
    UpdateShareObjects,
)
from sharepack.engine.undo import undo_step
from sharepack.workspace.state import (
    AuthenticationType,
    RecipientState,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)

BEFORE = RecipientState("acme", AuthenticationType.TOKEN, "old", ("10.0.0.1",))
LEFT = RecipientState("acme", AuthenticationType.TOKEN, "new", ("10.0.0.2",))
UPDATE = UpdateRecipient("a1", "acme", recipient=LEFT, before=BEFORE)


def _recipients(now: RecipientState | None) -> WorkspaceState:
    return WorkspaceState(recipients={} if now is None else {"acme": now})


def test_an_update_still_as_the_run_left_it_goes_back_whole() -> None:
    step = undo_step(UPDATE, _recipients(LEFT))

    assert step.expected == BEFORE
    (call,) = step.calls
    assert call.kind is ActionKind.UPDATE_RECIPIENT
    assert (call.recipient, call.before) == (BEFORE, LEFT)
    assert (step.kept, step.conflict) == ((), False)


def test_an_ip_someone_added_meanwhile_stays_and_is_reported() -> None:
    now = RecipientState("acme", AuthenticationType.TOKEN, "new", ("10.0.0.2", "203.0.113.7"))

    step = undo_step(UPDATE, _recipients(now))

    assert step.expected.allowed_ips == ("203.0.113.7", "10.0.0.1")
    assert step.expected.comment == "old"
    assert not step.conflict
    assert any("203.0.113.7" in note and "added by another" in note for note in step.kept)


def test_a_comment_someone_changed_after_the_run_is_kept_as_a_conflict() -> None:
    now = RecipientState("acme", AuthenticationType.TOKEN, "theirs", ("10.0.0.2",))

    step = undo_step(UPDATE, _recipients(now))

    assert step.expected.comment == "theirs"
    assert step.expected.allowed_ips == ("10.0.0.1",)
    assert step.conflict


def test_an_undo_already_in_effect_makes_no_call() -> None:
    assert undo_step(UPDATE, _recipients(BEFORE)).calls == ()
    create = CreateRecipient("a2", "acme", recipient=LEFT)
    assert undo_step(create, _recipients(None)).calls == ()


def test_objects_the_run_added_go_and_those_it_removed_come_back_beside_others() -> None:
    added = ShareObjectState("c.s.added")
    removed = ShareObjectState("c.s.removed", comment="kept comment", cdf_enabled=True)
    theirs = ShareObjectState("c.s.theirs")
    action = UpdateShareObjects(
        "a3",
        "sales",
        add_objects=(added,),
        remove_objects=(removed.name,),
        removed_states=(removed,),
    )
    now = ShareState("sales", objects=(added, theirs))

    step = undo_step(action, WorkspaceState(shares={"sales": now}))

    (call,) = step.calls
    assert isinstance(call, UpdateShareObjects)
    assert call.remove_objects == ("c.s.added",)
    assert call.add_objects == (removed,)
    assert step.expected.objects == (theirs, removed)


def test_a_created_share_someone_added_to_is_kept() -> None:
    create = CreateShare("a4", "sales", comment="ours")
    now = ShareState("sales", "ours", objects=(ShareObjectState("c.s.theirs"),))

    step = undo_step(create, WorkspaceState(shares={"sales": now}))

    assert step.calls == ()
    assert step.conflict
    assert step.expected == now
