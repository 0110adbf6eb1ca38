"""`MemoryDirectory`: a directory held in memory, for tests and local runs without Entra ID.

It answers as `GraphDirectory` does (addresses matched on email or UPN ignoring case, a
lookup by id without members, every group listed with its members), so what passes here
passes against Graph. `set_unavailable` makes every call fail as an unreachable Graph does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace

from sharepack.directory.protocol import DirectoryGroup, DirectoryUser
from sharepack.errors import DirectoryUnavailableError


class MemoryDirectory:
    """Users and groups by object id (ids compared ignoring case, as Graph does); safe to
    use from several threads."""

    def __init__(
        self, users: Iterable[DirectoryUser] = (), groups: Iterable[DirectoryGroup] = ()
    ) -> None:
        self._lock = threading.Lock()
        self._users = {user.object_id: user for user in users}
        self._groups = {group.object_id.casefold(): group for group in groups}
        self._unavailable: str | None = None

    def put_user(self, user: DirectoryUser) -> None:
        """Add the user, or replace the one with its object id."""
        with self._lock:
            self._users[user.object_id] = user

    def remove_user(self, object_id: str) -> None:
        with self._lock:
            del self._users[object_id]

    def put_group(self, group: DirectoryGroup) -> None:
        """Add the group, or replace the one with its object id."""
        with self._lock:
            self._groups[group.object_id.casefold()] = group

    def remove_group(self, object_id: str) -> None:
        with self._lock:
            del self._groups[object_id.casefold()]

    def set_unavailable(self, reason: str | None) -> None:
        """From now on every call raises `DirectoryUnavailableError` with `reason`; None
        makes the directory answer again."""
        with self._lock:
            self._unavailable = reason

    def find_users(self, emails: Iterable[str]) -> dict[str, DirectoryUser | None]:
        with self._lock:
            self._check_available()
            known: dict[str, DirectoryUser] = {}
            for user in self._users.values():
                known.setdefault(user.user_principal_name.casefold(), user)
                known.setdefault(user.email.casefold(), user)
            return {email: known.get(email.casefold()) for email in emails}

    def find_groups(self, object_ids: Iterable[str]) -> dict[str, DirectoryGroup | None]:
        with self._lock:
            self._check_available()
            found = {oid: self._groups.get(oid.casefold()) for oid in object_ids}
            return {oid: replace(g, members=None) if g else None for oid, g in found.items()}

    def all_users(self) -> Iterator[DirectoryUser]:
        with self._lock:
            self._check_available()
            users = list(self._users.values())
        return iter(users)

    def all_groups(self) -> Iterator[DirectoryGroup]:
        with self._lock:
            self._check_available()
            groups = [replace(g, members=g.members or ()) for g in self._groups.values()]
        return iter(groups)

    def _check_available(self) -> None:
        if self._unavailable is not None:
            raise DirectoryUnavailableError(
                f"The directory (in memory) is unavailable: {self._unavailable}"
            )
