"""The bearer tokens of the in-memory workspace's TOKEN recipients, rotated as the
emulator and the API's documentation say: the new token first, the earlier ones expiring
at most `existing_token_expire_in_seconds` from now (0: gone at once), never later than
they already would, and at most `MAX_ACTIVE_TOKENS` alive at once."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass

from sharepack.workspace.errors import InvalidRequestError
from sharepack.workspace.sdk_tokens import rotating
from sharepack.workspace.state import RotatedToken

#: As the emulator (`databricks_emulator.recipients.MAX_ACTIVE_TOKENS`).
MAX_ACTIVE_TOKENS = 2


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class HeldToken:
    token_id: str
    activation_url: str
    created_at: int
    expiration_time: int | None = None  # epoch milliseconds; None: never

    def alive(self, now: int) -> bool:
        return self.expiration_time is None or self.expiration_time > now


def new_token(url: str, expiration_time: int | None) -> HeldToken:
    """A token with an activation link of the workspace at `url`, as a workspace renders it."""
    link = f"{url.rstrip('/')}/delta_sharing/retrieve_config.html?{secrets.token_urlsafe(24)}"
    return HeldToken(str(uuid.uuid4()), link, now_ms(), expiration_time)


def rotate(
    name: str,
    tokens: list[HeldToken],
    url: str,
    recipient_expiration: int | None,
    expire_in_seconds: int,
) -> tuple[list[HeldToken], RotatedToken]:
    """The recipient's tokens after the rotation, and the new one as answered."""
    now = now_ms()
    alive = [t for t in tokens if t.alive(now)]
    if len(alive) >= MAX_ACTIVE_TOKENS:
        # The emulator's words (tests/emulator/test_real_messages.py gives their source).
        raise InvalidRequestError(
            f"{rotating(name)}: There are already two activated tokens for recipient '{name}'."
        )
    kept: list[HeldToken] = []
    if expire_in_seconds > 0:
        expires = now + expire_in_seconds * 1000
        for token in alive:
            current = token.expiration_time
            token.expiration_time = expires if current is None else min(current, expires)
            kept.append(token)
    token = new_token(url, recipient_expiration)
    expiries = [t.expiration_time for t in kept if t.expiration_time is not None]
    rotated = RotatedToken(
        recipient=name,
        token_id=token.token_id,
        activation_url=token.activation_url,
        expiration_time=token.expiration_time,
        existing_tokens_expire_at=max(expiries, default=None),
    )
    return [token, *kept], rotated
