"""The API keys sharepack issued: stored by their public id, revoked but never deleted.

The store keeps what a key grants and a hash of its secret; making keys and checking a
presented one against its hash belong to `sharepack.identity`. One active key per name
is enforced by a partial unique index (`uq_api_keys_active_name`), so two processes
creating the same name at once cannot both succeed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sharepack.errors import ApiKeyError, NotFoundError
from sharepack.store.dialect import as_utc, database_now
from sharepack.store.own_tables import api_keys


@dataclass(frozen=True)
class ApiKeyRecord:
    """One issued key: what it grants, who made it, and whether it still works."""

    key_id: str
    name: str
    key_hash: str
    role: str
    business_lines: list[str]
    acts_for_others: bool
    owner_email: str | None
    is_local_admin: bool
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    last_used_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def from_row(cls, row: RowMapping) -> ApiKeyRecord:
        values: dict[str, Any] = {f.name: row[f.name] for f in fields(cls)}
        for moment in ("created_at", "revoked_at", "last_used_at"):
            if values[moment] is not None:
                values[moment] = as_utc(values[moment])
        values["business_lines"] = list(values["business_lines"])
        return cls(**values)


class ApiKeyRepository:
    """API keys by id and by name; writes go into the Unit of Work's transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, record: ApiKeyRecord) -> None:
        """Store a new key; `ApiKeyError` if an active key already has its name (or, which
        only a bug would cause, its id is taken)."""
        self._refuse_active_name(record.name)
        try:
            with self._session.begin_nested():
                self._session.execute(insert(api_keys).values(**asdict(record)))
        except IntegrityError as exc:
            # Another transaction stored the name since the check above, or the id is taken.
            self._refuse_active_name(record.name)
            raise ApiKeyError(
                f"An API key with id '{record.key_id}' exists; make a new key"
            ) from exc

    def get(self, key_id: str) -> ApiKeyRecord | None:
        """The key with this id, revoked or not; None if there is none."""
        row = self._session.execute(select(api_keys).where(api_keys.c.key_id == key_id))
        found = row.mappings().first()
        return ApiKeyRecord.from_row(found) if found is not None else None

    def active_named(self, name: str) -> ApiKeyRecord | None:
        """The unrevoked key called `name`; None if there is none."""
        query = select(api_keys).where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
        found = self._session.execute(query).mappings().first()
        return ApiKeyRecord.from_row(found) if found is not None else None

    def all(self, include_revoked: bool = False) -> list[ApiKeyRecord]:
        """The active keys by name; with `include_revoked`, every key ever issued (a name's
        keys oldest first)."""
        query = select(api_keys).order_by(api_keys.c.name, api_keys.c.created_at)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        return [ApiKeyRecord.from_row(row) for row in self._session.execute(query).mappings()]

    def revoke(self, name: str, by: str) -> ApiKeyRecord:
        """Revoke the active key called `name` as of the database's clock; `NotFoundError`
        naming the key if no active key has that name. Its name is free for a new key."""
        statement = (
            update(api_keys)
            .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=database_now(self._session), revoked_by=by)
            .returning(*api_keys.c)
        )
        row = self._session.execute(statement).mappings().first()
        if row is None:
            raise NotFoundError(f"No active API key named '{name}' to revoke")
        return ApiKeyRecord.from_row(row)

    def used(self, key_id: str) -> None:
        """Record that the key was just used (the database's clock); `NotFoundError` for
        an id no key has."""
        statement = (
            update(api_keys)
            .where(api_keys.c.key_id == key_id)
            .values(last_used_at=database_now(self._session))
        )
        if self._session.execute(statement).rowcount == 0:  # type: ignore[attr-defined]
            raise NotFoundError(f"No API key with id '{key_id}'")

    def _refuse_active_name(self, name: str) -> None:
        if self.active_named(name) is not None:
            raise ApiKeyError(f"An active API key named '{name}' exists; revoke it first")
