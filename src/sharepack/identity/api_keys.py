"""API keys: made at random, shown once, kept only as a keyed hash.

A key reads `spk_<key id>_<secret>`: the id (12 hex characters) finds the stored row, the
secret (32 random bytes, 256 bits) is what proves possession. With that much randomness a
keyed fast hash (HMAC-SHA-256 under a pepper kept outside the database) is as strong as a
slow KDF would be and costs microseconds per request; digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sharepack.errors import AuthenticationError

PREFIX = "spk"
_SHAPE = re.compile(r"^spk_(?P<key_id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewKey:
    """A key as made: `plaintext` is shown once and never stored."""

    key_id: str
    plaintext: str
    key_hash: str


@dataclass(frozen=True)
class PresentedKey:
    key_id: str
    secret: str


def looks_like_api_key(credential: str) -> bool:
    """Whether a bearer credential has an API key's shape (else it is taken for a token)."""
    return credential.startswith(f"{PREFIX}_")


def _digest(secret: str, pepper: bytes) -> str:
    return hmac.new(pepper, secret.encode("ascii"), hashlib.sha256).hexdigest()


def make_key(pepper: bytes) -> NewKey:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(
        key_id=key_id,
        plaintext=f"{PREFIX}_{key_id}_{secret}",
        key_hash=_digest(secret, pepper),
    )


def parse_key(credential: str) -> PresentedKey:
    """The parts of a presented key; `AuthenticationError` if it is not shaped as one."""
    found = _SHAPE.match(credential.strip())
    if found is None:
        raise AuthenticationError(
            "The API key is malformed: expected spk_<12 hex characters>_<43 characters>, as "
            "`sharepack keys create` printed it"
        )
    return PresentedKey(key_id=found["key_id"], secret=found["secret"])


def matches(presented: PresentedKey, key_hash: str, pepper: bytes) -> bool:
    """Whether the presented secret hashes to `key_hash`, compared in constant time."""
    return hmac.compare_digest(_digest(presented.secret, pepper), key_hash)
