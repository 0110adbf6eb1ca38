"""Rules on what a share exposes: its objects and their sharing options, and the recipient
properties its partition filters refer to.

The service's own rules, checked before anything is sent: an alias (`shared_as`) is
`schema.table` in letters, digits and underscores, unique in its share (a table left
without one is shared as its own `schema.table`); a whole schema takes no alias,
partitions or start version; a partition value holds a value or a recipient property's
key, never both.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from sharepack.packfile.findings import Finding
from sharepack.packfile.models import (
    DataObjectKind,
    DataObjectSpec,
    HistorySharing,
    RecipientSpec,
    RecipientType,
    SharePackConfig,
    ShareSpec,
)
from sharepack.packfile.yaml_reader import Path

IDENTIFIER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
ALIAS_PART = re.compile(r"^[A-Za-z0-9_]+$")
MAX_OBJECTS_PER_SHARE = 1000
#: Where sharepack keeps a D2O recipient's contact email among its properties.
CONTACT_EMAIL_PROPERTY = "sharepack.contact_email"
#: Property keys the service sets itself on every recipient (databricks-sdk
#: `RecipientInfo.properties_kvpairs`: "databricks-account-id" and the like).
RESERVED_PROPERTY_PREFIXES = ("databricks", CONTACT_EMAIL_PROPERTY)


def object_path(share_path: Path, position: int, entry: object) -> Path:
    """Where an object's name is in the model: the entry itself when only a name is given."""
    base: Path = (*share_path, "data_objects", position)
    return base if isinstance(entry, str) else (*base, "name")


def object_rules(share: ShareSpec, path: Path) -> Iterator[Finding]:
    if len(share.data_objects) > MAX_OBJECTS_PER_SHARE:
        yield Finding(
            (*path, "data_objects"),
            f"At most {MAX_OBJECTS_PER_SHARE} data objects per share, "
            f"found {len(share.data_objects)}",
        )
    seen_names: set[str] = set()
    seen_aliases: dict[str, str] = {}
    for position, (entry, obj) in enumerate(zip(share.data_objects, share.objects, strict=True)):
        where = object_path(path, position, entry)
        parts = obj.name.split(".")
        if len(parts) not in (2, 3) or not all(IDENTIFIER.match(p) for p in parts):
            yield Finding(where, f"'{obj.name}' is not catalog.schema.table or catalog.schema")
            continue
        if obj.name in seen_names:
            yield Finding(where, f"'{obj.name}' is listed more than once")
            continue
        seen_names.add(obj.name)
        base: Path = (*path, "data_objects", position)
        yield from _options(obj, base, len(parts) == 2)
        alias = obj.shared_as or ".".join(parts[1:])
        if len(parts) == 3 and alias in seen_aliases:
            field = (*base, "shared_as") if obj.shared_as else where
            yield Finding(
                field,
                f"'{obj.name}' would be shared as '{alias}', as '{seen_aliases[alias]}' "
                "already is: give one of them another shared_as (schema.table)",
            )
        seen_aliases.setdefault(alias, obj.name)


def _options(obj: DataObjectSpec, path: Path, schema: bool) -> Iterator[Finding]:
    if obj.type is not None and (obj.type is DataObjectKind.SCHEMA) != schema:
        expected = "catalog.schema" if obj.type is DataObjectKind.SCHEMA else "catalog.schema.table"
        yield Finding((*path, "type"), f"A {obj.type.value} is named {expected}, not '{obj.name}'")
    if schema:
        for field in ("shared_as", "start_version"):
            if getattr(obj, field) is not None:
                yield Finding((*path, field), f"{field} applies to tables, not to a whole schema")
        if obj.partitions:
            yield Finding((*path, "partitions"), "Partitions apply to tables, not to a schema")
        return
    if obj.shared_as is not None:
        alias = obj.shared_as.split(".")
        if len(alias) != 2 or not all(ALIAS_PART.match(p) for p in alias):
            yield Finding(
                (*path, "shared_as"),
                f"shared_as '{obj.shared_as}' must be schema.table, each part letters, "
                "digits and underscores",
            )
    if obj.start_version is not None and obj.history_data_sharing_status is HistorySharing.DISABLED:
        yield Finding(
            (*path, "start_version"),
            "start_version bounds the history a recipient may read: it needs "
            "history_data_sharing_status ENABLED",
        )
    if obj.partitions and obj.type in (DataObjectKind.VIEW, DataObjectKind.MATERIALIZED_VIEW):
        yield Finding((*path, "partitions"), f"Partitions apply to tables, not to a {obj.type}")
    yield from _partition_rules(obj, (*path, "partitions"))


def _partition_rules(obj: DataObjectSpec, path: Path) -> Iterator[Finding]:
    for index, partition in enumerate(obj.partitions):
        if not partition.values:
            yield Finding((*path, index), "A partition names at least one column")
        for position, value in enumerate(partition.values):
            where = (*path, index, "values", position)
            if not IDENTIFIER.match(value.name):
                yield Finding((*where, "name"), f"'{value.name}' is not a column name")
            given = (value.value is not None) + (value.recipient_property_key is not None)
            if given != 1:
                yield Finding(
                    where,
                    f"Column '{value.name}' needs a value or a recipient_property_key "
                    f"({'not both' if given else 'one of them'})",
                )


def property_rules(config: SharePackConfig) -> Iterator[Finding]:
    """Recipient properties and token expiry, and partition filters that refer to a
    property a recipient of the share does not have (it would see none of those rows)."""
    for index, recipient in enumerate(config.recipients):
        yield from _recipient_options(recipient, ("recipients", index))
    declared = {r.name: r for r in config.recipients}
    for share_index, share in enumerate(config.shares):
        for position, obj in enumerate(share.objects):
            for key, where in _property_keys(
                obj, ("shares", share_index, "data_objects", position)
            ):
                lacking = [
                    name
                    for name in share.recipients
                    if name in declared
                    and declared[name].properties is not None
                    and key not in (declared[name].properties or {})
                ]
                if lacking:
                    yield Finding(
                        where,
                        f"Recipient(s) {', '.join(repr(n) for n in lacking)} have no property "
                        f"'{key}': they will see none of these rows",
                        warning=True,
                    )


def _property_keys(obj: DataObjectSpec, path: Path) -> Iterator[tuple[str, Path]]:
    for index, partition in enumerate(obj.partitions):
        for position, value in enumerate(partition.values):
            if value.recipient_property_key is not None and value.value is None:
                where = (*path, "partitions", index, "values", position, "recipient_property_key")
                yield value.recipient_property_key, where


def _recipient_options(recipient: RecipientSpec, path: Path) -> Iterator[Finding]:
    for key in recipient.properties or {}:
        if not key.strip():
            yield Finding((*path, "properties"), "A property key must not be empty")
        elif key.lower().startswith(RESERVED_PROPERTY_PREFIXES):
            yield Finding(
                (*path, "properties", key),
                f"Property '{key}' is reserved (the service's, or sharepack's for the email)",
            )
    expiration = recipient.token_expiration
    if expiration is None:
        return
    if recipient.type is RecipientType.D2D:
        yield Finding(
            (*path, "token_expiration"),
            "token_expiration applies to D2O recipients: a D2D recipient has no token",
            depends_on=((*path, "type"),),
        )
    elif as_utc(expiration) <= datetime.now(UTC):
        yield Finding(
            (*path, "token_expiration"),
            f"token_expiration {expiration.isoformat()} has passed: the recipient's tokens "
            "no longer work",
            warning=True,
        )


def as_utc(moment: datetime) -> datetime:
    """A time written without a zone is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
