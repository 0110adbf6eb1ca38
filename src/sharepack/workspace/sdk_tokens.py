"""Rotating a TOKEN recipient's bearer token through databricks-sdk.

The answer to a rotation is the recipient with its tokens, each with its activation link
while it is not yet used. The new token is told by its id (absent before the rotation);
its link becomes a `RotatedToken` and nothing else keeps it.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence

from databricks.sdk import WorkspaceClient
from databricks.sdk.service import sharing

from sharepack.workspace.errors import InvalidRequestError, WorkspaceError
from sharepack.workspace.sdk_errors import translated_errors
from sharepack.workspace.state import AuthenticationType, RotatedToken


def rotating(name: str) -> str:
    """How an error of a rotation begins: what was being done."""
    return f"Rotating the token of recipient '{name}'"


def check_rotation(
    name: str, authentication_type: AuthenticationType, existing_token_expire_in_seconds: int
) -> None:
    """`InvalidRequestError` for a rotation no workspace makes: a negative expiry (the
    API's documentation: "negative number will return an error") or a DATABRICKS
    recipient, which authenticates with its metastore and has no bearer token."""
    what = rotating(name)
    if existing_token_expire_in_seconds < 0:
        raise InvalidRequestError(
            f"{what}: the existing tokens' expiry must be 0 seconds (expire now) or more, "
            f"not {existing_token_expire_in_seconds}"
        )
    if authentication_type is not AuthenticationType.TOKEN:
        raise InvalidRequestError(
            f"{what}: '{name}' is a Databricks-to-Databricks (D2D) recipient; it reaches "
            "its shares through its own metastore and has no bearer token to rotate"
        )


def rotate_recipient_token(
    client: WorkspaceClient, name: str, existing_token_expire_in_seconds: int
) -> RotatedToken:
    """Read the recipient (absent: `ResourceNotFoundError`; D2D: refused without a
    rotation), rotate its token, and return the new one."""
    what = rotating(name)
    with translated_errors(what):
        before = client.recipients.get(name)
    kind = before.authentication_type.value if before.authentication_type else "TOKEN"
    check_rotation(name, AuthenticationType(kind), existing_token_expire_in_seconds)
    earlier = {token.id for token in before.tokens or () if token.id}
    seconds = within_lifetimes(existing_token_expire_in_seconds, before.tokens or ())
    with translated_errors(what):
        after = client.recipients.rotate_token(name, existing_token_expire_in_seconds=seconds)
    return rotated_token(before.name or name, earlier, after.tokens or ())


def within_lifetimes(
    seconds: int, tokens: Sequence[sharing.RecipientTokenInfo], now_ms: int | None = None
) -> int:
    """`seconds`, or fewer when a token still in use expires sooner: the service refuses
    a rotation that would lengthen one ("Cannot extend the token expiration time.")."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    left = [
        (t.expiration_time - now) // 1000
        for t in tokens
        if t.expiration_time is not None and t.expiration_time > now
    ]
    return max(0, min([seconds, *left]))


def rotated_token(
    name: str, earlier: Collection[str], tokens: Sequence[sharing.RecipientTokenInfo]
) -> RotatedToken:
    """The new token among `tokens` (the one whose id is not `earlier`; the latest made
    if that does not decide) and when the earlier ones now expire."""
    new = [t for t in tokens if t.id not in earlier] or list(tokens)
    if not new:
        raise WorkspaceError(f"{rotating(name)}: the answer lists no token")
    token = max(new, key=lambda t: t.created_at or 0)
    if not token.activation_url:
        raise WorkspaceError(
            f"{rotating(name)}: the workspace rotated the token but its answer carries no "
            "activation link; read the recipient in the workspace to get it"
        )
    expiries = [t.expiration_time for t in tokens if t is not token and t.expiration_time]
    return RotatedToken(
        recipient=name,
        token_id=token.id or "",
        activation_url=token.activation_url,
        expiration_time=token.expiration_time,
        existing_tokens_expire_at=max(expiries, default=None),
    )
