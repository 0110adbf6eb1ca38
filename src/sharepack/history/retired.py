"""What a pack's project provisioned before: the names `prune` may delete once the pack no
longer names them (the engine decides; this only gathers them)."""

from __future__ import annotations

from sharepack.engine import ResourceNames
from sharepack.packfile.models import SharePackConfig
from sharepack.store import Database
from sharepack.workspace.state import WorkspaceState


def retired_names(
    database: Database,
    workspace_url: str,
    config: SharePackConfig,
    before: WorkspaceState | None = None,
) -> ResourceNames:
    """The recipients, shares and pipelines this project's packs hold in the workspace.

    A run taken over also counts what its before-state holds beyond the pack's own names:
    those are the retired resources the first attempt read, which it may have deleted (and
    so no longer holds) since. Nothing is looked up for a pack that does not prune.
    """
    if not config.metadata.prune:
        return ResourceNames()
    metadata = config.metadata
    with database.unit_of_work() as uow:
        held = uow.queries.held_by_project(
            workspace_url, metadata.business_line, metadata.project_name
        )
    recipients = {r.name for r in held.recipients}
    shares = {s.name for s in held.shares}
    if before is not None:
        recipients.update(before.recipients)
        shares.update(before.shares)
    return ResourceNames(
        recipients=tuple(sorted(recipients)),
        shares=tuple(sorted(shares)),
        pipelines=tuple(sorted(p.name for p in held.pipelines)),
    )
