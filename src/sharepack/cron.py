"""Schedules: Unix 5-field cron converted to the Quartz form Databricks jobs take.

A Unix expression is checked field by field (ranges, steps, names) and converted; a Quartz
expression (6 or 7 fields) is checked the way Quartz's own parser checks it and is then
kept as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sharepack.errors import SharePackError

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


class CronError(SharePackError):
    """The cron expression is invalid."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    max_step: int  # Quartz refuses larger increments
    names: dict[str, int]


def _names(words: tuple[str, ...], first: int) -> dict[str, int]:
    return {word: first + index for index, word in enumerate(words)}


_MINUTE = _Field("minute", 0, 59, 59, {})
_HOUR = _Field("hour", 0, 23, 23, {})
_DAY_OF_MONTH = _Field("day of month", 1, 31, 31, {})
_MONTH = _Field("month", 1, 12, 12, _names(MONTHS, 1))
# Unix counts Sunday as 0 and also as 7; Quartz counts SUN=1 .. SAT=7.
_UNIX_DAY_OF_WEEK = _Field("day of week", 0, 7, 7, _names(DAYS, 0))
_UNIX_FIELDS = (_MINUTE, _HOUR, _DAY_OF_MONTH, _MONTH, _UNIX_DAY_OF_WEEK)

_SECOND = _Field("second", 0, 59, 59, {})
_QUARTZ_DAY_OF_WEEK = _Field("day of week", 1, 7, 7, _names(DAYS, 1))
_YEAR = _Field("year", 1970, 2099, 129, {})

_ITEM = re.compile(
    r"^(?P<start>\*|[0-9A-Z]+)(?:-(?P<end>[0-9A-Z]+))?(?:/(?P<step>[0-9]+))?$", re.IGNORECASE
)


def _number(text: str, field: _Field) -> int:
    if text.isdigit():
        value = int(text)
    elif text.upper() in field.names:
        value = field.names[text.upper()]
    else:
        raise CronError(f"invalid {field.name} value '{text}'")
    if not field.low <= value <= field.high:
        raise CronError(f"{field.name} {value} is outside {field.low}-{field.high}")
    return value


def _item(item: str, field: _Field, *, wraps: bool) -> list[int]:
    """The values one list item of a field matches; `wraps` allows Quartz's `22-2`."""
    match = _ITEM.match(item)
    if match is None:
        raise CronError(f"invalid {field.name} field '{item}'")
    start_text, end_text, step_text = match.group("start", "end", "step")
    step = 1
    if step_text is not None:
        step = int(step_text)
        if not 1 <= step <= field.max_step:
            raise CronError(f"{field.name} step {step} is outside 1-{field.max_step}")
    if start_text == "*":
        if end_text is not None:
            raise CronError(f"invalid {field.name} field '{item}'")
        return list(range(field.low, field.high + 1, step))
    start = _number(start_text, field)
    if end_text is None:
        end = field.high if step_text is not None else start
    else:
        end = _number(end_text, field)
    if end < start:
        if not wraps:
            raise CronError(f"{field.name} range {start_text}-{end_text} runs backwards")
        span = field.high - field.low + 1
        values = range(start, end + span + 1, step)
        return [field.low + (v - field.low) % span for v in values]
    return list(range(start, end + 1, step))


def _values(text: str, field: _Field, *, wraps: bool = False) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        values.update(_item(item, field, wraps=wraps))
    return values


def _names_to_numbers(text: str, field: _Field) -> str:
    """Month names as numbers, so the Quartz form is unambiguous."""
    return re.sub(r"[A-Z]{3}", lambda m: str(field.names[m.group()]), text.upper())


def _compact(values: set[int]) -> str:
    """`{1, 2, 3, 5}` -> `1-3,5`."""
    parts: list[str] = []
    ordered = sorted(values)
    start = previous = ordered[0]
    for value in [*ordered[1:], None]:
        if value is not None and value == previous + 1:
            previous = value
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if value is not None:
            start = previous = value
    return ",".join(parts)


def unix_to_quartz(fields: list[str]) -> str:
    """The Quartz form of a checked 5-field Unix expression."""
    sets = [_values(value, field) for value, field in zip(fields, _UNIX_FIELDS, strict=True)]
    minute, hour, day, month, weekday = fields
    days_of_week = {v % 7 for v in sets[4]}
    every_day_of_month = sets[2] == set(range(1, 32))
    every_day_of_week = days_of_week == set(range(7))
    month = _names_to_numbers(month, _MONTH)
    # Unix cron ANDs the two day fields when either starts with '*', and ORs them otherwise;
    # Quartz takes one of them and '?' in the other.
    if day.startswith("*") or weekday.startswith("*"):
        if every_day_of_week:
            return f"0 {minute} {hour} {day} {month} ?"
        if every_day_of_month:
            return f"0 {minute} {hour} ? {month} {_compact({d + 1 for d in days_of_week})}"
    elif every_day_of_week or every_day_of_month:
        return f"0 {minute} {hour} * {month} ?"
    raise CronError("Quartz cannot restrict both day of month and day of week")


def _check_day_of_month(text: str) -> None:
    if text == "?" or text in ("L", "LW"):
        return
    if match := re.fullmatch(r"L-(\d+)", text):
        if not 1 <= int(match.group(1)) <= 30:
            raise CronError(f"day of month offset L-{match.group(1)} is outside 1-30")
        return
    if match := re.fullmatch(r"(\d+)W", text):
        _number(match.group(1), _DAY_OF_MONTH)
        return
    _values(text, _DAY_OF_MONTH, wraps=True)


def _check_day_of_week(text: str) -> None:
    if text in ("?", "L"):
        return
    if match := re.fullmatch(r"([0-9A-Z]+)L", text):
        _number(match.group(1), _QUARTZ_DAY_OF_WEEK)
        return
    if match := re.fullmatch(r"([0-9A-Z]+)#(\d+)", text):
        _number(match.group(1), _QUARTZ_DAY_OF_WEEK)
        if not 1 <= int(match.group(2)) <= 5:
            raise CronError(f"day of week occurrence #{match.group(2)} is outside 1-5")
        return
    _values(text, _QUARTZ_DAY_OF_WEEK, wraps=True)


def check_quartz(fields: list[str]) -> None:
    """Raise `CronError` unless the 6 or 7 fields are a Quartz expression Quartz accepts."""
    second, minute, hour, day, month, weekday = fields[:6]
    for position, value in enumerate(fields):
        if "?" in value and (position not in (3, 5) or value != "?"):
            raise CronError("'?' stands alone, in day of month or day of week only")
    for value, field in ((second, _SECOND), (minute, _MINUTE), (hour, _HOUR), (month, _MONTH)):
        _values(value, field, wraps=True)
    _check_day_of_month(day.upper())
    _check_day_of_week(weekday.upper())
    if len(fields) == 7:
        _values(fields[6], _YEAR)
    if (day == "?") == (weekday == "?"):
        raise CronError("Quartz needs '?' in exactly one of day of month and day of week")


def to_quartz(expression: str) -> str:
    """A Quartz expression for `expression`: Unix 5-field is converted, Quartz is checked."""
    fields = expression.split()
    if len(fields) == 5:
        return unix_to_quartz(fields)
    if len(fields) in (6, 7):
        check_quartz(fields)
        return " ".join(fields)
    raise CronError(
        f"'{expression}' has {len(fields)} fields; expected 5 (Unix cron) or 6-7 (Quartz)"
    )
