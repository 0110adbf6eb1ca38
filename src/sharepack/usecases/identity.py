"""Use cases of identity: authenticate a request, and manage API keys.

A request authenticates with `Authorization: Bearer <credential>`: an API key (its shape
says so, `spk_...`) or an OIDC token from the configured identity provider. Failures are
counted per client address and audited; past the limit a client is slowed (429) before
its credential is looked at.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sharepack.errors import (
    ApiKeyError,
    AuthenticationError,
    PermissionDeniedError,
    TooManyFailuresError,
)
from sharepack.identity.api_keys import looks_like_api_key, make_key, matches, parse_key
from sharepack.identity.principal import (
    ALL_BUSINESS_LINES,
    AuthMethod,
    Caller,
    Grant,
    Principal,
    Role,
)
from sharepack.identity.throttle import FailureThrottle
from sharepack.runtime import Runtime
from sharepack.settings import Settings
from sharepack.store import UnitOfWork
from sharepack.store.api_keys import ApiKeyRecord
from sharepack.store.dialect import database_now
from sharepack.usecases.audit import Act, record, record_refusal

#: How often a key's `last_used_at` is written at most: a busy CI key must not cost a
#: database write per request.
LAST_USED_RESOLUTION_SECONDS = 60.0

LOCAL_ADMIN_KEY_NAME = "local-admin"
_NO_KEY_HASH = "0" * 64


class VerifiedIdentity(Protocol):
    @property
    def user(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def groups(self) -> tuple[str, ...]: ...


class TokenVerifier(Protocol):
    def verify(self, token: str) -> VerifiedIdentity: ...


class GroupRoles(Protocol):
    def grants_for(self, group_ids: Iterable[str]) -> tuple[Grant, ...]: ...


def api_key_pepper(settings: Settings) -> bytes:
    """The key API keys are hashed under: the setting, else a random one made once in the
    data folder (readable by its owner only), shared by every process on that folder."""
    if settings.sharepack_api_key_pepper is not None:
        return settings.sharepack_api_key_pepper.get_secret_value().encode()
    path = settings.api_key_pepper_file
    if not path.exists():
        _write_private(path, secrets.token_hex(32), exclusive=True)
    return path.read_text(encoding="ascii").strip().encode()


def _write_private(path: Path, text: str, *, exclusive: bool) -> None:
    """Write `text` to `path`, a file only its owner may read (mode 0600 from the start, so
    no moment exists when another user could read it), complete or not at all: it is
    written beside and linked (or, not `exclusive`, renamed) into place. With `exclusive`,
    a file another process put there first is kept, not overwritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(text + "\n")
        if exclusive:
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        else:
            os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


