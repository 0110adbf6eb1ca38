"""How long each text of a share pack may be, and why: checked before anything is stored.

A text the file gives is stored in a database column (`sharepack.store.tables`) or named
in Unity Catalog, whose names are at most 255 characters; its limit here is the shortest
of those. The spec package does not import the store: `tests/test_spec_bounds.py` holds
these limits against the columns they name. Texts that go only to TEXT or JSON columns
are bounded by the upload's size alone (`NOT_BOUNDED_BY_A_COLUMN` says why for each).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel

from sharepack.packfile.yaml_reader import Path

#: Unity Catalog's limit for the name of a recipient, share, catalog, schema, table or column.
UC_NAME_CHARS = 255

#: A field of the model without its list positions: ("shares", "pipelines", "name").
Field = tuple[str, ...]


@dataclass(frozen=True)
class TextLimit:
    """At most `chars` characters (each dot-separated part at most `part_chars`)."""

    chars: int | None
    columns: tuple[str, ...] = ()  # "table.column" of `sharepack.store.tables` it is stored in
    unity_catalog: bool = False  # a Unity Catalog name too (`UC_NAME_CHARS`)
    part_chars: int | None = None  # catalog.schema.table: Unity Catalog's limit for each part
    note: str = ""  # why the limit is not simply its column's

    def problem(self, value: str) -> str | None:
        """What is wrong with `value`'s length, or None."""
        if self.chars is not None and len(value) > self.chars:
            reason = f": {self.note}" if self.note else ""
            return f"at most {self.chars} characters (got {len(value)}){reason}"
        if self.part_chars is not None:
            for position, part in enumerate(value.split("."), start=1):
                if len(part) > self.part_chars:
                    return (
                        f"at most {self.part_chars} characters per part, Unity Catalog's "
                        f"limit for a name (part {position} has {len(part)})"
                    )
        return None


_UC_NOTE = "Unity Catalog's limit for a name"

#: The uploaded file's name, stored in share_packs.file_name.
FILE_NAME_CHARS = 500
#: A workspace URL, as `sharepack apply --workspace` gives it (the API's are allow-listed),
#: stored in the workspace_url of share_packs, recipients, shares and pipelines.
WORKSPACE_URL_CHARS = 500
WORKSPACE_URL_COLUMNS = (
    "share_packs.workspace_url",
    "recipients.workspace_url",
    "shares.workspace_url",
    "pipelines.workspace_url",
)

TEXT_LIMITS: dict[Field, TextLimit] = {
    ("metadata", "requestor"): TextLimit(
        229,
        ("share_packs.requested_by", "share_packs.created_by"),
        note="the pack's name, SharePack_<requestor>_<date>_<time>, is stored in 255",
    ),
    ("metadata", "project_name"): TextLimit(
        255, ("share_packs.project_name", "projects.project_name")
    ),
    ("metadata", "business_line"): TextLimit(
        255, ("share_packs.business_line", "tenants.business_line_name")
    ),
    ("recipients", "name"): TextLimit(
        255,
        ("recipients.recipient_name", "recipients.databricks_recipient_id"),
        unity_catalog=True,
        note=_UC_NOTE,
    ),
    ("recipients", "email"): TextLimit(255, ("recipients.recipient_contact_email",)),
    ("recipients", "metastore_id"): TextLimit(255, ("recipients.recipient_databricks_org",)),
    ("shares", "name"): TextLimit(
        255, ("shares.share_name", "shares.databricks_share_id"), unity_catalog=True, note=_UC_NOTE
    ),
    # Stored as JSON (shares.recipients_attached), but each is a recipient's name.
    ("shares", "recipients"): TextLimit(255, unity_catalog=True, note=_UC_NOTE),
    # Stored as JSON (shares.share_assets): catalog.schema[.table], each part a name.
    ("shares", "data_objects"): TextLimit(None, part_chars=UC_NAME_CHARS),
    ("shares", "data_objects", "name"): TextLimit(None, part_chars=UC_NAME_CHARS),
    ("shares", "data_objects", "shared_as"): TextLimit(None, part_chars=UC_NAME_CHARS),
    # Partition columns and recipient property keys are names; values are matched.
    ("shares", "data_objects", "partitions", "values", "name"): TextLimit(
        255, unity_catalog=True, note=_UC_NOTE
    ),
    ("shares", "pipelines", "name"): TextLimit(
        91,
        ("pipelines.pipeline_name",),
        note="its job is named <name>_schedule, at most 100",
    ),
    ("shares", "pipelines", "source_asset"): TextLimit(
        500, ("pipelines.source_table",), part_chars=UC_NAME_CHARS
    ),
    ("shares", "pipelines", "target_asset"): TextLimit(
        500, ("pipelines.target_table",), part_chars=UC_NAME_CHARS
    ),
    # Stored as JSON (pipelines.key_columns), but each is a column's name.
    ("shares", "pipelines", "key_columns"): TextLimit(255, unity_catalog=True, note=_UC_NOTE),
    ("shares", "pipelines", "schedule", "cron"): TextLimit(
        120, ("pipelines.cron_expression",), note="the Quartz form of the cron is stored"
    ),
    ("shares", "pipelines", "schedule", "timezone"): TextLimit(64, ("pipelines.timezone",)),
}

NOT_BOUNDED_BY_A_COLUMN: dict[Field, str] = {
    ("metadata", "description"): "kept only in share_packs.config (JSON)",
    ("recipients", "comment"): "recipients.description is TEXT",
    ("recipients", "allowed_ips"): "JSON; each an IPv4 address or block (spec.rules)",
    ("shares", "comment"): "shares.description is TEXT",
    ("shares", "data_objects", "comment"): "kept only in share_packs.config (JSON)",
    ("shares", "data_objects", "partitions", "values", "value"): "kept in the share's objects",
    ("shares", "data_objects", "partitions", "values", "recipient_property_key"): (
        "a recipient property's key, kept in the share's objects"
    ),
    ("recipients", "properties"): "recipients' properties are kept in the workspace",
    ("shares", "pipelines", "scd_type"): '"1" or "2" (spec.rules), in pipelines.scd_type (5)',
    ("shares", "pipelines", "tags"): "pipelines.tags is JSON",
    ("shares", "pipelines", "notification"): "JSON; each an email address (at most 254)",
}


def text_values(
    model: BaseModel, path: Path = (), field: Field = ()
) -> Iterator[tuple[Path, Field, str]]:
    """Every text of `model` (list items and mapping keys and values included): its path,
    its field without list positions or keys, and the text. Enumerations are not texts."""
    for name in type(model).model_fields:
        yield from _texts(getattr(model, name), (*path, name), (*field, name))


def _texts(value: object, path: Path, field: Field) -> Iterator[tuple[Path, Field, str]]:
    match value:
        case Enum():
            return
        case str():
            yield path, field, value
        case BaseModel():
            yield from text_values(value, path, field)
        case tuple() | list():
            for index, item in enumerate(value):
                yield from _texts(item, (*path, index), field)
        case dict():
            for key, item in value.items():
                yield from _texts(key, path, field)
                yield from _texts(item, (*path, key), field)


def length_problems(model: BaseModel) -> Iterator[tuple[Path, str]]:
    """(path, message) for each text of `model` longer than its limit."""
    for path, field, value in text_values(model):
        limit = TEXT_LIMITS.get(field)
        if limit is not None and (problem := limit.problem(value)) is not None:
            yield path, problem
