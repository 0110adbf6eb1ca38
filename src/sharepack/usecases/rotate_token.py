"""Use case: rotate a partner's bearer token (a TOKEN recipient's) in a workspace, now.

The new activation link is the one secret sharepack hands out: it goes back to the
caller who rotated, once, in the answer, and nowhere else: not the database, not the
audit trail, not a log line, a metric or a span. The audit row says who rotated which
recipient in which workspace and when the earlier token now expires.

Who may: an admin; or a requestor of the business line whose pack manages the recipient
(the pack that wrote its current version in the `recipients` table). A recipient no pack
manages is an admin's alone. The workspace must be allow-listed, as for an upload; that is
checked on the canonical URL before any request carries credentials.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sharepack.errors import (
    ConfigurationError,
    DatabaseUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    SharePackError,
    StoreError,
)
from sharepack.identity.principal import Caller
from sharepack.runtime import Runtime
from sharepack.usecases.audit import Act, Outcome, record, record_refusal
from sharepack.usecases.submit import check_workspace_allowed
from sharepack.workspace.errors import (
    WorkspaceAuthenticationError,
    WorkspaceCredentialsMissingError,
    WorkspaceUnavailableError,
)
from sharepack.workspace.state import RotatedToken

logger = logging.getLogger(__name__)

#: The earlier token keeps working this long by default: long enough for the partner to
#: switch to the new link without a gap, short enough that a leaked token dies soon.
DEFAULT_EXISTING_TOKEN_EXPIRE_IN_SECONDS = 3600

#: Clocks of sharepack and the workspace may differ by this much before an earlier
#: expiry than asked is put down to the workspace keeping a sooner one.
_CLOCK_SKEW_MS = 60_000


@dataclass(frozen=True)
class ManagedBy:
    """The pack that manages a recipient: its current row's id and business line."""

    recipient_id: uuid.UUID
    business_line: str | None


@dataclass(frozen=True)
class TokenRotation:
    """What a rotation did. `rotated.activation_url` is the secret: show it once."""

    workspace_url: str
    rotated: RotatedToken
    existing_token_expire_in_seconds: int
    #: The earlier tokens already expired sooner than asked, and keep that expiry: a
    #: rotation never lengthens a token (the API's documentation).
    kept_sooner_expiry: bool

    @property
    def message(self) -> str:
        """What the caller is to do with the link, and what became of the earlier token."""
        return (
            f"Recipient '{self.rotated.recipient}' has a new token. Its activation link is "
            "shown only now and sharepack keeps no copy: send it to the partner over a "
            f"secure channel. {self.existing_tokens_note}"
        )

    @property
    def existing_tokens_note(self) -> str:
        expires = self.rotated.existing_tokens_expire_at
        if expires is None:
            return "The earlier token stopped working now."
        note = f"The earlier token works until {iso_time(expires)}"
        if self.kept_sooner_expiry:
            asked = self.existing_token_expire_in_seconds
            return f"{note}, sooner than the {asked} s asked: a rotation never lengthens a token."
        return f"{note}."


