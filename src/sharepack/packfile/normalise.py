"""Turn what a file says (aliases, plural keys, top-level pipelines) into the model's shape.

Every canonical path remembers the path it came from in the file, so that a problem found
later on the model can be reported where the user wrote it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sharepack.packfile.models import fold_uc_name
from sharepack.packfile.yaml_reader import ANY, Path


class Failure(NamedTuple):
    """A problem found while normalising, located by its path in the file."""

    raw_path: Path
    field: str
    message: str
    at_key: bool = False  # about the key itself (unknown, repeated), not its value


TOP_KEYS = {
    "metadata": "metadata",
    "recipient": "recipient",
    "recipients": "recipient",
    "share": "share",
    "shares": "share",
    "pipelines": "pipelines",
    "objects": "objects",
}
METADATA_KEYS = {k: k for k in ("requestor", "project_name", "business_line", "strategy")}
METADATA_KEYS["description"] = "description"
METADATA_KEYS["prune"] = "prune"
METADATA_KEYS["not_before"] = "not_before"
RECIPIENT_KEYS = {
    "name": "name",
    "recipient_name": "name",
    "type": "type",
    "recipient_type": "type",
    "email": "email",
    "recipient_contact_email": "email",
    "metastore_id": "metastore_id",
    "data_recipient_global_metastore_id": "metastore_id",
    "allowed_ips": "allowed_ips",
    "recipient_ips": "allowed_ips",
    "comment": "comment",
    "description": "comment",
    "properties": "properties",
    "token_expiration": "token_expiration",
}
SHARE_KEYS = {
    "name": "name",
    "share_name": "name",
    "comment": "comment",
    "description": "comment",
    "recipients": "recipients",
    "data_objects": "data_objects",
    "share_assets": "data_objects",
    "pipelines": "pipelines",
}
PIPELINE_KEYS = {
    k: k
    for k in (
        "name",
        "source_asset",
        "target_asset",
        "scd_type",
        "key_columns",
        "schedule",
        "serverless",
        "tags",
        "notification",
    )
}
PIPELINE_KEYS.update({"pipeline_name": "name", "notifications": "notification"})
#: A data object's fields (`models.DataObjectSpec`); at the top level, `share` too.
OBJECT_KEYS = {
    k: k
    for k in (
        "name",
        "type",
        "shared_as",
        "comment",
        "history_data_sharing_status",
        "cdf_enabled",
        "start_version",
        "partitions",
    )
}
OBJECT_KEYS["data_object_type"] = "type"
LIST_FIELDS = {"allowed_ips", "recipients", "data_objects", "key_columns", "notification"}


class Normaliser:
    """Collects problems instead of stopping at the first, like every reader here.

    `unreadable` are the file paths the reader could not take as written (see
    `LocatedDocument`): what depends on them is not judged.
    """

    def __init__(self, unreadable: frozenset[Path] = frozenset()) -> None:
        self.failures: list[Failure] = []
        self.origin: dict[Path, Path] = {}
        self.unreadable = unreadable

    def fail(self, raw_path: Path, field: str, message: str) -> None:
        self.failures.append(Failure(raw_path, field, message))

    def normalise(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            self.fail((), "", "The file must be a mapping with metadata, recipient and share")
            return {}
        top = self._rename(raw, (), (), TOP_KEYS, "top level")
        result: dict[str, Any] = {}
        result["metadata"] = metadata = self._mapping(top, "metadata", METADATA_KEYS)
        if isinstance(metadata.get("strategy"), str):
            metadata["strategy"] = metadata["strategy"].strip().upper()
        result["recipients"] = self._list_of_mappings(top, "recipient", RECIPIENT_KEYS)
        shares = self._list_of_mappings(top, "share", SHARE_KEYS)
        for index, share in enumerate(shares):
            share["pipelines"] = self._pipelines(share, ("shares", index))
        self._attach_top_level_pipelines(top, shares)
        self._attach_top_level_objects(top, shares)
        result["shares"] = shares
        return result

    def _rename(
        self, raw: dict[str, Any], raw_path: Path, path: Path, keys: dict[str, str], what: str
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in raw.items():
            canonical = keys.get(key) if isinstance(key, str) else None
            if canonical is None:
                message = f"Unknown field '{key}' in {what}"
                self.failures.append(Failure((*raw_path, key), field_name(path), message, True))
                continue
            if canonical in result:
                message = f"'{key}' repeats a field"
                where = field_name((*path, canonical))
                self.failures.append(Failure((*raw_path, key), where, message, True))
                continue
            result[canonical] = value
            self.origin[(*path, canonical)] = (*raw_path, key)
        return result

    def _mapping(self, top: dict[str, Any], key: str, keys: dict[str, str]) -> dict[str, Any]:
        value = top.get(key)
        raw_path = self.origin.setdefault((key,), (key,))
        if not isinstance(value, dict):
            self.fail(raw_path, key, f"'{key}' must be a mapping of fields")
            return {}
        return self._rename(value, raw_path, (key,), keys, key)

    def _list_of_mappings(
        self, top: dict[str, Any], key: str, keys: dict[str, str]
    ) -> list[dict[str, Any]]:
        model_key = "recipients" if key == "recipient" else "shares"
        value = top.get(key, [])
        raw_path = self.origin.get((key,), (key,))
        self.origin[(model_key,)] = raw_path
        if not isinstance(value, list):
            self.fail(raw_path, key, f"'{key}' must be a list")
            return []
        items: list[dict[str, Any]] = []
        for index, item in enumerate(value):
            path: Path = (model_key, index)
            self.origin[path] = (*raw_path, index)
            if not isinstance(item, dict):
                # An empty stand-in keeps the indices of later entries those of the file.
                self.fail((*raw_path, index), field_name(path), "Each entry must be a mapping")
                items.append({})
                continue
            items.append(self._fields(item, (*raw_path, index), path, keys, key))
        return items

    def _fields(
        self, item: dict[str, Any], raw_path: Path, path: Path, keys: dict[str, str], what: str
    ) -> dict[str, Any]:
        renamed = self._rename(item, raw_path, path, keys, what)
        if isinstance(renamed.get("type"), str):
            renamed["type"] = renamed["type"].strip().upper()
        for field in LIST_FIELDS.intersection(renamed):
            renamed[field] = _as_list(renamed[field])
        return renamed

    def _pipelines(self, share: dict[str, Any], path: Path) -> list[dict[str, Any]]:
        value = share.get("pipelines", [])
        raw_path = self.origin.get((*path, "pipelines"), path)
        if not isinstance(value, list):
            self.fail(raw_path, field_name((*path, "pipelines")), "'pipelines' must be a list")
            return []
        result: list[dict[str, Any]] = []
        for index, item in enumerate(value):
            item_path: Path = (*path, "pipelines", index)
            self.origin[item_path] = (*raw_path, index)
            if not isinstance(item, dict):
                self.fail((*raw_path, index), field_name(item_path), "Each entry must be a mapping")
                result.append({})
                continue
            result.append(self._pipeline(item, (*raw_path, index), item_path))
        return result

    def _pipeline(self, item: dict[str, Any], raw_path: Path, path: Path) -> dict[str, Any]:
        fields = self._fields(item, raw_path, path, PIPELINE_KEYS, "pipeline")
        if "scd_type" in fields and isinstance(fields["scd_type"], int | str):
            fields["scd_type"] = str(fields["scd_type"])
        return fields

    def _attach_top_level_pipelines(
        self, top: dict[str, Any], shares: list[dict[str, Any]]
    ) -> None:
        value = top.get("pipelines", [])
        raw_path = self.origin.get(("pipelines",), ("pipelines",))
        if not isinstance(value, list):
            self.fail(raw_path, "pipelines", "'pipelines' must be a list")
            return
        names_known = self._share_names_known(top, shares)
        by_name: dict[object, int] = {}
        for position, share in enumerate(shares):
            # Share names are Unity Catalog names: matched without case (`models.UcName`).
            # A name that is not a string is reported by the model, not matched here.
            if isinstance(name := share.get("name"), str):
                by_name.setdefault(fold_uc_name(name), position)
        for index, item in enumerate(value):
            item_raw = (*raw_path, index)
            if not isinstance(item, dict) or "share" not in item:
                # Said of its share field: where that is unreadable, it is reported already.
                where = (*item_raw, "share") if isinstance(item, dict) else item_raw
                self.fail(where, f"pipelines[{index}]", "A top-level pipeline needs 'share:'")
                continue
            if not isinstance(item["share"], str):
                message = "'share' must be the name of a share in this file"
                self.fail((*item_raw, "share"), f"pipelines[{index}].share", message)
                continue
            share_index = by_name.get(fold_uc_name(item["share"]))
            if share_index is None:
                if names_known:  # else the share may be one whose name is reported already
                    message = (
                        f"Pipeline names share '{item['share']}', which the file does not declare"
                    )
                    self.fail((*item_raw, "share"), f"pipelines[{index}].share", message)
                continue
            target = shares[share_index]["pipelines"]
            path: Path = ("shares", share_index, "pipelines", len(target))
            self.origin[path] = item_raw
            rest = {k: v for k, v in item.items() if k != "share"}
            target.append(self._pipeline(rest, item_raw, path))

    def _attach_top_level_objects(self, top: dict[str, Any], shares: list[dict[str, Any]]) -> None:
        """`objects:` entries (a workbook's Objects sheet) give a share's objects options:
        each names its share; it takes the place of the same name in the share's
        data_objects, or is added to them."""
        value = top.get("objects", [])
        raw_path = self.origin.get(("objects",), ("objects",))
        if not isinstance(value, list):
            self.fail(raw_path, "objects", "'objects' must be a list")
            return
        names_known = self._share_names_known(top, shares)
        by_name = {
            fold_uc_name(name): position
            for position, share in enumerate(shares)
            if isinstance(name := share.get("name"), str)
        }
        for index, item in enumerate(value):
            item_raw = (*raw_path, index)
            if not isinstance(item, dict) or not isinstance(item.get("share"), str):
                where = (*item_raw, "share") if isinstance(item, dict) else item_raw
                self.fail(where, f"objects[{index}].share", "An object needs the share it is in")
                continue
            share_index = by_name.get(fold_uc_name(item["share"]))
            if share_index is None:
                if names_known:
                    message = (
                        f"Object names share '{item['share']}', which the file does not declare"
                    )
                    self.fail((*item_raw, "share"), f"objects[{index}].share", message)
                continue
            objects = shares[share_index].setdefault("data_objects", [])
            if not isinstance(objects, list):
                continue  # reported by the model
            path: Path = ("shares", share_index, "data_objects")
            rest = self._rename(
                {k: v for k, v in item.items() if k != "share"},
                item_raw,
                (*path, len(objects)),
                OBJECT_KEYS,
                "object",
            )
            named = fold_uc_name(rest.get("name"))
            position = next(
                (
                    i
                    for i, o in enumerate(objects)
                    if isinstance(o, str) and fold_uc_name(o) == named
                ),
                len(objects),
            )
            if position == len(objects):
                objects.append(rest)
            else:
                objects[position] = rest
            self._relocate((*path, position), item_raw, rest)

    def _relocate(self, path: Path, raw: Path, fields: dict[str, Any]) -> None:
        """Problems of the object at `path` are those of the entry at `raw`."""
        self.origin[path] = raw
        for field in fields:
            self.origin.setdefault((*path, field), (*raw, field))

    def _share_names_known(self, top: dict[str, Any], shares: list[dict[str, Any]]) -> bool:
        """Whether every share's name was read: no section, row or name of one left out."""
        raw = self.origin.get(("shares",), ("share",))
        left_out = {(ANY,), raw, (*raw, ANY)} & self.unreadable
        dropped_at_top = any(f.at_key and len(f.raw_path) == 1 for f in self.failures)
        return (
            isinstance(top.get("share", []), list)
            and not left_out
            and not dropped_at_top
            and all(isinstance(share.get("name"), str) for share in shares)
        )


def _as_list(value: Any) -> Any:
    """Lists may be written as one comma-separated string, as Excel cells are."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def field_name(path: Path) -> str:
    """`share[0].recipients[1]`: the model's path with the file format's names."""
    names = {"recipients": "recipient", "shares": "share"}
    text = ""
    for position, part in enumerate(path):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = names.get(part, part) if position == 0 else part
            text += f".{name}" if text else name
    return text
