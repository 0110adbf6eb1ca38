"""Schedules: Unix 5-field cron converted to the Quartz form Databricks jobs take."""

from __future__ import annotations

import re

from sharepack.errors import SharePackError

_UNIX_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
_QUARTZ_FIELD = re.compile(r"^[0-9A-Za-z*?/,\-#LW]+$")
_UNIX_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_NAMES = ("minute", "hour", "day of month", "month", "day of week")


class CronError(SharePackError):
    """The cron expression is invalid."""


def _check_unix_field(value: str, index: int) -> None:
    if not _UNIX_FIELD.match(value):
        raise CronError(f"invalid {_NAMES[index]} field '{value}'")
    low, high = _UNIX_RANGES[index]
    for number in re.findall(r"\d+", re.sub(r"/\d+", "", value)):
        if not low <= int(number) <= high:
            raise CronError(f"{_NAMES[index]} {number} is outside {low}-{high}")


def _shift_day_of_week(value: str) -> str:
    """Unix counts Sunday as 0 (or 7); Quartz as 1."""

    def shift(match: re.Match[str]) -> str:
        return str(int(match.group()) % 7 + 1)

    head, _, step = value.partition("/")
    shifted = re.sub(r"\d+", shift, head)
    return f"{shifted}/{step}" if step else shifted


def to_quartz(expression: str) -> str:
    """A Quartz expression for `expression`: Unix 5-field is converted, Quartz is checked."""
    fields = expression.split()
    if len(fields) == 5:
        for index, value in enumerate(fields):
            _check_unix_field(value, index)
        minute, hour, day, month, weekday = fields
        if weekday == "*":
            day_of_week, day_of_month = "?", day
        elif day == "*":
            day_of_week, day_of_month = _shift_day_of_week(weekday), "?"
        else:
            raise CronError("Quartz cannot restrict both day of month and day of week")
        return f"0 {minute} {hour} {day_of_month} {month} {day_of_week}"
    if len(fields) in (6, 7):
        if not all(_QUARTZ_FIELD.match(f) for f in fields):
            raise CronError(f"'{expression}' has characters Quartz does not accept")
        if "?" not in (fields[3], fields[5]):
            raise CronError("Quartz needs '?' in day of month or day of week")
        return " ".join(fields)
    raise CronError(
        f"'{expression}' has {len(fields)} fields; expected 5 (Unix cron) or 6-7 (Quartz)"
    )
