"""The exception hierarchy shared by every part of sharepack.

Each class's docstring is its default message. This module is a leaf: every package may
import it, and it imports nothing of ours.
"""

from __future__ import annotations


class SharePackError(Exception):
    """sharepack failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (type(self).__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigurationError(SharePackError):
    """sharepack is not configured correctly."""


class WorkspaceNotAllowedError(SharePackError):
    """The workspace URL is not in the configured allow-list."""


class PlanError(SharePackError):
    """The change could not be planned."""


class StoreError(SharePackError):
    """The database operation failed."""


class NotFoundError(StoreError):
    """The record does not exist."""


class DatabaseUnavailableError(StoreError):
    """The database could not be reached."""


class SchemaNotReadyError(StoreError):
    """The database has no sharepack schema, or not the one this sharepack needs; run
    `sharepack db upgrade`."""


class QueueError(SharePackError):
    """The queue operation failed."""


class LostLeaseError(QueueError):
    """The message's lease was lost to another worker."""


class RunHandedOverError(SharePackError):
    """A run stopped in this process before it ended; a worker takes it over."""

    def __init__(self, share_pack_id: object, reason: str) -> None:
        super().__init__(
            f"Share pack {share_pack_id} stopped before it ended ({reason}); it stays "
            "IN_PROGRESS until a sharepack worker on this database takes it over from its "
            "journal and finishes or rolls it back."
        )
        self.share_pack_id = share_pack_id


class LeaseLostError(SharePackError):
    """This process's claim of the run was taken over by another; it stopped before its
    next call and wrote nothing more."""


class IdentityError(SharePackError):
    """The caller's identity could not be established or does not allow this."""


class AuthenticationError(IdentityError):
    """The request carries no credential sharepack accepts."""


class PermissionDeniedError(IdentityError):
    """The caller is not allowed to do this."""


class TooManyFailuresError(IdentityError):
    """Too many failed sign-ins from this client; wait before trying again."""

    def __init__(self, message: str | None = None, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IdentityProviderUnavailableError(IdentityError):
    """The identity provider's signing keys could not be fetched; no token is accepted
    until they can be."""


class ApiKeyError(IdentityError):
    """The API key request is not valid."""


class RoleMappingError(ConfigurationError):
    """The role mapping file is not valid."""


class DirectoryUnavailableError(SharePackError):
    """The directory (Microsoft Graph) could not be reached."""


class PackStateError(SharePackError):
    """The pack is not in a state that allows this (not awaiting approval; its run has
    started, so it can no longer be cancelled)."""


class VersionStateError(PackStateError):
    """The version cannot serve this: one recorded from the workspace has no pack to put
    back; one whose states were cleaned up cannot be compared."""


class ApprovalPolicyError(ConfigurationError):
    """The approval policy file is not valid."""


class ApprovalRefusedError(PermissionDeniedError):
    """This approval or rejection is not accepted (four eyes, not a member of a group the
    level needs, approved already, a level not yet reached)."""


class NotificationError(SharePackError):
    """A notification could not be delivered."""


class SyncJobError(SharePackError):
    """A scheduled sync job failed."""
