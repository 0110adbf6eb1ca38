"""Which partitions of a shared table a recipient may read, from the object's `partitions`.

databricks-sdk `SharedDataObject.partitions`: each `Partition` lists `PartitionValue`s
(`name`, `op` EQUAL or LIKE, and `value` or `recipient_property_key`). A file is readable
when it matches any one partition specification, i.e. all of that specification's values;
an object without partitions shares every file. A `recipient_property_key` is resolved from
the recipient's `properties_kvpairs`; a property the recipient lacks matches nothing, and so
does a value on a column the table is not partitioned by.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


def recipient_properties(recipient: Mapping[str, Any]) -> dict[str, str]:
    kvpairs = recipient.get("properties_kvpairs") or {}
    return {str(k): str(v) for k, v in (kvpairs.get("properties") or {}).items()}


def readable(
    partition_values: Mapping[str, str],
    partitions: list[dict[str, Any]],
    properties: Mapping[str, str],
) -> bool:
    """Whether a file with `partition_values` passes the object's partition specifications."""
    if not partitions:
        return True
    return any(
        all(_matches(value, partition_values, properties) for value in spec.get("values") or [])
        for spec in partitions
    )


def _matches(
    value: Mapping[str, Any], partition_values: Mapping[str, str], properties: Mapping[str, str]
) -> bool:
    actual = {k.lower(): v for k, v in partition_values.items()}.get(str(value["name"]).lower())
    if value.get("recipient_property_key") is not None:
        expected = properties.get(str(value["recipient_property_key"]))
    else:
        expected = None if value.get("value") is None else str(value["value"])
    if actual is None or expected is None:
        return False
    if (value.get("op") or "EQUAL") == "LIKE":
        return re.fullmatch(like_pattern(expected), actual, flags=re.DOTALL) is not None
    return actual == expected


def like_pattern(pattern: str) -> str:
    """SQL LIKE as a regular expression: `%` any run of characters, `_` exactly one."""
    return "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
