"""Typed errors of the Databricks side, mapped once from the SDK's exceptions."""

from __future__ import annotations

from sharepack.errors import SharePackError


class WorkspaceError(SharePackError):
    """The Databricks workspace rejected the request."""


class ResourceAlreadyExistsError(WorkspaceError):
    """The resource already exists in the workspace."""


class ResourceNotFoundError(WorkspaceError):
    """The resource does not exist in the workspace."""


class InvalidRequestError(WorkspaceError):
    """The workspace rejected a parameter of the request."""


class WorkspacePermissionError(WorkspaceError):
    """The workspace denied the request."""


class WorkspaceUnavailableError(WorkspaceError):
    """The workspace could not be reached or answered with a server error."""


class InvalidWorkspaceUrlError(WorkspaceError):
    """The workspace URL is not an http(s) URL with a host."""


class WorkspaceCredentialsMissingError(WorkspaceError):
    """No credentials for the workspace are configured."""


class WorkspaceAuthenticationError(WorkspacePermissionError):
    """The workspace refused the credentials sharepack sent."""


class WorkspaceUnreachableError(WorkspaceUnavailableError):
    """The workspace's host did not answer."""
