"""The desired state: a pack's recipients and share objects as the workspace should hold
them. What a pack declares it declares whole; what it leaves unmanaged (an omitted
comment; a recipient's other properties, expiry and owner, which a pack never names) is
taken from the workspace as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum

from sharepack.packfile.models import DataObjectSpec, RecipientSpec, RecipientType
from sharepack.workspace.state import (
    AuthenticationType,
    DataObjectType,
    HistoryDataSharingStatus,
    Partition,
    PartitionOp,
    PartitionValue,
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
    means none. Properties and token expiry, when the pack names them, are as it names
    them (see `as_declared` for when it does not)."""
    comment = desired_comment(spec.comment, existing.comment if existing else None)
    properties = tuple((spec.properties or {}).items())
    expiration = to_epoch_ms(spec.token_expiration) if spec.token_expiration else None
    if spec.type is RecipientType.D2D:
        return RecipientState(
            name=spec.name,
            authentication_type=AuthenticationType.DATABRICKS,
            comment=comment,
            metastore_id=spec.metastore_id,
            contact_email=spec.email,
            properties=properties,
        )
    return RecipientState(
        name=spec.name,
        authentication_type=AuthenticationType.TOKEN,
        comment=comment,
        allowed_ips=spec.allowed_ips,
        contact_email=spec.email,
        properties=properties,
        expiration_time=expiration,
    )


def to_epoch_ms(moment: datetime) -> int:
    """A time as the service takes it: milliseconds since the epoch (UTC when unzoned)."""
    zoned = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return int(zoned.timestamp() * 1000)


def as_declared(
    wanted: RecipientState, existing: RecipientState, spec: RecipientSpec | None = None
) -> RecipientState:
    """`wanted` with what the pack does not declare kept as `existing` has it: its owner
    always; its other properties and its tokens' expiry unless `spec` names them."""
    declares_properties = spec is not None and spec.properties is not None
    declares_expiry = spec is not None and spec.token_expiration is not None
    return replace(
        wanted,
        properties=wanted.properties if declares_properties else existing.properties,
        expiration_time=wanted.expiration_time if declares_expiry else existing.expiration_time,
        owner=existing.owner,
    )


def desired_object(
    spec: DataObjectSpec,
    kinds: Mapping[str, DataObjectType] | None = None,
    existing: ShareObjectState | None = None,
) -> ShareObjectState:
    """A share object as the pack declares it, to add: an option left at its default is
    left to the service (None), which fills it the same way (`comparable_object`). Its type
    is the one declared, else told from its name (a schema has two parts) and the catalog
    (`kinds`: views, materialized views, streaming tables); a comment left out stays as
    `existing` has it."""
    name = spec.name
    if spec.type is not None:
        kind = DataObjectType(spec.type.value)
    elif name.count(".") != 2:
        kind = DataObjectType.SCHEMA
    else:
        kind = (kinds or {}).get(name, DataObjectType.TABLE)
    history = HistoryDataSharingStatus(spec.history_data_sharing_status.value)
    return ShareObjectState(
        name=name,
        data_object_type=kind,
        shared_as=spec.shared_as,
        comment=desired_comment(spec.comment, existing.comment if existing else None),
        cdf_enabled=True if spec.cdf_enabled else None,
        history_data_sharing_status=(
            None if history is HistoryDataSharingStatus.DISABLED else history
        ),
        start_version=spec.start_version,
        partitions=tuple(
            Partition(
                tuple(
                    PartitionValue(
                        name=v.name,
                        op=PartitionOp(v.op.value),
                        value=v.value,
                        recipient_property_key=v.recipient_property_key,
                    )
                    for v in p.values
                )
            )
            for p in spec.partitions
        ),
    )


def default_alias(name: str) -> str:
    """What a table is shared as when no alias is given: its `schema.table`."""
    return name.split(".", 1)[-1].lower()


class ObjectChange(StrEnum):
    UPDATE = "UPDATE"  # an UPDATE of the share changes it in place
    REPLACE = "REPLACE"  # removed and added again: what an UPDATE cannot change


def object_change(wanted: ShareObjectState, held: ShareObjectState) -> ObjectChange | None:
    """How the share's `held` object becomes `wanted`; None when it already is.

    An alias, a start version and the type are set when an object is added, and partitions
    cannot be taken away by an UPDATE (the SDK drops an empty list): those are replaced."""
    now, then = comparable_object(wanted), comparable_object(held)
    if now == then:
        return None
    fixed = ("data_object_type", "shared_as", "start_version", "string_shared_as")
    if any(getattr(now, f) != getattr(then, f) for f in fixed) or (
        then.partitions and not now.partitions
    ):
        return ObjectChange.REPLACE
    return ObjectChange.UPDATE


def comparable_object(obj: ShareObjectState) -> ShareObjectState:
    """`obj` with what the service fills when it is added filled the same way: the alias
    of a table, history sharing DISABLED and change data feed off unless set."""
    table_like = obj.data_object_type is not DataObjectType.SCHEMA and obj.string_shared_as is None
    alias = (obj.shared_as or default_alias(obj.name)).lower() if table_like else obj.shared_as
    return replace(
        obj,
        name=obj.name.lower(),
        shared_as=alias,
        history_data_sharing_status=obj.history_data_sharing_status
        or HistoryDataSharingStatus.DISABLED,
        cdf_enabled=bool(obj.cdf_enabled),
    )
