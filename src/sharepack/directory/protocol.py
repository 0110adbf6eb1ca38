"""The `Directory` port: who the organisation's users and groups are.

Share packs name people (the requestor, pipeline notification addresses) and a role mapping
names groups; both must exist in the organisation's directory (Microsoft Entra ID, read
through Microsoft Graph) before sharepack acts on them. Checks and the scheduled sync depend
on this port only, so they run the same on `GraphDirectory` and on `MemoryDirectory`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class DirectoryUser:
    """A user account of the directory.

    `email` is the account's `mail`, or its `userPrincipalName` when it has no mailbox
    (service accounts, some guests), so that every user has an address to be known by.
    """

    object_id: str
    email: str
    display_name: str | None
    user_principal_name: str
    enabled: bool


@dataclass(frozen=True)
class DirectoryGroup:
    """A group of the directory; `members` (the emails, or UPNs, of its user members) is
    None where the members were not read (a lookup by id), a tuple where they were."""

    object_id: str
    display_name: str
    members: tuple[str, ...] | None = None


class Directory(Protocol):
    """Reads the directory. Every method raises `DirectoryUnavailableError` when the
    directory cannot answer; an answer of "no such user" is never an error."""

    def find_users(self, emails: Iterable[str]) -> dict[str, DirectoryUser | None]:
        """Each address as given -> the user whose `mail` or `userPrincipalName` it is
        (compared ignoring case, as the directory does), or None."""
        ...

    def find_groups(self, object_ids: Iterable[str]) -> dict[str, DirectoryGroup | None]:
        """Each object id as given -> its group (without members), or None."""
        ...

    def all_users(self) -> Iterator[DirectoryUser]:
        """Every user, enabled or not."""
        ...

    def all_groups(self) -> Iterator[DirectoryGroup]:
        """Every group, with its user members listed."""
        ...
