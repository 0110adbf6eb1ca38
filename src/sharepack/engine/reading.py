"""Reading the workspace: the state of the resources a plan or a rollback names."""

from __future__ import annotations

from sharepack.engine.plan import ResourceNames
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.state import WorkspaceState


def read_names(workspace: Workspace, names: ResourceNames) -> WorkspaceState:
    """The workspace's state of every resource `names` lists (those missing are absent)."""
    return workspace.read_state(
        recipients=names.recipients,
        shares=names.shares,
        objects=names.objects,
        pipelines=names.pipelines,
        jobs=names.jobs,
        recipient_grants=names.recipient_grants,
    )
