"""Read an .xlsx share pack into the same plain values the YAML reader gives.

The zip is checked before openpyxl opens it (entry count, declared sizes, compression
ratio), the workbook is read in read-only mode, formula cells are reported and never
evaluated, and every value remembers its cell (`Recipients!C7`).
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from openpyxl import load_workbook

from sharepack.spec.errors import Problem, SpecError
from sharepack.spec.normalise import METADATA_KEYS, PIPELINE_KEYS, RECIPIENT_KEYS, SHARE_KEYS
from sharepack.spec.yaml_reader import LocatedDocument, Path

MAX_ENTRIES = 1000
MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_RATIO = 200
SHEETS = {"metadata": "metadata", "recipients": "recipient", "shares": "share"}
EXTRA_PIPELINE_KEYS = ("share", "timezone", "cron")


def _key(text: object) -> str:
    """Sheet and header names match ignoring case, spaces and underscores."""
    return str(text).lower().replace(" ", "").replace("_", "")


def _lookup(*tables: dict[str, str] | tuple[str, ...]) -> dict[str, str]:
    return {_key(name): name for table in tables for name in table}


HEADERS = {
    "recipient": _lookup(RECIPIENT_KEYS),
    "share": _lookup(SHARE_KEYS),
    "pipelines": _lookup(PIPELINE_KEYS, EXTRA_PIPELINE_KEYS),
}


def check_zip(content: bytes, filename: str, max_bytes: int) -> None:
    """Refuse archives that would expand beyond reason before anything decompresses them."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise SpecError([Problem(filename, "", "The file is not a valid .xlsx workbook")]) from None
    entries = archive.infolist()
    total = sum(e.file_size for e in entries)
    worst = max((e.file_size / max(e.compress_size, 1) for e in entries), default=0)
    if len(entries) > MAX_ENTRIES or total > max(MAX_UNCOMPRESSED, 10 * max_bytes):
        message = f"The workbook would expand to {total:,} bytes in {len(entries)} parts"
        raise SpecError([Problem(filename, "", f"{message}: too large to read")])
    if worst > MAX_RATIO and total > 1024 * 1024:
        raise SpecError(
            [Problem(filename, "", f"The workbook is compressed {worst:.0f}:1, like a zip bomb")]
        )


def read_excel(content: bytes, filename: str, max_rows: int, max_bytes: int) -> LocatedDocument:
    check_zip(content, filename, max_bytes)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:
        raise SpecError([Problem(filename, "", f"The workbook cannot be read: {exc}")]) from None
    reader = _Reader(filename, max_rows)
    try:
        sheets = {_key(ws.title): ws for ws in workbook.worksheets}
        value = reader.read(sheets)
    finally:
        workbook.close()
    if reader.problems:
        raise SpecError(reader.problems)
    return LocatedDocument(filename, value, reader.locations)


class _Reader:
    def __init__(self, filename: str, max_rows: int) -> None:
        self.filename = filename
        self.max_rows = max_rows
        self.problems: list[Problem] = []
        self.locations: dict[Path, str] = {(): filename}

    def read(self, sheets: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for sheet_key in ("metadata", "recipients", "shares"):
            if sheet_key not in sheets:
                self.problems.append(
                    Problem(self.filename, "", f"The workbook has no '{sheet_key.title()}' sheet")
                )
        if "metadata" in sheets:
            result["metadata"] = self._metadata(sheets["metadata"])
        for sheet_key, top in (("recipients", "recipient"), ("shares", "share")):
            if sheet_key in sheets:
                result[top] = self._table(sheets[sheet_key], top)
        if "pipelines" in sheets:
            result["pipelines"] = [
                _pipeline_row(row) for row in self._table(sheets["pipelines"], "pipelines")
            ]
        return result

    def _rows(self, sheet: Any) -> list[list[Any]]:
        rows: list[list[Any]] = []
        for row in sheet.iter_rows():
            if len(rows) >= self.max_rows + 1:
                where = f"{sheet.title}!A{self.max_rows + 2}"
                message = f"The sheet has more than {self.max_rows} rows"
                self.problems.append(Problem(where, "", message))
                break
            rows.append([self._cell(sheet.title, cell) for cell in row])
        return rows

    def _cell(self, title: str, cell: Any) -> tuple[str, Any]:
        where = f"{title}!{getattr(cell, 'coordinate', '?')}"
        value = cell.value
        if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value[:1] == "="):
            self.problems.append(Problem(where, "", "Formulas are not read; type the value"))
            return where, None
        if isinstance(value, str):
            value = value.strip() or None
        return where, value

    def _metadata(self, sheet: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        known = _lookup(METADATA_KEYS)
        for row in self._rows(sheet)[1:]:
            if len(row) < 2 or row[0][1] is None:
                continue
            (where, field), (value_where, value) = row[0], row[1]
            name = known.get(_key(field))
            if name is None:
                self.problems.append(Problem(where, "", f"Unknown metadata field '{field}'"))
            elif value is not None:
                values[name] = value
                self.locations[("metadata", name)] = value_where
        return values

    def _table(self, sheet: Any, top: str) -> list[dict[str, Any]]:
        rows = self._rows(sheet)
        if not rows:
            return []
        columns: list[str | None] = []
        for where, header in rows[0]:
            name = HEADERS[top].get(_key(header)) if header is not None else None
            if header is not None and name is None:
                self.problems.append(Problem(where, "", f"Unknown column '{header}'"))
            columns.append(name)
        items: list[dict[str, Any]] = []
        for row in rows[1:]:
            item = {c: v for c, (_, v) in zip(columns, row, strict=False) if c and v is not None}
            if not item:
                continue
            path: Path = (top, len(items))
            self.locations[path] = row[0][0]
            for column, (where, value) in zip(columns, row, strict=False):
                if column and value is not None:
                    self.locations[(*path, column)] = where
            items.append(item)
        return items


def _pipeline_row(row: dict[str, Any]) -> dict[str, Any]:
    """Schedule and timezone columns, and `k=v` tags, in the shape the YAML form has."""
    result = {k: v for k, v in row.items() if k not in ("timezone", "cron")}
    schedule = row.get("schedule", row.get("cron"))
    if isinstance(schedule, str) and schedule.strip().upper() != "CONTINUOUS":
        result["schedule"] = {"cron": schedule, "timezone": row.get("timezone") or "UTC"}
    elif schedule is not None:
        result["schedule"] = schedule
    if isinstance(row.get("tags"), str):
        pairs = [p.split("=", 1) for p in row["tags"].split(",") if p.strip()]
        # A malformed cell stays a string, so validation reports it at its cell.
        if all(len(p) == 2 for p in pairs):
            result["tags"] = {k.strip(): v.strip() for k, v in pairs}
    if isinstance(row.get("serverless"), str):
        result["serverless"] = row["serverless"].strip().lower() in ("true", "yes", "1")
    if isinstance(row.get("scd_type"), float):
        result["scd_type"] = str(int(row["scd_type"]))
    return result
