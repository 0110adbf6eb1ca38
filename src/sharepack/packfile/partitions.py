"""Partition filters written as Databricks SQL writes them in `ALTER SHARE ... PARTITION`.

    (region = 'us', day LIKE '2024-%'), (region = CURRENT_RECIPIENT().region)

Each parenthesised group is one partition (its conditions all hold); a recipient reads the
rows of any of them. A value is a quoted string (`''` for a quote inside) or a number;
`CURRENT_RECIPIENT().key` (or `CURRENT_RECIPIENT('key')`) is the reading recipient's
property `key`. One group may be written without its parentheses. An Excel cell takes this
form; in YAML it is one of the forms `partitions` accepts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<recipient>CURRENT_RECIPIENT\s*\(\s*(?:'(?P<quoted_key>(?:[^']|'')*)')?\s*\)
            (?:\s*\.\s*(?P<dotted_key>[A-Za-z_][A-Za-z0-9_.-]*))?)
      | (?P<like>LIKE\b)
      | (?P<number>-?[0-9]+(?:\.[0-9]+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*|`[^`]+`)
      | (?P<punct>[=(),])
    )""",
    re.VERBOSE | re.IGNORECASE,
)


class PartitionSyntaxError(ValueError):
    """A partition filter that is not `column = 'value'` or `column LIKE 'pattern'` groups."""


def _tokens(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise PartitionSyntaxError(
                f"cannot read the partition filter at '{text[position:].strip()[:20]}'"
            )
        kind = match.lastgroup or ""
        if match["recipient"]:
            key = match["quoted_key"] if match["quoted_key"] is not None else match["dotted_key"]
            if not key:
                raise PartitionSyntaxError("CURRENT_RECIPIENT() needs a property: .key")
            tokens.append(("recipient", key.replace("''", "'")))
        elif kind == "string":
            tokens.append(("value", match["string"][1:-1].replace("''", "'")))
        elif kind == "number":
            tokens.append(("value", match["number"]))
        elif kind == "like":
            tokens.append(("op", "LIKE"))
        elif kind == "name":
            tokens.append(("name", match["name"].strip("`")))
        else:
            tokens.append(("punct", match["punct"]))
        position = match.end()
    return tokens


def parse_partitions(text: str) -> list[dict[str, Any]]:
    """`[{values: [{name, op, value | recipient_property_key}]}]` for `text`, or
    `PartitionSyntaxError` saying what is wrong."""
    tokens = _tokens(text)
    if not tokens:
        raise PartitionSyntaxError("the partition filter is empty")
    if tokens[0] != ("punct", "("):
        tokens = [("punct", "("), *tokens, ("punct", ")")]
    partitions: list[dict[str, Any]] = []
    index = 0
    while index < len(tokens):
        if tokens[index] != ("punct", "("):
            raise PartitionSyntaxError("each partition is (column = value, ...), in parentheses")
        values, index = _group(tokens, index + 1)
        partitions.append({"values": values})
        if index < len(tokens):
            if tokens[index] != ("punct", ","):
                raise PartitionSyntaxError("partitions are separated by commas")
            index += 1
    return partitions


def _group(tokens: list[tuple[str, Any]], index: int) -> tuple[list[dict[str, Any]], int]:
    values: list[dict[str, Any]] = []
    while True:
        if index + 3 > len(tokens):
            raise PartitionSyntaxError("each condition is column = value or column LIKE value")
        name, op, operand = tokens[index : index + 3]
        if name[0] != "name":
            raise PartitionSyntaxError(f"expected a column name, found '{name[1]}'")
        if op not in (("punct", "="), ("op", "LIKE")):
            raise PartitionSyntaxError(f"column '{name[1]}' needs = or LIKE")
        condition: dict[str, Any] = {"name": name[1], "op": "EQUAL" if op[1] == "=" else "LIKE"}
        if operand[0] == "value":
            condition["value"] = operand[1]
        elif operand[0] == "recipient":
            condition["recipient_property_key"] = operand[1]
        else:
            raise PartitionSyntaxError(
                f"column '{name[1]}' needs a quoted value or CURRENT_RECIPIENT().key"
            )
        values.append(condition)
        index += 3
        if index >= len(tokens):
            raise PartitionSyntaxError("a partition ends with ')'")
        if tokens[index] == ("punct", ")"):
            return values, index + 1
        if tokens[index] != ("punct", ","):
            raise PartitionSyntaxError("conditions of a partition are separated by commas")
        index += 1


class Condition(Protocol):
    """One column condition of a partition, in the file's model or as a share holds it."""

    @property
    def name(self) -> str: ...
    @property
    def op(self) -> str: ...
    @property
    def value(self) -> str | None: ...
    @property
    def recipient_property_key(self) -> str | None: ...


def partitions_text(partitions: Iterable[Iterable[Condition]]) -> str | None:
    """Partitions as `ALTER SHARE ... PARTITION` writes them (what `parse_partitions`
    reads), or None for none."""

    def condition(v: Condition) -> str:
        sign = "LIKE" if str(v.op) == "LIKE" else "="
        if v.recipient_property_key is not None:
            return f"{v.name} {sign} CURRENT_RECIPIENT().{v.recipient_property_key}"
        quoted = (v.value or "").replace("'", "''")
        return f"{v.name} {sign} '{quoted}'"

    groups = [f"({', '.join(condition(v) for v in values)})" for values in partitions]
    return ", ".join(groups) or None
