"""Partition filters of a share object (databricks-sdk `SharedDataObject.partitions`:
`Partition.values` of `PartitionValue` with `op` EQUAL or LIKE and a `value` or a
`recipient_property_key`): specifications are alternatives, values within one all apply."""

from __future__ import annotations

from typing import Any

from databricks_emulator.partition_filter import readable

US = {"region": "us"}


def _spec(*values: dict[str, Any]) -> dict[str, Any]:
    return {"values": list(values)}


def test_an_object_without_partitions_shares_every_file() -> None:
    assert readable(US, [], {})


def test_like_matches_sql_wildcards_on_the_whole_value() -> None:
    assert readable(US, [_spec({"name": "region", "op": "LIKE", "value": "u%"})], {})
    assert readable(US, [_spec({"name": "region", "op": "LIKE", "value": "_s"})], {})
    assert not readable(US, [_spec({"name": "region", "op": "LIKE", "value": "s%"})], {})
    assert not readable(US, [_spec({"name": "region", "op": "LIKE", "value": "u.*"})], {})


def test_any_one_specification_is_enough() -> None:
    eu = _spec({"name": "region", "op": "EQUAL", "value": "eu"})
    us = _spec({"name": "region", "op": "EQUAL", "value": "us"})

    assert readable(US, [eu, us], {})
    assert not readable(US, [eu], {})


def test_every_value_of_a_specification_must_hold() -> None:
    both = _spec(
        {"name": "region", "op": "EQUAL", "value": "us"},
        {"name": "region", "op": "LIKE", "value": "e%"},
    )

    assert not readable(US, [both], {})


def test_a_recipient_property_is_resolved_and_a_missing_one_matches_nothing() -> None:
    by_property = [_spec({"name": "region", "op": "EQUAL", "recipient_property_key": "zone"})]

    assert readable(US, by_property, {"zone": "us"})
    assert not readable(US, by_property, {"zone": "eu"})
    assert not readable(US, by_property, {})


def test_a_value_on_a_column_the_table_is_not_partitioned_by_matches_nothing() -> None:
    assert not readable(US, [_spec({"name": "country", "op": "EQUAL", "value": "us"})], {})
