"""Read an .xlsx share pack into the same plain values the YAML reader gives.

The archive is checked before openpyxl opens it (`xlsx_archive`), the workbook is read in
read-only mode within caps on rows, columns and filled cells, formula cells are reported
and never evaluated, and every value remembers its cell (`Recipients!C7`). Whatever goes
wrong while openpyxl parses is a `SpecError` too.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from sharepack.packfile.errors import Problem, SpecError
from sharepack.packfile.normalise import (
    METADATA_KEYS,
    OBJECT_KEYS,
    PIPELINE_KEYS,
    RECIPIENT_KEYS,
    SHARE_KEYS,
    field_name,
)
from sharepack.packfile.xlsx_archive import MAX_CELLS, check_zip
from sharepack.packfile.yaml_reader import ANY, LocatedDocument, Path

# The widest sheet (Pipelines) has 11 columns: nothing a pack needs lies beyond column AF.
MAX_COLUMNS = 32

MAX_PROBLEMS = 100
SHEETS = ("metadata", "recipients", "shares", "pipelines", "objects")
TABLES = {
    "recipients": "recipient",
    "shares": "share",
    "pipelines": "pipelines",
    "objects": "objects",
}
EXTRA_PIPELINE_KEYS = {"share": "share", "timezone": "timezone", "cron": "schedule"}
BOOLEAN_FIELDS = ("serverless", "prune", "cdf_enabled")
TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")


def _key(text: object) -> str:
    """Sheet and header names match ignoring case, spaces and underscores."""
    return str(text).lower().replace(" ", "").replace("_", "")


def _lookup(*tables: dict[str, str]) -> dict[str, str]:
    """Each spelling a header may have -> the field it names."""
    return {_key(name): field for table in tables for name, field in table.items()}


HEADERS = {
    "recipient": _lookup(RECIPIENT_KEYS),
    "share": _lookup(SHARE_KEYS),
    "pipelines": _lookup(PIPELINE_KEYS, EXTRA_PIPELINE_KEYS),
    "objects": _lookup(OBJECT_KEYS, {"share": "share"}),
}
METADATA_FIELDS = _lookup(METADATA_KEYS)


def read_excel(content: bytes, filename: str, max_rows: int, max_bytes: int) -> LocatedDocument:
    check_zip(content, filename, max_bytes)
    reader = _Reader(filename, max_rows)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:
        raise SpecError([Problem(filename, "", f"The workbook cannot be read: {exc}")]) from None
    try:
        value = reader.read(workbook.worksheets)
    except _UnreadableError as exc:
        raise SpecError([exc.problem]) from None
    except _StopReadingError:
        raise SpecError(reader.reported()) from None
    except Exception as exc:  # openpyxl failing outside a sheet's rows
        raise SpecError([Problem(filename, "", f"The workbook cannot be read: {exc}")]) from None
    finally:
        workbook.close()
    # Problems of single cells do not stop the reading: they are reported with the rest.
    return LocatedDocument(
        filename,
        value,
        reader.locations,
        problems=tuple(reader.problems),
        unreadable=frozenset(reader.unreadable),
        sheets=tuple(sheet.title for sheet in workbook.worksheets),
        unlisted=reader.unlisted,
    )


class _UnreadableError(Exception):
    """openpyxl failed on a part of the workbook (malformed XML, entities, bad deflate)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _StopReadingError(Exception):
    """The workbook has more filled cells than `MAX_CELLS`: the reading stops there."""


#: Stands in for a formula cell, already reported, so that its row or column is skipped.
_FORMULA = object()


@dataclass(frozen=True)
class _Row:
    number: int
    cells: dict[int, Any]  # column number -> value, filled cells only


def _at(title: str, column: int, row: int) -> str:
    return f"{title}!{get_column_letter(column)}{row}"


