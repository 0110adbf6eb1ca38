"""`sync_directory`: `users` and `ad_groups` follow the directory as SCD2 versions, and each
run leaves a `sync_jobs` row."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from sharepack.directory.graph import GraphDirectory
from sharepack.directory.memory import MemoryDirectory
from sharepack.directory.protocol import DirectoryGroup, DirectoryUser
from sharepack.directory.sync import SyncResult, sync_directory
from sharepack.errors import DirectoryUnavailableError
from sharepack.store import Database
from sharepack.store.entities import EntityVersion
from sharepack.store.tables import users
from tests.directory.graph_standin import GraphStandin, StandinGroup, StandinUser

ANA = DirectoryUser("a1", "ana.lopez@corp.example", "Ana", "ana@corp.example", True)
BEN = DirectoryUser("b2", "ben@corp.example", "Ben", "ben@corp.example", True)
CAL = DirectoryUser("c3", "cal@corp.example", "Cal", "cal@corp.example", True)
ANALYSTS = DirectoryGroup("g1", "Sales Analysts", (BEN.email, ANA.email))
OWNERS = DirectoryGroup("g2", "Sales Owners", (ANA.email,))


def _users(database: Database) -> dict[str, EntityVersion]:
    """The live users by object id."""
    with database.unit_of_work() as uow:
        return {v.values["ad_object_id"]: v for v in uow.users.list_current()}


def _groups(database: Database) -> dict[str, EntityVersion]:
    """The live groups by object id."""
    with database.unit_of_work() as uow:
        return {v.values["ad_object_id"]: v for v in uow.ad_groups.list_current()}


def _sync_jobs(database: Database) -> list[dict[str, Any]]:
    """The runs, oldest first."""
    with database.unit_of_work() as uow:
        return [entry.values for entry in reversed(uow.sync_jobs.recent())]


def test_a_first_sync_adds_everyone(database: Database) -> None:
    directory = MemoryDirectory([ANA, BEN], [ANALYSTS])

    result = sync_directory(database, directory)

    assert result == SyncResult(2, 0, 0, 1, 0, 0)
    users = _users(database)
    assert {oid: v.values for oid, v in users.items()} == {
        "a1": {
            "email": "ana.lopez@corp.example",
            "display_name": "Ana",
            "ad_object_id": "a1",
            "is_active": True,
        },
        "b2": {
            "email": "ben@corp.example",
            "display_name": "Ben",
            "ad_object_id": "b2",
            "is_active": True,
        },
    }
    assert {v.created_by for v in users.values()} == {"directory-sync"}
    (analysts,) = _groups(database).values()
    assert analysts.values == {
        "group_name": "Sales Analysts",
        "ad_object_id": "g1",
        "members": ["ana.lopez@corp.example", "ben@corp.example"],
    }
    (run,) = _sync_jobs(database)
    assert run["sync_type"] == "directory"
    assert run["sync_status"] == "SUCCEEDED"
    assert run["records_processed"] == 3
    assert run["error_message"] is None
    assert run["started_at"] <= run["finished_at"]


def test_a_later_sync_writes_only_what_changed(database: Database) -> None:
    directory = MemoryDirectory([ANA, BEN, CAL], [ANALYSTS, OWNERS])
    sync_directory(database, directory)
    directory.put_user(replace(ANA, display_name="Ana López"))
    directory.put_user(replace(BEN, enabled=False))
    directory.remove_user(CAL.object_id)
    directory.put_group(replace(ANALYSTS, members=(ANA.email,)))
    directory.remove_group(OWNERS.object_id)

    result = sync_directory(database, directory, by="nightly")

    assert result == SyncResult(0, 2, 1, 0, 1, 1)
    users, groups = _users(database), _groups(database)
    cal = _user_entity(database, "c3")
    with database.unit_of_work() as uow:
        cal_history = uow.users.history(cal)
    assert (users["a1"].version, users["a1"].values["display_name"]) == (2, "Ana López")
    assert users["a1"].change_reason == "Directory sync: changed display_name"
    assert users["a1"].created_by == "nightly"
    assert (users["b2"].version, users["b2"].values["is_active"]) == (2, False)
    assert "c3" not in users
    assert [(v.version, v.is_deleted) for v in cal_history] == [(1, False), (2, True)]
    assert cal_history[-1].change_reason == "Directory sync: no longer in the directory"
    assert (groups["g1"].version, groups["g1"].values["members"]) == (2, [ANA.email])
    assert "g2" not in groups
    assert [run["sync_status"] for run in _sync_jobs(database)] == ["SUCCEEDED", "SUCCEEDED"]


def test_a_sync_of_an_unchanged_directory_writes_no_version(database: Database) -> None:
    directory = MemoryDirectory([ANA, BEN], [ANALYSTS])
    sync_directory(database, directory)
    # The same members, listed in another order, are the same group.
    directory.put_group(replace(ANALYSTS, members=tuple(reversed(ANALYSTS.members or ()))))

    result = sync_directory(database, directory)

    assert result == SyncResult(0, 0, 0, 0, 0, 0)
    assert {v.version for v in _users(database).values()} == {1}
    assert {v.version for v in _groups(database).values()} == {1}
    assert len(_sync_jobs(database)) == 2


def test_someone_back_in_the_directory_is_the_same_entity_again(database: Database) -> None:
    directory = MemoryDirectory([ANA, BEN])
    sync_directory(database, directory)
    directory.remove_user(BEN.object_id)
    sync_directory(database, directory)
    directory.put_user(replace(BEN, display_name="Benjamin"))

    result = sync_directory(database, directory)

    assert result.users_added == 1
    ben = _users(database)["b2"]
    assert (ben.version, ben.is_deleted, ben.values["display_name"]) == (3, False, "Benjamin")
    assert ben.change_reason == "Directory sync: back in the directory"


def test_a_row_written_without_an_object_id_is_adopted_by_its_email(database: Database) -> None:
    with database.unit_of_work() as uow:
        by_hand = uow.users.create(
            created_by="admin", change_reason="Added by hand", email="BEN@corp.example"
        )
        uow.commit()

    sync_directory(database, MemoryDirectory([BEN]))

    ben = _users(database)["b2"]
    assert (ben.entity_id, ben.version) == (by_hand.entity_id, 2)
    assert ben.values["email"] == "ben@corp.example"


def test_a_failed_sync_is_recorded_and_writes_nothing(database: Database) -> None:
    directory = MemoryDirectory([ANA])
    directory.set_unavailable("Graph answered 503")

    with pytest.raises(DirectoryUnavailableError):
        sync_directory(database, directory)

    assert _users(database) == {}
    (run,) = _sync_jobs(database)
    assert run["sync_status"] == "FAILED"
    assert run["error_message"] == (
        "DirectoryUnavailableError: The directory (in memory) is unavailable: Graph answered 503"
    )
    assert run["finished_at"] is not None


def test_a_sync_from_microsoft_graph(
    database: Database, standin: GraphStandin, graph: GraphDirectory
) -> None:
    standin.page_size = 2
    standin.add_users(
        StandinUser(f"00000000-0000-4000-8000-{n:012d}", f"p{n}@corp.example") for n in range(5)
    )
    standin.add_groups(
        [StandinGroup("7c9e6679-7425-40de-944b-e07fc1f90ae7", "All", list(standin.users))]
    )

    result = sync_directory(database, graph)

    assert result == SyncResult(5, 0, 0, 1, 0, 0)
    (group,) = _groups(database).values()
    assert group.values["members"] == [f"p{n}@corp.example" for n in range(5)]


def _user_entity(database: Database, object_id: str) -> uuid.UUID:
    """The entity id of the user with `object_id`, deleted or not."""
    with database.unit_of_work() as uow:
        query = select(users.c.user_id).where(users.c.ad_object_id == object_id).limit(1)
        entity_id: uuid.UUID = uow.session.execute(query).scalar_one()
        return entity_id
