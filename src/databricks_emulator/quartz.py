"""Quartz cron expressions as the Jobs API accepts them: 6 or 7 fields, seconds first.

`sec min hour day-of-month month day-of-week [year]`; exactly one of the two day fields is
`?`. A Unix 5-field expression (`0 2 * * *`) is refused, as the Jobs API refuses it.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from databricks_emulator.errors import invalid

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# name, lowest, highest, names (1-based)
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("seconds", 0, 59, ()),
    ("minutes", 0, 59, ()),
    ("hours", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, MONTHS),
    ("day-of-week", 1, 7, DAYS),
    ("year", 1970, 2099, ()),
)
_DOM_SPECIAL = re.compile(r"^(L(-\d{1,2})?|LW|\d{1,2}W)$")
_DOW_SPECIAL = re.compile(r"^([1-7]|[A-Z]{3})(L|#[1-5])$|^L$")


class _FieldError(ValueError):
    pass


def _value(token: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if token.upper() in names:
        return names.index(token.upper()) + 1
    if not token.isdigit():
        raise _FieldError(f"'{token}' is not a number")
    number = int(token)
    if not low <= number <= high:
        raise _FieldError(f"{number} is outside {low}-{high}")
    return number


def _check_item(item: str, index: int) -> None:
    name, low, high, names = _FIELDS[index]
    if item == "*" or (item == "?" and index in (3, 5)):
        return
    if index == 3 and _DOM_SPECIAL.match(item):
        return
    if index == 5 and _DOW_SPECIAL.match(item.upper()):
        return
    base, _, step = item.partition("/")
    if step and (not step.isdigit() or int(step) == 0):
        raise _FieldError(f"bad increment '{step}' in {name}")
    if base == "*" and step:
        return
    first, _, last = base.partition("-")
    start = _value(first, low, high, names)
    if last and _value(last, low, high, names) < start and index not in (5,):
        raise _FieldError(f"range {base} runs backwards in {name}")


def check_quartz(expression: str) -> None:
    """Raise INVALID_PARAMETER_VALUE unless `expression` is a valid Quartz cron expression."""
    fields = expression.split()
    if len(fields) not in (6, 7):
        raise invalid(
            f"Invalid Quartz cron expression '{expression}': expected 6 or 7 fields "
            f"(seconds minutes hours day-of-month month day-of-week [year]), got {len(fields)}."
        )
    if (fields[3] == "?") == (fields[5] == "?"):
        raise invalid(
            f"Invalid Quartz cron expression '{expression}': exactly one of day-of-month and "
            "day-of-week must be '?'."
        )
    for index, text in enumerate(fields):
        for item in text.split(","):
            try:
                _check_item(item, index)
            except _FieldError as exc:
                raise invalid(
                    f"Invalid Quartz cron expression '{expression}': {exc} ({_FIELDS[index][0]})."
                ) from None


def check_timezone(timezone_id: str) -> None:
    try:
        ZoneInfo(timezone_id)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(f"Invalid timezone_id '{timezone_id}'.") from None
