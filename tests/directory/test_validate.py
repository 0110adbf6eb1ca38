"""`check_directory`: each name the directory does not confirm is a problem at its place."""

from __future__ import annotations

import pytest

from sharepack.directory.memory import MemoryDirectory
from sharepack.directory.protocol import DirectoryGroup, DirectoryUser
from sharepack.directory.validate import DirectoryProblem, check_directory
from sharepack.errors import DirectoryUnavailableError

ANALYSTS = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
OWNERS = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"


@pytest.fixture
def directory() -> MemoryDirectory:
    return MemoryDirectory(
        users=[
            DirectoryUser("u1", "ana.lopez@corp.example", "Ana", "ana@corp.example", True),
            DirectoryUser("u2", "ben@corp.example", "Ben", "ben@corp.example", False),
        ],
        groups=[DirectoryGroup(ANALYSTS, "Sales Analysts", ("ana.lopez@corp.example",))],
    )


def test_known_enabled_users_and_groups_pass(directory: MemoryDirectory) -> None:
    problems = check_directory(
        {
            "metadata.requestor": "Ana.Lopez@corp.example",
            "pipelines[0].notification[0]": "ana@corp.example",
        },
        {"roles.admin[0]": ANALYSTS},
        directory,
    )

    assert problems == []


def test_each_unknown_or_disabled_name_is_a_problem_at_its_place(
    directory: MemoryDirectory,
) -> None:
    problems = check_directory(
        {
            "metadata.requestor": "ana@corp.example",
            "pipelines[0].notification[0]": "nobody@corp.example",
            "pipelines[0].notification[1]": "ben@corp.example",
            "pipelines[2].notification[0]": "nobody@corp.example",
        },
        {"roles.admin[0]": OWNERS, "roles.reader[1]": ANALYSTS},
        directory,
    )

    assert problems == [
        DirectoryProblem(
            "pipelines[0].notification[0]",
            "'nobody@corp.example' is not a user of the directory (Microsoft Graph)",
        ),
        DirectoryProblem(
            "pipelines[0].notification[1]",
            "'ben@corp.example' is a disabled account in the directory (Microsoft Graph)",
        ),
        DirectoryProblem(
            "pipelines[2].notification[0]",
            "'nobody@corp.example' is not a user of the directory (Microsoft Graph)",
        ),
        DirectoryProblem(
            "roles.admin[0]", f"'{OWNERS}' is not a group of the directory (Microsoft Graph)"
        ),
    ]


def test_nothing_passes_when_the_directory_cannot_answer(directory: MemoryDirectory) -> None:
    directory.set_unavailable("Graph is down")

    with pytest.raises(DirectoryUnavailableError, match="Graph is down"):
        check_directory({"metadata.requestor": "ana@corp.example"}, {}, directory)


def test_nothing_to_check_asks_nothing(directory: MemoryDirectory) -> None:
    directory.set_unavailable("Graph is down")

    assert check_directory({}, {}, directory) == []
