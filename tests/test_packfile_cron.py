"""Schedules: a Unix cron is converted to Quartz, a Quartz expression is checked as Quartz does."""

from __future__ import annotations

import pytest

from sharepack.cron import CronError, to_quartz
from sharepack.packfile import SpecError, load_share_pack
from sharepack.packfile.templates import template_yaml


@pytest.mark.parametrize(
    ("unix", "quartz"),
    [
        ("0 2 * * *", "0 0 2 * * ?"),
        ("*/15 * * * *", "0 */15 * * * ?"),
        ("0 9 * * 1-5", "0 0 9 ? * 2-6"),
        ("0 0 1 * *", "0 0 0 1 * ?"),
        ("30 6 1,15 * *", "0 30 6 1,15 * ?"),
        ("0 2 * * 0", "0 0 2 ? * 1"),
        ("0 2 * * 7", "0 0 2 ? * 1"),
        ("0 2 * * 6", "0 0 2 ? * 7"),
        ("0 2 * * 0-7", "0 0 2 * * ?"),
        ("0 2 * * 5-7", "0 0 2 ? * 1,6-7"),
        ("0 2 * * */2", "0 0 2 ? * 1,3,5,7"),
        ("0 2 * * MON-FRI", "0 0 2 ? * 2-6"),
        ("0 2 * * sun", "0 0 2 ? * 1"),
        ("0 2 * JAN,jul MON", "0 0 2 ? 1,7 2"),
        ("0 2 * jan-mar *", "0 0 2 * 1-3 ?"),
        ("0 2 1-31 * 1", "0 0 2 * * ?"),  # both restricted: cron runs when either matches
        ("0 0-23/6 * * *", "0 0 0-23/6 * * ?"),
    ],
)
def test_unix_cron_becomes_quartz(unix: str, quartz: str) -> None:
    assert to_quartz(unix) == quartz


@pytest.mark.parametrize(
    ("unix", "message"),
    [
        ("*/0 * * * *", "minute step 0 is outside 1-59"),
        ("*/90 * * * *", "minute step 90 is outside 1-59"),
        ("5-1 * * * *", "minute range 5-1 runs backwards"),
        ("0 2 * * FRI-MON", "day of week range FRI-MON runs backwards"),
        ("60 2 * * *", "minute 60 is outside 0-59"),
        ("0 24 * * *", "hour 24 is outside 0-23"),
        ("0 2 0 * *", "day of month 0 is outside 1-31"),
        ("0 2 * 13 *", "month 13 is outside 1-12"),
        ("0 2 * * 8", "day of week 8 is outside 0-7"),
        ("0 2 * FOO *", "invalid month value 'FOO'"),
        ("0 MON * * *", "invalid hour value 'MON'"),
        ("0 2 * * 1-", "invalid day of week field '1-'"),
        ("0 2 1 * 1", "Quartz cannot restrict both day of month and day of week"),
        ("@daily", "'@daily' has 1 fields; expected 5 (Unix cron) or 6-7 (Quartz)"),
    ],
)
def test_invalid_unix_cron_is_refused_saying_why(unix: str, message: str) -> None:
    with pytest.raises(CronError) as caught:
        to_quartz(unix)

    assert caught.value.message == message


@pytest.mark.parametrize(
    "quartz",
    [
        "0 0 2 * * ?",
        "0 0 2 ? * MON-FRI",
        "0 0 2 * * ? 2025",
        "0 0 2 ? * *",
        "0 0 2 L * ?",
        "0 0 2 LW * ?",
        "0 0 2 L-3 * ?",
        "0 0 2 15W * ?",
        "0 0 2 ? * 6#3",
        "0 0 2 ? * FRI#2",
        "0 0 2 ? * 6L",
        "0 0 22-2 * * ?",
        "0 0/30 8-18 ? * 2-6",
        "0 0 2 ? jan,dec sun",
        "0 0 12 1 1-12/3 ? 2025-2030",
    ],
)
def test_valid_quartz_is_kept_as_written(quartz: str) -> None:
    assert to_quartz(quartz) == quartz


@pytest.mark.parametrize(
    ("quartz", "message"),
    [
        ("99 99 99 * * ?", "second 99 is outside 0-59"),
        ("0 60 2 * * ?", "minute 60 is outside 0-59"),
        ("0 0 24 * * ?", "hour 24 is outside 0-23"),
        ("0 0 2 32 * ?", "day of month 32 is outside 1-31"),
        ("0 0 2 ? 13 *", "month 13 is outside 1-12"),
        ("0 0 2 ? * 9", "day of week 9 is outside 1-7"),
        ("0 0 2 ? * 0", "day of week 0 is outside 1-7"),
        ("0 0 2 ? * 6#6", "day of week occurrence #6 is outside 1-5"),
        ("0 0 2 L-31 * ?", "day of month offset L-31 is outside 1-30"),
        ("0 0 2 * * ? 1969", "year 1969 is outside 1970-2099"),
        ("0 0/90 2 * * ?", "minute step 90 is outside 1-59"),
        ("? ? ? ? ? ?", "'?' stands alone, in day of month or day of week only"),
        ("0 0 2 * * *", "Quartz needs '?' in exactly one of day of month and day of week"),
        ("0 0 2 ? * ?", "Quartz needs '?' in exactly one of day of month and day of week"),
        ("0 0 2 1,L * ?", "invalid day of month value 'L'"),
        ("a b c d e f", "invalid second value 'a'"),
    ],
)
def test_invalid_quartz_is_refused_saying_why(quartz: str, message: str) -> None:
    with pytest.raises(CronError) as caught:
        to_quartz(quartz)

    assert caught.value.message == message


def test_an_out_of_range_quartz_cron_is_reported_at_its_place_in_the_file() -> None:
    text = template_yaml().replace('cron: "0 2 * * *"', 'cron: "0 0 2 ? * 9"')

    with pytest.raises(SpecError) as caught:
        load_share_pack(text.encode(), "p.yaml")

    assert [str(p) for p in caught.value.problems] == [
        "p.yaml:33:26, share[0].pipelines[0].schedule.cron: "
        "Invalid cron '0 0 2 ? * 9': day of week 9 is outside 1-7"
    ]


def test_a_converted_cron_lands_in_the_model() -> None:
    text = template_yaml().replace('cron: "0 2 * * *"', 'cron: "0 9 * * MON-FRI"')

    schedule = load_share_pack(text.encode(), "p.yaml").config.shares[0].pipelines[0].schedule

    assert schedule is not None
    assert (schedule.cron, schedule.timezone) == ("0 0 9 ? * 2-6", "UTC")