def _text(value: Any) -> Any:
    """A number or date typed into a text field, as the text it shows; booleans stay."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    return str(value)


class _Reader:
    def __init__(self, filename: str, max_rows: int) -> None:
        self.filename = filename
        self.max_rows = max_rows
        self.problems: list[Problem] = []
        self.unlisted = 0
        self.cells = 0
        self.locations: dict[Path, str] = {(): filename}
        self.unreadable: set[Path] = set()  # values left out because of a reported problem

    def problem(self, location: str, field: str, message: str, path: Path | None = None) -> None:
        if path is not None:
            self.unreadable.add(path)
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(location, field, message))
        else:
            self.unlisted += 1

    def reported(self) -> list[Problem]:
        if not self.unlisted:
            return self.problems
        return [*self.problems, Problem(self.filename, "", f"and {self.unlisted:,} more problems")]

    def read(self, worksheets: list[Any]) -> dict[str, Any]:
        sheets = self._sheets(worksheets)
        result: dict[str, Any] = {}
        if "metadata" in sheets:
            result["metadata"] = self._metadata(sheets["metadata"])
        for sheet_key, top in TABLES.items():
            if sheet_key in sheets:
                result[top] = self._table(sheets[sheet_key], top)
        for index, recipient in enumerate(result.get("recipient", [])):
            if isinstance(recipient.get("properties"), str):
                path: Path = ("recipient", index, "properties")
                pairs = self._tags(recipient["properties"], path, "Properties", "Property")
                if pairs is None:
                    del recipient["properties"]
                else:
                    recipient["properties"] = pairs
        if "pipelines" in result:
            result["pipelines"] = [
                self._pipeline(row, ("pipelines", index))
                for index, row in enumerate(result["pipelines"])
            ]
        return result

    def _sheets(self, worksheets: list[Any]) -> dict[str, Any]:
        sheets: dict[str, Any] = {}
        for sheet in worksheets:
            key = _key(sheet.title)
            if key not in SHEETS:
                continue
            if key in sheets:
                message = (
                    f"Sheets '{sheets[key].title}' and '{sheet.title}' are the same sheet: "
                    "names match ignoring case, spaces and underscores"
                )
                self.problem(self.filename, "", message, (TABLES.get(key, key), ANY))
                continue
            sheets[key] = sheet
        for key in SHEETS[:3]:
            if key not in sheets:
                top = "metadata" if key == "metadata" else TABLES[key]
                message = f"The workbook has no '{key.title()}' sheet"
                self.problem(self.filename, "", message, (top,))
        return sheets

    def _rows(self, sheet: Any, part: Path) -> Iterator[_Row]:
        """The filled rows of a sheet, up to a cap (then `part` is marked unread, and the
        cap reported)."""
        title = sheet.title
        # A declared dimension is not trusted: `A1:XFD1048576` would pad every row.
        sheet.reset_dimensions()
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > self.max_rows + 1:
                    message = f"The sheet has more than {self.max_rows} rows"
                    self.problem(f"{title}!A{number}", "", message, part)
                    return
                if len(values) > MAX_COLUMNS and any(v is not None for v in values[MAX_COLUMNS:]):
                    column = MAX_COLUMNS + 1
                    column += next(i for i, v in enumerate(values[MAX_COLUMNS:]) if v is not None)
                    message = f"A sheet has at most {MAX_COLUMNS} columns; this cell is beyond them"
                    self.problem(_at(title, column, number), "", message, part)
                    return
                cells = self._cells(title, number, values[:MAX_COLUMNS])
                if cells:
                    yield _Row(number, cells)
        except _StopReadingError:
            raise
        except Exception as exc:
            problem = Problem(
                self.filename, "", f"The workbook cannot be read (sheet '{title}'): {exc}"
            )
            raise _UnreadableError(problem) from None

    def _cells(self, title: str, number: int, values: tuple[Any, ...]) -> dict[int, Any]:
        cells: dict[int, Any] = {}
        for column, value in enumerate(values, start=1):
            if value is None:
                continue
            self.cells += 1
            if self.cells > MAX_CELLS:
                message = f"The workbook has more than {MAX_CELLS:,} filled cells"
                self.problem(_at(title, column, number), "", message)
                raise _StopReadingError
            formula = isinstance(value, ArrayFormula | DataTableFormula)
            if formula or (isinstance(value, str) and value[:1] == "="):
                message = "Formulas are not read; type the value"
                self.problem(_at(title, column, number), "", message)
                value = _FORMULA
            elif isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            cells[column] = value
        return cells

    def _value(self, field: str, where: str, path: Path, value: Any) -> Any:
        """The cell's value as the field takes it, or None (and a problem) if it cannot be."""
        if value is _FORMULA:
            self.unreadable.add(path)
            return None
        if field in BOOLEAN_FIELDS:
            if isinstance(value, bool):
                return value
            word = str(_text(value)).lower()
            if word in TRUE_WORDS or word in FALSE_WORDS:
                return word in TRUE_WORDS
            message = f"'{value}' is not true or false (write true/false, yes/no or 1/0)"
            self.problem(where, field_name(path), message, path)
            return None
        if field == "scd_type" and isinstance(value, float) and not value.is_integer():
            return str(value)  # the scd_type rule refuses it at this cell
        return _text(value)

    def _metadata(self, sheet: Any) -> dict[str, Any]:
        self.locations[("metadata",)] = sheet.title
        rows = list(self._rows(sheet, ("metadata",)))
        if rows and _is_metadata_header(rows[0]):
            rows = rows[1:]
        values: dict[str, Any] = {}
        first: dict[str, str] = {}
        unlabelled = False  # a value whose field cannot be told: any field given may be it
        for row in rows:
            field_at = _at(sheet.title, 1, row.number)
            for column in sorted(c for c in row.cells if c > 2):
                message = "The Metadata sheet has two columns: Field and Value"
                self.problem(_at(sheet.title, column, row.number), "", message)
            if 1 not in row.cells:
                if 2 in row.cells:
                    message = "This value has no field name in column A"
                    self.problem(_at(sheet.title, 2, row.number), "", message)
                    unlabelled = True
                continue
            label = row.cells[1]
            if label is _FORMULA:
                unlabelled = unlabelled or 2 in row.cells
                continue
            name = METADATA_FIELDS.get(_key(label))
            if name is None:
                self.problem(field_at, "", f"Unknown metadata field '{label}'")
                continue
            path: Path = ("metadata", name)
            if name in first:
                message = f"'{label}' is given twice: first at {first[name]}"
                self.problem(field_at, field_name(path), message)
                continue
            first[name] = field_at
            if 2 in row.cells:
                where = _at(sheet.title, 2, row.number)
                value = self._value(name, where, path, row.cells[2])
                if value is not None:
                    values[name] = value
                    self.locations[path] = where
        if unlabelled:
            self.unreadable.update(
                ("metadata", f) for f in set(METADATA_FIELDS.values()) - set(first)
            )
        return values

    def _table(self, sheet: Any, top: str) -> list[dict[str, Any]]:
        self.locations[(top,)] = sheet.title
        # Rows past a cap are left out: those read are still checked.
        rows = self._rows(sheet, (top, ANY))
        header = next(rows, None)
        if header is None:
            return []
        columns = self._columns(sheet.title, header, top)
        unheaded = {c for c, label in header.cells.items() if label is _FORMULA}
        items: list[dict[str, Any]] = []
        for row in rows:
            path: Path = (top, len(items))
            item: dict[str, Any] = {}
            for column, value in sorted(row.cells.items()):
                where = _at(sheet.title, column, row.number)
                if column not in header.cells:
                    self.problem(where, "", "This cell has no column header")
                if column not in columns:
                    continue
                field = columns[column]
                converted = self._value(field, where, (*path, field), value)
                if converted is not None:
                    item[field] = converted
                    self.locations[(*path, field)] = where
            if item or any(c in columns for c in row.cells):
                if not item:  # every value of the row was left out, and reported
                    self.unreadable.add(path)
                self.locations[path] = _at(sheet.title, min(row.cells), row.number)
                for column, field in columns.items():  # an empty cell is where a value lacks
                    self.locations.setdefault((*path, field), _at(sheet.title, column, row.number))
                if any(c in unheaded or c not in header.cells for c in row.cells):
                    # A value under no readable header may be any field the row lacks.
                    lacking = set(HEADERS[top].values()) - set(item)
                    self.unreadable.update((*path, field) for field in lacking)
                items.append(item)
        return items

    def _columns(self, title: str, header: _Row, top: str) -> dict[int, str]:
        """Column number -> field, for the header row; unknown and repeated ones reported."""
        columns: dict[int, str] = {}
        first: dict[str, tuple[str, Any]] = {}
        for column, label in sorted(header.cells.items()):
            where = _at(title, column, header.number)
            if label is _FORMULA:
                continue
            field = HEADERS[top].get(_key(label))
            if field is None:
                self.problem(where, "", f"Unknown column '{label}'")
            elif field in first:
                at, earlier = first[field]
                self.problem(where, "", f"Column '{label}' repeats column '{earlier}' at {at}")
            else:
                first[field] = (where, label)
                columns[column] = field
        return columns

    def _pipeline(self, row: dict[str, Any], path: Path) -> dict[str, Any]:
        """Schedule and timezone columns, and `k=v` tags, in the shape the YAML form has."""
        result = {k: v for k, v in row.items() if k != "timezone"}
        schedule, timezone = row.get("schedule"), row.get("timezone")
        zone_at = self.locations.get((*path, "timezone"), "")
        if isinstance(schedule, str) and schedule.upper() == "CONTINUOUS":
            if timezone is not None:
                message = f"A timezone ('{timezone}') applies to a cron schedule, not to CONTINUOUS"
                self.problem(zone_at, field_name((*path, "timezone")), message, (*path, "timezone"))
        elif schedule is not None:
            result["schedule"] = {"cron": schedule}
            self.locations[(*path, "schedule", "cron")] = self.locations[(*path, "schedule")]
            if timezone is not None:
                result["schedule"]["timezone"] = timezone
                self.locations[(*path, "schedule", "timezone")] = zone_at
        elif timezone is not None and (*path, "schedule") not in self.unreadable:
            message = "A timezone needs a cron in the schedule column"
            self.problem(zone_at, field_name((*path, "timezone")), message, (*path, "timezone"))
        if isinstance(row.get("tags"), str):
            tags = self._tags(row["tags"], (*path, "tags"), "Tags", "Tag")
            if tags is None:
                del result["tags"]
            else:
                result["tags"] = tags
        return result

    def _tags(self, text: str, path: Path, what: str, one: str) -> dict[str, str] | None:
        """`k=v, ...` (tags, properties) as a mapping, or None and a problem."""
        where = self.locations.get(path, "")
        tags: dict[str, str] = {}
        for part in (p.strip() for p in text.split(",")):
            key, equals, value = (s.strip() for s in part.partition("="))
            if not part:
                continue
            if not equals or not key:
                message = f"{what} are key=value pairs separated by commas; '{part}' is not one"
                self.problem(where, field_name(path), message, path)
                return None
            if key in tags:
                message = f"{one} '{key}' is given twice"
                self.problem(where, field_name(path), message, path)
                return None
            tags[key] = value
        return tags


def _is_metadata_header(row: _Row) -> bool:
    """A first row `Field | Value` (matched as headers are) is a header, not a field; so
    is `Field | <a formula>`, the formula reported already."""
    value = row.cells.get(2, "value")
    return _key(row.cells.get(1, "")) == "field" and (value is _FORMULA or _key(value) == "value")
