"""The history of a rolled-back run, told as it happened.

The versions a run wrote as its actions finished stay in the history (the grants did
exist for a while); after the rollback each record the run wrote gets one more version,
with `change_reason` 'Rollback: ...': a deleted version if the run created the record, or
the version before the run back if an earlier pack had recorded it. A record whose
changes the rollback could not undo keeps the run's version: that is what exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sharepack.engine.actions import RECIPIENT_ACTIONS, SHARE_ACTIONS
from sharepack.engine.journal import ActionStatus, JournalEntry
from sharepack.engine.plan import ResourceNames
from sharepack.engine.plan_pipelines import JOB_SUFFIX
from sharepack.history.provisioned import recipient_state_fields, share_state_fields
from sharepack.store import SharePackRecord, UnitOfWork
from sharepack.store.resources import ResourceRepository
from sharepack.workspace.state import RecipientState, ShareState, WorkspaceState

#: Journal statuses of actions whose effect is (or may be) in the workspace after a rollback.
_STILL_IN_EFFECT = frozenset(
    {ActionStatus.DONE, ActionStatus.COMPENSATION_FAILED, ActionStatus.PENDING, ActionStatus.KEPT}
)


def still_in_effect(entries: Iterable[JournalEntry]) -> frozenset[str]:
    """`recipient:NAME`, `share:NAME` and `pipeline:NAME` of the records with an action
    the rollback did not undo."""
    kept: set[str] = set()
    for entry in entries:
        if entry.status not in _STILL_IN_EFFECT:
            continue
        action, name = entry.action, entry.action.resource
        if isinstance(action, RECIPIENT_ACTIONS):
            kept.add(f"recipient:{name}")
        elif isinstance(action, SHARE_ACTIONS):
            kept.add(f"share:{name}")
        else:
            kept.add(f"pipeline:{name.removesuffix(JOB_SUFFIX)}")
    return frozenset(kept)


def record_rollback(
    uow: UnitOfWork,
    pack: SharePackRecord,
    names: ResourceNames,
    before: WorkspaceState,
    *,
    kept: frozenset[str],
    created_by: str,
    reason: str,
    after: WorkspaceState | None = None,
) -> None:
    """After the rollback: a `reason` version of every record this pack wrote, but those
    in `kept` (see `still_in_effect`) that still exist. `before` is the workspace before
    the run: what was absent from it the run created; `after` the workspace read after
    the rollback: a record whose resource it no longer holds is deleted in the history."""
    for repository, kind, resource_names, existed, now in (
        (
            uow.recipients,
            "recipient",
            names.recipients,
            before.recipients,
            _of(after, "recipients"),
        ),
        (uow.shares, "share", names.shares, before.shares, _of(after, "shares")),
        (uow.pipelines, "pipeline", names.pipelines, before.pipelines, _of(after, "pipelines")),
    ):
        for name in resource_names:
            gone = now is not None and name not in now
            if gone or f"{kind}:{name}" not in kept:
                held = None if now is None or gone else _fields_of(now[name])
                _undo_version(
                    repository,
                    pack,
                    name,
                    name in existed and not gone,
                    held,
                    created_by,
                    reason[:500],
                )


def _of(state: WorkspaceState | None, collection: str) -> Mapping[str, Any] | None:
    return None if state is None else getattr(state, collection)


def _fields_of(resource: Any) -> dict[str, Any] | None:
    """A record's fields as the workspace holds the resource (recipients and shares)."""
    if isinstance(resource, RecipientState):
        return recipient_state_fields(resource)
    if isinstance(resource, ShareState):
        return share_state_fields(resource)
    return None


def _undo_version(
    repository: ResourceRepository,
    pack: SharePackRecord,
    name: str,
    existed: bool,
    held: dict[str, Any] | None,
    created_by: str,
    reason: str,
) -> None:
    """`held`: the record's fields as the workspace holds it after the rollback, used for
    a resource that existed before the run but that no pack had recorded."""
    history = repository.history(pack.workspace_url, name)
    ours = [i for i, version in enumerate(history) if version.share_pack_id == pack.share_pack_id]
    last = history[-1] if history else None
    if not ours or last is None or last.share_pack_id != pack.share_pack_id:
        return  # never written by this run, or already settled
    if last.is_deleted and not existed:
        return  # created by the run and already deleted again
    previous = history[ours[0] - 1] if ours[0] > 0 else None
    restored: tuple[uuid.UUID | None, dict[str, Any]] | None = None
    if existed and previous is None and held is not None:
        # There before the run, never recorded by a pack: recorded as it is again.
        restored = (None, held)
    elif existed and previous is not None and not previous.is_deleted:
        # The pack that wrote the version restored (None for one no pack wrote: seed data).
        restored = (previous.share_pack_id, previous.fields)
    if restored is None:
        # Created by the run (a live earlier version the workspace no longer held was
        # drift), or never recorded before it: sharepack's record of it ends here.
        repository.soft_delete(
            workspace_url=pack.workspace_url,
            workspace_id=pack.workspace_id,
            name=name,
            created_by=created_by,
            change_reason=reason,
        )
        return
    share_pack_id, fields = restored
    repository.upsert(
        workspace_url=pack.workspace_url,
        workspace_id=pack.workspace_id,
        name=name,
        share_pack_id=share_pack_id,
        created_by=created_by,
        change_reason=reason,
        **fields,
    )
