"""Checking that the people and groups a share pack or a role mapping names exist.

The caller says what to check, by place: the requestor and pipeline notification addresses
of a pack are members of the organisation and must be enabled accounts of its directory; a
recipient's contact email belongs to a partner and is not passed here. Each problem keeps
its place (`metadata.requestor`, `pipelines[0].notification[1]`) so it is reported where
the file says it, beside the file's other problems.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sharepack.directory.protocol import Directory


@dataclass(frozen=True)
class DirectoryProblem:
    """One name the directory does not confirm: where it is, and what is wrong."""

    path: str
    message: str


def check_directory(
    users: Mapping[str, str], groups: Mapping[str, str], directory: Directory
) -> list[DirectoryProblem]:
    """The problems of `users` (path -> email) and `groups` (path -> group object id), in
    the order given, users first; no problem, an empty list.

    One lookup per kind, whatever the number of paths; `DirectoryUnavailableError` when
    the directory cannot answer (nothing is confirmed, so nothing passes).
    """
    problems: list[DirectoryProblem] = []
    if users:
        found_users = directory.find_users(users.values())
        for path, email in users.items():
            user = found_users.get(email)
            if user is None:
                problems.append(
                    DirectoryProblem(
                        path, f"'{email}' is not a user of the directory (Microsoft Graph)"
                    )
                )
            elif not user.enabled:
                problems.append(
                    DirectoryProblem(
                        path,
                        f"'{email}' is a disabled account in the directory (Microsoft Graph)",
                    )
                )
    if groups:
        found_groups = directory.find_groups(groups.values())
        for path, object_id in groups.items():
            if found_groups.get(object_id) is None:
                problems.append(
                    DirectoryProblem(
                        path, f"'{object_id}' is not a group of the directory (Microsoft Graph)"
                    )
                )
    return problems
