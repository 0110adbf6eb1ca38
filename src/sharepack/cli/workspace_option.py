"""`--workspace URL`: the one check every command that takes it makes, before anything else."""

from __future__ import annotations

from sharepack.packfile.limits import WORKSPACE_URL_CHARS
from sharepack.workspace.errors import InvalidWorkspaceUrlError
from sharepack.workspace.urls import normalise_workspace_url


def checked_workspace_url(url: str) -> str:
    """`url` in canonical form if it is an http(s) URL with a host of at most the stored
    length; otherwise `InvalidWorkspaceUrlError` naming it (exit 2)."""
    from sharepack.workspace.sdk import check_workspace_url  # loads databricks-sdk: slow

    check_workspace_url(url)
    canonical = normalise_workspace_url(url)
    if (length := len(canonical)) > WORKSPACE_URL_CHARS:
        raise InvalidWorkspaceUrlError(
            f"The workspace URL is {length} characters long; at most "
            f"{WORKSPACE_URL_CHARS} are accepted"
        )
    return canonical
