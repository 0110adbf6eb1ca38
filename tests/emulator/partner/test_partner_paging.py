"""Protocol lists page with `maxResults`/`pageToken` -> `nextPageToken` (delta-io/
delta-sharing PROTOCOL.md, List Shares: "0 will return no results but `nextPageToken` may
be populated"; "`nextPageToken` will not be returned ... if there are no more results").
Bounds and refusal texts are the reference server's (delta-io/delta-sharing server/src/
main/scala/io/delta/sharing/server/SharedTableManager.scala: default and most 500,
"Acceptable values of 'maxResults' are 0 to 500, inclusive. (Default: 500)",
"invalid 'nextPageToken'").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import delta_sharing
import pytest
from databricks.sdk import WorkspaceClient

from tests.emulator._support import emulator_only
from tests.emulator.partner._provider import Partner, recipient, schema, share, table

pytestmark = emulator_only("reads the emulator's partner side")


@pytest.fixture
def partner(client: WorkspaceClient, tmp_path: Path) -> Partner:
    """`acme` holds shares s0..s4; s0 shares the 600 tables of bench_catalog.bench."""
    recipient(client, "acme")
    share(client, "s0", schema("bench_catalog.bench"), to="acme")
    for i in range(1, 5):
        share(client, f"s{i}", table("prod_catalog.sales.orders"), to="acme")
    return Partner.of(client, "acme", tmp_path)


def _walk(partner: Partner, path: str, size: int) -> tuple[list[str], int]:
    """Every item name over all pages of `path`, and how many pages it took."""
    names: list[str] = []
    params: dict[str, Any] = {"maxResults": size}
    pages = 0
    while True:
        answer = partner.get(path, **params).json()
        pages += 1
        names += [item["name"] for item in answer.get("items", [])]
        if not answer.get("nextPageToken"):
            return names, pages
        params["pageToken"] = answer["nextPageToken"]


def test_shares_page_by_max_results(partner: Partner) -> None:
    names, pages = _walk(partner, "/shares", 2)

    assert names == ["s0", "s1", "s2", "s3", "s4"]
    assert pages == 3


def test_all_tables_page_without_repeats_or_gaps(partner: Partner) -> None:
    names, pages = _walk(partner, "/shares/s0/all-tables", 250)

    assert names == [f"t{i:04d}" for i in range(600)]
    assert pages == 3


def test_the_client_follows_next_page_tokens_past_the_default_page(partner: Partner) -> None:
    first = partner.get("/shares/s0/all-tables").json()
    tables = delta_sharing.SharingClient(str(partner.profile)).list_all_tables()

    assert len(first["items"]) == 500
    assert first["nextPageToken"]
    assert len([t for t in tables if t.share == "s0"]) == 600


def test_max_results_zero_answers_no_items_and_a_token_to_go_on(partner: Partner) -> None:
    empty = partner.get("/shares", maxResults=0).json()
    rest = partner.get("/shares", pageToken=empty["nextPageToken"]).json()

    assert empty.get("items") == []
    assert [s["name"] for s in rest["items"]] == ["s0", "s1", "s2", "s3", "s4"]
    assert "nextPageToken" not in rest


@pytest.mark.parametrize("value", ["-1", "501"])
def test_max_results_out_of_bounds_is_refused(partner: Partner, value: str) -> None:
    answer = partner.get("/shares", maxResults=value)

    assert answer.status_code == 400
    assert answer.json() == {
        "errorCode": "INVALID_PARAMETER_VALUE",
        "message": "Acceptable values of 'maxResults' are 0 to 500, inclusive. (Default: 500)",
    }


def test_a_page_token_not_from_the_server_is_refused(partner: Partner) -> None:
    answer = partner.get("/shares/s0/schemas/bench/tables", pageToken="garbage!")

    assert answer.status_code == 400
    assert answer.json() == {
        "errorCode": "INVALID_PARAMETER_VALUE",
        "message": "invalid 'nextPageToken'",
    }