class Authenticator:
    """Turns a request's Authorization header into a `Caller`, or refuses it."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        verifier: TokenVerifier | None = None,
        roles: GroupRoles | None = None,
    ) -> None:
        settings = runtime.settings
        self._runtime = runtime
        self._verifier = verifier
        self._roles = roles
        self._pepper = api_key_pepper(settings)
        self._throttle = FailureThrottle(
            settings.sharepack_auth_max_failures, settings.sharepack_auth_failure_window_seconds
        )
        self._last_used: dict[str, float] = {}
        self._lock = threading.Lock()

    def authenticate(
        self, authorization: str | None, *, client_address: str | None, user_agent: str | None
    ) -> Caller:
        client = client_address or "unknown"
        try:
            self._throttle.check(client)
            principal = self._principal(authorization)
        except (TooManyFailuresError, AuthenticationError) as exc:
            # A slowed client's refusal does not count again: its window ages out.
            if isinstance(exc, AuthenticationError):
                self._throttle.failed(client)
            record_refusal(
                self._runtime,
                Act.AUTHENTICATE,
                exc.message,
                client_address=client_address,
                user_agent=user_agent,
            )
            raise
        return Caller(principal, client_address=client_address, user_agent=user_agent)

    def _principal(self, authorization: str | None) -> Principal:
        if not authorization:
            raise AuthenticationError(
                "Missing Authorization header: send 'Authorization: Bearer <API key or token>'"
            )
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise AuthenticationError(
                "The Authorization header must read 'Bearer <API key or token>'"
            )
        if looks_like_api_key(credential):
            return self._key_principal(credential)
        if self._verifier is None:
            raise AuthenticationError(
                "The bearer credential is not an API key (spk_...), and tokens are not "
                "accepted: no identity provider is configured (SHAREPACK_OIDC_ISSUER)"
            )
        verified = self._verifier.verify(credential)
        grants = self._roles.grants_for(verified.groups) if self._roles is not None else ()
        return Principal(
            name=verified.user,
            method=AuthMethod.OIDC,
            grants=grants,
            email=verified.email,
            groups=verified.groups,
        )

    def _key_principal(self, credential: str) -> Principal:
        database = self._runtime.database
        with database.reading() as uow:
            stored = active_key(uow, credential, self._pepper)
        if self._note_use(stored.key_id):
            with database.unit_of_work() as uow:
                uow.api_keys.used(stored.key_id)
                uow.commit()
        return key_principal(stored)

    def _note_use(self, key_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            last = self._last_used.get(key_id)
            if last is not None and now - last < LAST_USED_RESOLUTION_SECONDS:
                return False
            self._last_used[key_id] = now
            return True


def active_key(uow: UnitOfWork, credential: str, pepper: bytes) -> ApiKeyRecord:
    """The stored, unrevoked key `credential` is; `AuthenticationError` otherwise."""
    presented = parse_key(credential)
    stored = uow.api_keys.get(presented.key_id)
    # An unknown id costs the same hash as a wrong secret: timing tells neither.
    expected = stored.key_hash if stored is not None else _NO_KEY_HASH
    if not matches(presented, expected, pepper) or stored is None:
        raise AuthenticationError("The API key is not valid")
    if stored.revoked_at is not None:
        raise AuthenticationError(
            f"The API key '{stored.name}' was revoked on {stored.revoked_at.date().isoformat()}"
        )
    return stored


def key_principal(stored: ApiKeyRecord) -> Principal:
    return Principal(
        name=f"key:{stored.name}",
        method=AuthMethod.LOCAL_ADMIN_KEY if stored.is_local_admin else AuthMethod.API_KEY,
        grants=(Grant(Role(stored.role), tuple(stored.business_lines)),),
        email=stored.owner_email,
        acts_for_others=stored.acts_for_others or Role(stored.role) is Role.ADMIN,
    )


@dataclass(frozen=True)
class CreatedKey:
    """A key as made: `plaintext` is shown to its maker once and kept nowhere."""

    record: ApiKeyRecord
    plaintext: str


def create_api_key(
    runtime: Runtime,
    caller: Caller,
    *,
    name: str,
    role: Role,
    business_lines: Iterable[str],
    acts_for_others: bool = False,
    owner_email: str | None = None,
    is_local_admin: bool = False,
) -> CreatedKey:
    """Make a key (admins only); `ApiKeyError` for a bad name, role or business lines."""
    if not caller.principal.is_admin:
        raise PermissionDeniedError(f"{caller.name} may not create API keys: admins only")
    lines = _key_lines(role, business_lines)
    name = _key_name(name)
    key = make_key(api_key_pepper(runtime.settings))
    with runtime.database.unit_of_work() as uow:
        stored = ApiKeyRecord(
            key_id=key.key_id,
            name=name,
            key_hash=key.key_hash,
            role=str(role),
            business_lines=list(lines),
            acts_for_others=acts_for_others,
            owner_email=owner_email,
            is_local_admin=is_local_admin,
            created_by=caller.name,
            created_at=database_now(uow.session),
            revoked_at=None,
            revoked_by=None,
            last_used_at=None,
        )
        uow.api_keys.add(stored)
        record(
            uow,
            caller,
            Act.CREATE_API_KEY,
            entity_type="api_key",
            details={
                "name": name,
                "key_id": key.key_id,
                "role": str(role),
                "business_lines": list(lines),
                "acts_for_others": acts_for_others,
            },
        )
        uow.commit()
        stored = uow.api_keys.get(key.key_id) or stored
    return CreatedKey(record=stored, plaintext=key.plaintext)


def _key_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise ApiKeyError(
            f"API key name '{name}' is not valid: give 1 to 100 characters without spaces"
        )
    return name


def _key_lines(role: Role, business_lines: Iterable[str]) -> tuple[str, ...]:
    lines = tuple(dict.fromkeys(line.strip() for line in business_lines if line.strip()))
    if role is Role.ADMIN:
        return (ALL_BUSINESS_LINES,)
    if not lines:
        raise ApiKeyError(
            f"A {role} key needs at least one --business-line (or '{ALL_BUSINESS_LINES}' for all)"
        )
    return lines


def revoke_api_key(runtime: Runtime, caller: Caller, name: str) -> ApiKeyRecord:
    if not caller.principal.is_admin:
        raise PermissionDeniedError(f"{caller.name} may not revoke API keys: admins only")
    with runtime.database.unit_of_work() as uow:
        revoked = uow.api_keys.revoke(name, by=caller.name)
        record(
            uow,
            caller,
            Act.REVOKE_API_KEY,
            entity_type="api_key",
            details={"name": name, "key_id": revoked.key_id},
        )
        uow.commit()
    return revoked


def list_api_keys(runtime: Runtime, *, include_revoked: bool = False) -> list[ApiKeyRecord]:
    with runtime.database.unit_of_work() as uow:
        return uow.api_keys.all(include_revoked=include_revoked)


def ensure_local_admin_key(runtime: Runtime, caller: Caller) -> tuple[str, bool]:
    """The embedded default's admin key: made once and kept in a file only its owner may
    read (`Settings.local_admin_key_file`); the database holds only its hash. Returns the
    key and whether it was made now. A file whose key the database does not know (a new
    database, or the key revoked) is replaced by a new key."""
    path = runtime.settings.local_admin_key_file
    pepper = api_key_pepper(runtime.settings)
    if path.exists():
        kept = path.read_text(encoding="ascii").strip()
        with contextlib.suppress(AuthenticationError), runtime.database.unit_of_work() as uow:
            active_key(uow, kept, pepper)
            return kept, False
    with runtime.database.unit_of_work() as uow:
        replaced = uow.api_keys.active_named(LOCAL_ADMIN_KEY_NAME)
    if replaced is not None:  # its file is lost, or holds another key
        revoke_api_key(runtime, caller, LOCAL_ADMIN_KEY_NAME)
    created = create_api_key(
        runtime,
        caller,
        name=LOCAL_ADMIN_KEY_NAME,
        role=Role.ADMIN,
        business_lines=(ALL_BUSINESS_LINES,),
        acts_for_others=True,
        is_local_admin=True,
    )
    _write_private(path, created.plaintext, exclusive=False)
    return created.plaintext, True
