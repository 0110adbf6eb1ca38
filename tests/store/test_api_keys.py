"""API keys in the store: one active key per name, revoked but never deleted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from sharepack.errors import ApiKeyError, NotFoundError
from sharepack.store import Database
from sharepack.store.api_keys import ApiKeyRecord

CREATED = datetime(2024, 1, 30, 9, 30, tzinfo=UTC)


def key(name: str = "ci", key_id: str = "a1b2c3d4e5f6", **overrides: object) -> ApiKeyRecord:
    values: dict[str, object] = {
        "key_id": key_id,
        "name": name,
        "key_hash": "9f" * 32,
        "role": "requestor",
        "business_lines": ["Corporate Finance", "Légal"],
        "acts_for_others": False,
        "owner_email": "ana@example.com",
        "is_local_admin": False,
        "created_by": "cli:alice",
        "created_at": CREATED,
    }
    values.update(overrides)
    return ApiKeyRecord(**values)  # type: ignore[arg-type]


def add(database: Database, record: ApiKeyRecord) -> None:
    with database.unit_of_work() as uow:
        uow.api_keys.add(record)
        uow.commit()


def test_a_stored_key_reads_back_by_id_and_by_name(database: Database) -> None:
    stored = key(acts_for_others=True, owner_email=None)
    add(database, stored)

    with database.unit_of_work() as uow:
        by_id = uow.api_keys.get("a1b2c3d4e5f6")
        by_name = uow.api_keys.active_named("ci")
        unknown = uow.api_keys.get("000000000000")

    assert by_id == stored
    assert by_name == stored
    assert unknown is None
    assert by_id is not None
    assert by_id.is_active


def test_a_second_active_key_of_a_name_is_refused_naming_it(database: Database) -> None:
    add(database, key())

    with pytest.raises(ApiKeyError) as refused, database.unit_of_work() as uow:
        uow.api_keys.add(key(key_id="ffffffffffff"))

    assert refused.value.message == "An active API key named 'ci' exists; revoke it first"
    with database.unit_of_work() as uow:
        assert uow.api_keys.get("ffffffffffff") is None


def test_a_key_id_taken_by_another_name_is_refused(database: Database) -> None:
    add(database, key())

    with pytest.raises(ApiKeyError, match="id 'a1b2c3d4e5f6' exists"):
        add(database, key(name="deploy"))


def test_revoking_records_who_and_when_and_frees_the_name(database: Database) -> None:
    add(database, key())

    with database.unit_of_work() as uow:
        revoked = uow.api_keys.revoke("ci", by="cli:bob")
        uow.commit()
    add(database, key(key_id="0123456789ab", created_at=datetime(2024, 2, 1, tzinfo=UTC)))

    with database.unit_of_work() as uow:
        old = uow.api_keys.get("a1b2c3d4e5f6")
        active = uow.api_keys.active_named("ci")
    assert revoked.revoked_by == "cli:bob"
    assert revoked.revoked_at is not None
    assert revoked.revoked_at > CREATED
    assert old == revoked
    assert not old.is_active
    assert active is not None
    assert active.key_id == "0123456789ab"


def test_revoking_a_name_with_no_active_key_is_not_found(database: Database) -> None:
    add(database, key())
    with database.unit_of_work() as uow:
        uow.api_keys.revoke("ci", by="cli:bob")
        uow.commit()

    for name in ("ci", "never-made"):
        with pytest.raises(NotFoundError) as missing, database.unit_of_work() as uow:
            uow.api_keys.revoke(name, by="cli:bob")
        assert missing.value.message == f"No active API key named '{name}' to revoke"


def test_listing_is_by_name_and_shows_revoked_keys_only_when_asked(database: Database) -> None:
    add(database, key(name="deploy", key_id="d00000000000"))
    add(database, key(name="ci", key_id="c00000000001"))
    with database.unit_of_work() as uow:
        uow.api_keys.revoke("ci", by="cli:bob")
        uow.commit()
    add(
        database,
        key(name="ci", key_id="c00000000002", created_at=datetime(2024, 2, 2, tzinfo=UTC)),
    )
    add(database, key(name="backup", key_id="b00000000000"))

    with database.unit_of_work() as uow:
        active = [(k.name, k.key_id) for k in uow.api_keys.all()]
        every = [(k.name, k.key_id, k.is_active) for k in uow.api_keys.all(include_revoked=True)]

    assert active == [
        ("backup", "b00000000000"),
        ("ci", "c00000000002"),
        ("deploy", "d00000000000"),
    ]
    assert every == [
        ("backup", "b00000000000", True),
        ("ci", "c00000000001", False),
        ("ci", "c00000000002", True),
        ("deploy", "d00000000000", True),
    ]


def test_use_is_recorded_with_the_database_clock(database: Database) -> None:
    add(database, key())

    with database.unit_of_work() as uow:
        uow.api_keys.used("a1b2c3d4e5f6")
        uow.commit()
    with database.unit_of_work() as uow:
        first = uow.api_keys.get("a1b2c3d4e5f6")
        uow.api_keys.used("a1b2c3d4e5f6")
        uow.commit()
    with database.unit_of_work() as uow:
        second = uow.api_keys.get("a1b2c3d4e5f6")

    assert first is not None
    assert second is not None
    assert first.last_used_at is not None
    assert second.last_used_at is not None
    assert first.last_used_at.tzinfo is UTC
    assert CREATED < first.last_used_at <= second.last_used_at
    assert replace(second, last_used_at=None) == key()


def test_use_of_an_unknown_key_id_is_not_found(database: Database) -> None:
    with (
        pytest.raises(NotFoundError, match="No API key with id 'nope'"),
        database.unit_of_work() as uow,
    ):
        uow.api_keys.used("nope")