def iso_time(epoch_ms: int) -> str:
    """An epoch-milliseconds time as ISO 8601 in UTC."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat()


def rotate_token(
    runtime: Runtime,
    caller: Caller,
    *,
    workspace_url: str,
    recipient: str,
    existing_token_expire_in_seconds: int = DEFAULT_EXISTING_TOKEN_EXPIRE_IN_SECONDS,
) -> TokenRotation:
    """Rotate `recipient`'s token in the workspace and put it on the audit trail.

    Raises, with nothing changed and the refusal on the audit trail:
    `InvalidWorkspaceUrlError` / `WorkspaceNotAllowedError` (the URL), `PermissionDeniedError`
    (the caller), `ResourceNotFoundError` (no such recipient), `InvalidRequestError` (a D2D
    recipient, a negative expiry, too many active tokens), other `WorkspaceError`s.
    """
    try:
        target = check_workspace_allowed(runtime, workspace_url)
        managed = managed_by(runtime, target, recipient)
        check_may_rotate(caller, recipient, managed)
        started = time.time_ns() // 1_000_000
        rotated = runtime.workspace_for(target).rotate_recipient_token(
            recipient, existing_token_expire_in_seconds
        )
    except SharePackError as refused:
        record_refused_rotation(runtime, caller, refused, recipient)
        raise
    expires = rotated.existing_tokens_expire_at
    asked = started + existing_token_expire_in_seconds * 1000
    rotation = TokenRotation(
        workspace_url=target,
        rotated=rotated,
        existing_token_expire_in_seconds=existing_token_expire_in_seconds,
        kept_sooner_expiry=expires is not None and expires < asked - _CLOCK_SKEW_MS,
    )
    _record_rotation(runtime, caller, rotation, managed)
    return rotation


def managed_by(runtime: Runtime, workspace_url: str, recipient: str) -> ManagedBy | None:
    """The pack managing `recipient` in the workspace (by its canonical URL), or None when
    no pack does: never recorded, or its current version a deletion."""
    with runtime.database.reading() as uow:
        # Unity Catalog keeps names in lower case; a pack may have spelt it otherwise.
        for name in dict.fromkeys((recipient, recipient.lower())):
            row = uow.recipients.get_current(workspace_url, name)
            if row is None or row.is_deleted:
                continue
            line = None
            if row.share_pack_id is not None:
                try:
                    line = uow.share_packs.get_current(row.share_pack_id).business_line
                except NotFoundError:
                    line = None
            return ManagedBy(row.entity_id, line)
    return None


def check_may_rotate(caller: Caller, recipient: str, managed: ManagedBy | None) -> None:
    """`PermissionDeniedError` unless `caller` is an admin, or a requestor of the business
    line of the pack that manages `recipient`."""
    principal = caller.principal
    if principal.is_admin:
        return
    line = managed.business_line if managed is not None else None
    if line is None:
        raise PermissionDeniedError(
            f"{caller.name} may not rotate the token of recipient '{recipient}': no share "
            "pack manages it, so only an admin may"
        )
    if not principal.may_submit(line):
        raise PermissionDeniedError(
            f"{caller.name} may not rotate the token of recipient '{recipient}': it belongs "
            f"to business line '{line}', for which {caller.name} is not a requestor"
        )


def _record_rotation(
    runtime: Runtime, caller: Caller, rotation: TokenRotation, managed: ManagedBy | None
) -> None:
    """The audit row of a rotation: everything but the link. The token is rotated
    already: a database that cannot take the row is logged, and the caller still gets
    the link (without it the partner would be cut off when the earlier token expires)."""
    rotated = rotation.rotated
    expires = rotated.existing_tokens_expire_at
    details = {
        "workspace_url": rotation.workspace_url,
        "recipient": rotated.recipient,
        "token_id": rotated.token_id,
        "existing_token_expire_in_seconds": rotation.existing_token_expire_in_seconds,
        "existing_tokens_expire_at": iso_time(expires) if expires is not None else None,
    }
    try:
        with runtime.database.unit_of_work() as uow:
            record(
                uow,
                caller,
                Act.ROTATE_TOKEN,
                entity_type="recipient",
                entity_id=managed.recipient_id if managed is not None else None,
                business_line=managed.business_line if managed is not None else None,
                details=details,
            )
            uow.commit()
    except StoreError:
        logger.exception(
            "Rotated the token of recipient '%s' in %s but could not record it on the audit trail",
            rotated.recipient,
            rotation.workspace_url,
        )


def record_refused_rotation(
    runtime: Runtime, caller: Caller, refused: SharePackError, recipient: str
) -> None:
    """The audit row of a rotation refused (or failed) before anything changed."""
    if isinstance(refused, DatabaseUnavailableError):
        return  # nowhere to write it; the failure is logged where it is answered
    # The caller's mistakes (and the workspace's refusals) are refusals; what failed on
    # our side or could not be reached is a failure.
    failed = (
        StoreError,
        ConfigurationError,
        WorkspaceUnavailableError,
        WorkspaceCredentialsMissingError,
        WorkspaceAuthenticationError,
    )
    record_refusal(
        runtime,
        Act.ROTATE_TOKEN,
        f"recipient '{recipient}': {refused.message}",
        caller=caller,
        entity_type="recipient",
        outcome=Outcome.FAILED if isinstance(refused, failed) else Outcome.REFUSED,
    )
