"""The desired state: a pack's recipients and share objects as the workspace should hold
them. What a pack declares it declares whole; what it leaves unmanaged (an omitted
comment; a recipient's other properties, expiry and owner, which a pack never names) is
taken from the workspace as it is.
"""

from __future__ import annotations

from dataclasses import replace

from sharepack.packfile.models import RecipientSpec, RecipientType
from sharepack.workspace.state import (
    AuthenticationType,
    DataObjectType,
    RecipientState,
    ShareObjectState,
)


def desired_comment(declared: str | None, existing: str | None) -> str:
    """A comment as the pack wants it: as declared (an empty one clears it); one the pack
    leaves out (None) is not managed and stays as the workspace has it."""
    if declared is not None:
        return declared
    return existing or ""


def desired_recipient(
    spec: RecipientSpec, existing: RecipientState | None = None
) -> RecipientState:
    """The recipient as `spec` declares it; its comment, when the pack leaves it out, as
    `existing` has it. The other fields are declared whole: an email or IP list left out
    means none."""
    comment = desired_comment(spec.comment, existing.comment if existing else None)
    if spec.type is RecipientType.D2D:
        return RecipientState(
            name=spec.name,
            authentication_type=AuthenticationType.DATABRICKS,
            comment=comment,
            metastore_id=spec.metastore_id,
            contact_email=spec.email,
        )
    return RecipientState(
        name=spec.name,
        authentication_type=AuthenticationType.TOKEN,
        comment=comment,
        allowed_ips=spec.allowed_ips,
        contact_email=spec.email,
    )


def as_declared(wanted: RecipientState, existing: RecipientState) -> RecipientState:
    """`wanted` with what a pack does not declare (the recipient's other properties, its
    expiry and owner) kept as `existing` has them: a pack neither sets nor clears those."""
    return replace(
        wanted,
        properties=existing.properties,
        expiration_time=existing.expiration_time,
        owner=existing.owner,
    )


def desired_object(name: str, views: frozenset[str] = frozenset()) -> ShareObjectState:
    """A share object as the pack names it; a view (as the catalog says) is shared as one."""
    if name.count(".") != 2:
        kind = DataObjectType.SCHEMA
    elif name in views:
        kind = DataObjectType.VIEW
    else:
        kind = DataObjectType.TABLE
    return ShareObjectState(name=name, data_object_type=kind)
