"""Who an operator at the CLI is, for the audit trail.

The CLI acts with the workspace's own credentials and the database's, so it acts as an
admin; the audit trail names the OS user who ran it and, where a command reaches a
workspace, the identity its credentials belong to.
"""

from __future__ import annotations

import getpass

from sharepack.identity.principal import Caller, operator
from sharepack.workspace.errors import WorkspaceError
from sharepack.workspace.protocol import Workspace


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container's, say)
        import os

        return f"uid-{os.getuid()}"


def operator_caller(workspace: Workspace | None = None) -> Caller:
    """`cli:<OS user>`, and `(Databricks: <user>)` when a workspace is given."""
    name = f"cli:{os_user()}"
    if workspace is not None:
        try:
            name += f" (Databricks: {workspace.current_user()})"
        except WorkspaceError:
            name += " (Databricks: unknown)"
    return operator(name)
