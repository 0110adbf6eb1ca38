"""The `updates` of one `PATCH /shares/{name}`: checked as a whole, then applied in order.

A rejected request leaves the share untouched, as on a workspace. The server fills
`added_at`, `added_by`, `status`, `history_data_sharing_status` (DISABLED unless given) and,
for table-like objects, `shared_as` (default `schema.table`); what else the client sets
(`comment`, `cdf_enabled`, `start_version`, `partitions`, `string_shared_as`) is kept as
sent. Objects are held in the order they were added in; answers give them in the paging
mode's order (`paging.Paging.arrange`): none is promised.
"""

from __future__ import annotations

import re
from typing import Any

from databricks_emulator.catalog import Catalog, now_ms
from databricks_emulator.errors import already_exists, invalid, not_found, quota_exceeded

MAX_OBJECT_UPDATES = 100
MAX_OBJECTS_PER_SHARE = 1000
ACTIONS = ("ADD", "REMOVE", "UPDATE")
UPDATABLE_FIELDS = ("comment", "cdf_enabled", "history_data_sharing_status", "partitions")
#: Kept as the client sent them on ADD (besides `shared_as`, defaulted for tables).
ADDED_FIELDS = ("comment", "cdf_enabled", "start_version", "partitions", "string_shared_as")
HISTORY_STATUSES = ("ENABLED", "DISABLED")
PARTITION_OPS = ("EQUAL", "LIKE")
_TABLE_KINDS = {"TABLE", "VIEW", "MATERIALIZED_VIEW", "STREAMING_TABLE"}
#: databricks-sdk `SharedDataObject.shared_as`: "a 2-part name <schema_name>.<table_name>",
#: each part "only alphanumeric characters and underscores".
_SHARED_AS = re.compile(r"[A-Za-z0-9_]+\.[A-Za-z0-9_]+")


def _kind_of(obj: dict[str, Any], catalog: Catalog) -> str:
    """The object's type as given, or as the catalog knows it when the request leaves it out."""
    given = obj.get("data_object_type")
    if given:
        return str(given)
    name = str(obj["name"])
    if name.count(".") == 1:
        return "SCHEMA"
    if catalog.has_table(name) and catalog.require_table(name).table_type == "VIEW":
        return "VIEW"
    return "TABLE"


def default_shared_as(name: str) -> str:
    return ".".join(name.lower().split(".")[1:])


def check_updates(share: dict[str, Any], updates: list[Any], catalog: Catalog) -> None:
    """Raise the error a workspace answers for the first thing wrong in `updates`."""
    if len(updates) > MAX_OBJECT_UPDATES:
        raise invalid(
            f"UpdateShare number of data objects to update exceeds limit {MAX_OBJECT_UPDATES}"
        )
    present = {o["name"]: o for o in share["objects"]}
    aliases = {o["shared_as"]: o["name"] for o in share["objects"] if o.get("shared_as")}
    _check_duplicates(updates, catalog)
    count = len(present)
    for update in updates:
        action = update.get("action")
        obj = update.get("data_object") or {}
        if action not in ACTIONS or not obj.get("name"):
            raise invalid(f"Invalid data object update: {update}.")
        name = str(obj["name"]).lower()
        if action != "REMOVE":
            _check_fields(obj)
        if action == "ADD":
            _check_add(share["name"], obj, name, present, aliases, catalog)
            count += 1
        elif name not in present:
            raise not_found(
                f"Data object '{obj['name']}' does not exist in share '{share['name']}'."
            )
        elif action == "REMOVE":
            aliases.pop(present[name].get("shared_as", ""), None)
            count -= 1
        elif obj.get("shared_as") and obj["shared_as"] != present[name].get("shared_as"):
            raise invalid(f"Updating shared_as of data object '{obj['name']}' is not supported.")
        else:
            _check_partitioned(present[name]["data_object_type"], name, obj)
    if count > MAX_OBJECTS_PER_SHARE:
        raise quota_exceeded(
            f"Share '{share['name']}' would hold {count} data objects; the limit is "
            f"{MAX_OBJECTS_PER_SHARE}."
        )


def _check_duplicates(updates: list[Any], catalog: Catalog) -> None:
    seen: dict[str, str] = {}
    repeated: dict[str, list[str]] = {}
    for update in updates:
        obj = update.get("data_object") or {}
        if not obj.get("name"):
            continue
        name = str(obj["name"]).lower()
        kind = _kind_of(obj, catalog)
        if name in seen:
            repeated.setdefault(kind, []).append(default_shared_as(name))
        seen[name] = kind
    if repeated:
        kind, names = next(iter(repeated.items()))
        raise invalid(
            "UpdateShare duplicate updates on the same data object with data object type: "
            f"{kind}, names: [{', '.join(names)}]."
        )


