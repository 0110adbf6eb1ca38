"""The `inventory` job: the catalogs, schemas and tables packs use, as the workspaces
have them, kept in `databricks_objects` (SCD2).

The objects are those the current shares hold (`share_assets`) and the current
pipelines read and write (`source_table`, `target_table`), with the catalog and schema
of each. Each workspace is read outside any transaction, then written in one: an object
new to the table gets version 1, one whose type or owner changed its next version, one
that no longer exists (or that no pack uses any more) a deleted version, one that comes
back a live version again, one that is unchanged nothing. An object is known by a uuid5
of its workspace's own id, its kind (catalog, schema, table) and its lower-cased name,
so two URLs of one workspace make one object and a run finds it again without a lookup.

A workspace that cannot be read is skipped (its objects keep their versions) and named in
the `SyncJobError` the run ends with, after the other workspaces are written.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sharepack.errors import SharePackError, SyncJobError
from sharepack.runtime import Runtime
from sharepack.store.dialect import lock_key
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.state import CatalogObjectState

NAME = "inventory"
#: The namespace of `databricks_objects.object_id` (a uuid5 of workspace, kind, name).
OBJECT_NAMESPACE = uuid.UUID("5b0f3c1e-7a52-4a36-9a55-2f0e64f6d9a1")
_KINDS = ("CATALOG", "SCHEMA", "TABLE")
_BY = "sync:inventory"


def object_id(workspace_id: str, full_name: str) -> uuid.UUID:
    """The stable id of a catalog, schema or table (by its number of name parts)."""
    name = full_name.lower()
    return uuid.uuid5(OBJECT_NAMESPACE, f"{workspace_id}|{_KINDS[name.count('.')]}|{name}")


def with_parents(names: Iterable[str]) -> set[str]:
    """The names, each with its catalog and schema; names of more than three parts are
    left out (no pack names one)."""
    found: set[str] = set()
    for name in names:
        parts = name.strip().lower().split(".")
        if len(parts) > 3 or not all(parts):
            continue
        found.update(".".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return found


@dataclass
class _Workspace:
    """One workspace (by its own id), the URLs packs name it by and the objects they use."""

    workspace: Workspace
    urls: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)


def run_inventory(runtime: Runtime) -> int:
    """Bring `databricks_objects` to what the workspaces hold of the objects packs use;
    how many objects were read."""
    failures: list[str] = []
    workspaces: dict[str, _Workspace] = {}
    for url, names in sorted(_used_objects(runtime).items()):
        try:
            workspace = runtime.workspace_for(url)
            held = workspaces.setdefault(workspace.workspace_id, _Workspace(workspace))
        except SharePackError as exc:
            failures.append(f"{url}: {exc.message}")
            continue
        held.urls.add(url)
        held.names.update(names)
    processed = 0
    for workspace_id, held in sorted(workspaces.items()):
        try:
            found = held.workspace.read_catalog_objects(sorted(held.names))
        except SharePackError as exc:
            failures.append(f"{min(held.urls)}: {exc.message}")
            continue
        _write(runtime, workspace_id, held, found)
        processed += len(held.names)
    if failures:
        raise SyncJobError(
            f"The inventory could not read {len(failures)} workspace(s): " + "; ".join(failures)
        )
    return processed


def _used_objects(runtime: Runtime) -> dict[str, set[str]]:
    """By workspace URL: the objects the current shares and pipelines name, with their
    catalogs and schemas."""
    named: dict[str, set[str]] = defaultdict(set)
    with runtime.database.reading() as uow:
        for share in uow.shares.live():
            named[share.workspace_url].update(share.fields.get("share_assets") or ())
        for pipeline in uow.pipelines.live():
            tables = (pipeline.fields.get("source_table"), pipeline.fields.get("target_table"))
            named[pipeline.workspace_url].update(t for t in tables if t)
        # Objects recorded before and no longer named: read again, so their end is recorded.
        for recorded in uow.databricks_objects.list_current():
            named.setdefault(recorded.values["workspace_url"], set())
    return {url: with_parents(names) for url, names in named.items()}


def _write(
    runtime: Runtime,
    workspace_id: str,
    held: _Workspace,
    found: Mapping[str, CatalogObjectState],
) -> None:
    """The workspace's versions, in one transaction; recorded under the first of its URLs."""
    url = min(held.urls)
    with runtime.database.unit_of_work() as uow:
        # Two runs at once (the schedule and `sync run`) would both add a new object.
        lock_key(uow.session, "sync_jobs", f"{NAME}:{workspace_id}")
        repository = uow.databricks_objects
        recorded = {
            v.entity_id: v
            for v in repository.current_versions()
            if v.values["workspace_url"] in held.urls
        }
        for name in sorted(held.names):
            entity_id = object_id(workspace_id, name)
            before = recorded.pop(entity_id, None)
            state = found.get(name)
            if state is None:
                if before is not None and not before.is_deleted:
                    repository.soft_delete(
                        entity_id, created_by=_BY, change_reason="Inventory: no longer exists"
                    )
                continue
            values = {
                "workspace_url": url,
                "full_name": state.full_name.lower(),
                "object_type": state.object_type,
                "owner": state.owner,
            }
            if before is None:
                repository.create(
                    entity_id=entity_id,
                    created_by=_BY,
                    change_reason="Inventory: found",
                    **values,
                )
            elif before.is_deleted:
                repository.restore(
                    entity_id, created_by=_BY, change_reason="Inventory: exists again", **values
                )
            elif changed := [k for k, v in values.items() if before.values.get(k) != v]:
                repository.update(
                    entity_id,
                    created_by=_BY,
                    change_reason=f"Inventory: changed {', '.join(changed)}",
                    **{k: values[k] for k in changed},
                )
        for gone in recorded.values():
            if not gone.is_deleted:
                repository.soft_delete(
                    gone.entity_id, created_by=_BY, change_reason="Inventory: no pack uses it"
                )
        uow.commit()