def _check_fields(obj: dict[str, Any]) -> None:
    """The enumerations and partition values of an object to add or update.

    databricks-sdk `SharedDataObject`/`PartitionValue`: history sharing is ENABLED or
    DISABLED, a partition value's op EQUAL or LIKE, and it holds `value` or
    `recipient_property_key`, never both.
    """
    status = obj.get("history_data_sharing_status")
    if status is not None and status not in HISTORY_STATUSES:
        raise invalid(f"Invalid history_data_sharing_status '{status}'.")
    for partition in obj.get("partitions") or []:
        for value in (partition or {}).get("values") or []:
            if not value.get("name"):
                raise invalid("A partition value must name its column.")
            if value.get("op") is not None and value["op"] not in PARTITION_OPS:
                raise invalid(f"Invalid partition value op '{value.get('op')}'.")
            if "value" in value and "recipient_property_key" in value:
                raise invalid(
                    f"Partition value of column '{value['name']}' sets both value and "
                    "recipient_property_key; set one."
                )


def _check_partitioned(kind: str, name: str, obj: dict[str, Any]) -> None:
    """Partitions filter a table's rows: a schema or a view has none to filter."""
    if obj.get("partitions") and kind in ("SCHEMA", "VIEW"):
        raise invalid(f"Partitions are only supported on tables; {name} is a {kind}.")


def _check_add(
    share_name: str,
    obj: dict[str, Any],
    name: str,
    present: dict[str, Any],
    aliases: dict[str, str],
    catalog: Catalog,
) -> None:
    if name in present:
        raise already_exists(f"Data object '{obj['name']}' already exists in share '{share_name}'.")
    kind = _kind_of(obj, catalog)
    _check_partitioned(kind, name, obj)
    if kind == "SCHEMA":
        catalog.require_schema(name)
        return
    if kind not in _TABLE_KINDS:
        raise invalid(f"Data object type '{kind}' is not supported by this emulator.")
    if obj.get("string_shared_as"):
        raise invalid(f"string_shared_as applies to non-table objects; {name} is a {kind}.")
    table_type = catalog.require_table(name).table_type
    if kind == "VIEW" and table_type != "VIEW":
        raise invalid(f"{name} is a table and not a VIEW.")
    if kind != "VIEW" and table_type == "VIEW":
        raise invalid(f"{name} is a view and not a {kind}.")
    alias = str(obj.get("shared_as") or default_shared_as(name))
    if not _SHARED_AS.fullmatch(alias):
        raise invalid(
            f"Invalid shared_as name '{alias}': it must be <schema_name>.<table_name>, each part "
            "of letters, digits and underscores only."
        )
    if alias.lower() in aliases:
        raise invalid(
            f"Data object '{aliases[alias.lower()]}' is already shared as '{alias}' in share "
            f"'{share_name}'."
        )
    aliases[alias.lower()] = name


def apply_updates(share: dict[str, Any], updates: list[Any], catalog: Catalog, user: str) -> None:
    """Apply updates already passed by `check_updates`."""
    for update in updates:
        obj = update["data_object"]
        name = str(obj["name"]).lower()
        objects: list[dict[str, Any]] = share["objects"]
        if update["action"] == "REMOVE":
            share["objects"] = [o for o in objects if o["name"] != name]
        elif update["action"] == "UPDATE":
            current = next(o for o in objects if o["name"] == name)
            current.update({k: obj[k] for k in UPDATABLE_FIELDS if k in obj})
        else:
            objects.append(_added_object(obj, name, _kind_of(obj, catalog), user))


def _added_object(obj: dict[str, Any], name: str, kind: str, user: str) -> dict[str, Any]:
    added: dict[str, Any] = {
        "name": name,
        "data_object_type": kind,
        "added_at": now_ms(),
        "added_by": user,
        "status": "ACTIVE",
        "history_data_sharing_status": obj.get("history_data_sharing_status", "DISABLED"),
    }
    if kind != "SCHEMA":
        added["shared_as"] = str(obj.get("shared_as") or default_shared_as(name)).lower()
    added.update({k: obj[k] for k in ADDED_FIELDS if obj.get(k) is not None})
    return added
