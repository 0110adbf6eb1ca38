"""A partner reads what the provider shares, with the real `delta-sharing` client.

Protocol facts from delta-io/delta-sharing PROTOCOL.md (List all Tables in a Share, Read
Data from a Table, Query Table Version, Query Table Metadata); refusal texts from the
reference server, delta-io/delta-sharing server/src/main/scala/io/delta/sharing/server/
DeltaSharingService.scala (queryTable).
"""

from __future__ import annotations

import json
from pathlib import Path

import delta_sharing
import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import sharing

from tests.emulator._support import emulator_only, wait_for_update
from tests.emulator.partner._provider import (
    Partner,
    grant,
    recipient,
    region_equals,
    schema,
    share,
    table,
)

pytestmark = emulator_only("reads the emulator's deterministic table rows")

ORDERS = "prod_catalog.sales.orders"


def test_partner_sees_exactly_the_shared_tables(client: WorkspaceClient, tmp_path: Path) -> None:
    recipient(client, "acme")
    share(
        client,
        "retail",
        table(ORDERS),
        table("prod_catalog.sales.customers", shared_as="crm.clients"),
        schema("prod_catalog.finance"),
        to="acme",
    )
    share(client, "not_for_acme", table("prod_catalog.hr.payroll"))
    partner = Partner.of(client, "acme", tmp_path)

    tables = delta_sharing.SharingClient(str(partner.profile)).list_all_tables()

    assert sorted(f"{t.share}.{t.schema}.{t.name}" for t in tables) == [
        "retail.crm.clients",
        "retail.finance.budgets",
        "retail.finance.expenses",
        "retail.finance.forecasts",
        "retail.finance.revenue",
        "retail.sales.orders",
    ]


def test_partner_loads_every_row_of_a_table_shared_whole(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    recipient(client, "acme")
    share(client, "retail", table(ORDERS), to="acme")
    partner = Partner.of(client, "acme", tmp_path)

    rows = delta_sharing.load_as_pandas(partner.url("retail.sales.orders"))

    assert sorted(rows.columns) == ["amount", "id", "name", "region"]
    assert sorted(rows["id"]) == list(range(1, 31))
    assert sorted(set(rows["region"])) == ["apac", "eu", "us"]
    assert set(rows["name"]) == {f"orders-{i:02d}" for i in range(1, 31)}


def test_partner_reads_the_same_rows_twice(client: WorkspaceClient, tmp_path: Path) -> None:
    recipient(client, "acme")
    share(client, "retail", table(ORDERS), to="acme")
    partner = Partner.of(client, "acme", tmp_path)

    first = delta_sharing.load_as_pandas(partner.url("retail.sales.orders")).sort_values("id")
    again = delta_sharing.load_as_pandas(partner.url("retail.sales.orders")).sort_values("id")

    assert first.to_dict("records") == again.to_dict("records")


def test_partition_filter_with_a_value_shares_only_that_partition(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    recipient(client, "acme")
    share(client, "retail", table(ORDERS, partitions=region_equals("us")), to="acme")
    partner = Partner.of(client, "acme", tmp_path)

    rows = delta_sharing.load_as_pandas(partner.url("retail.sales.orders"))

    assert set(rows["region"]) == {"us"}
    assert len(rows) == 10


def test_partition_filter_on_a_recipient_property_follows_the_recipient(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    recipient(client, "acme", properties={"country": "eu"})
    recipient(client, "globex", properties={"country": "apac"})
    partitions = region_equals(property_key="country")
    share(client, "retail", table(ORDERS, partitions=partitions), to="acme")
    grant(client, "retail", "globex")
    acme = Partner.of(client, "acme", tmp_path)
    globex = Partner.of(client, "globex", tmp_path)

    assert set(delta_sharing.load_as_pandas(acme.url("retail.sales.orders"))["region"]) == {"eu"}
    globex_rows = delta_sharing.load_as_pandas(globex.url("retail.sales.orders"))
    assert set(globex_rows["region"]) == {"apac"}


def test_a_recipient_without_the_property_reads_no_rows(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    recipient(client, "acme", properties={"tier": "gold"})
    partitions = region_equals(property_key="country")
    share(client, "retail", table(ORDERS, partitions=partitions), to="acme")
    partner = Partner.of(client, "acme", tmp_path)

    rows = delta_sharing.load_as_pandas(partner.url("retail.sales.orders"))

    assert rows.empty
    assert sorted(rows.columns) == ["amount", "id", "name", "region"]


def test_query_answers_ndjson_protocol_metadata_then_one_file_per_partition(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    recipient(client, "acme")
    share(client, "retail", table(ORDERS), to="acme")
    partner = Partner.of(client, "acme", tmp_path)

    answer = partner.query("/shares/retail/schemas/sales/tables/orders", {"limitHint": 1})

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    assert answer.headers["delta-table-version"] == "1"
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert lines[0] == {"protocol": {"minReaderVersion": 1}}
    assert lines[1]["metaData"]["partitionColumns"] == ["region"]
    files = [line["file"] for line in lines[2:]]
    assert sorted(f["partitionValues"]["region"] for f in files) == ["apac", "eu", "us"]
    for file in files:
        assert {"url", "id", "partitionValues", "size", "stats", "expirationTimestamp"} <= set(file)


def test_names_in_protocol_paths_are_case_insensitive(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    recipient(client, "acme")
    share(client, "retail", table(ORDERS), to="acme")
    partner = Partner.of(client, "acme", tmp_path)

    rows = delta_sharing.load_as_pandas(partner.url("RETAIL.Sales.ORDERS"))

    assert len(rows) == 30


def test_table_version_and_metadata_carry_the_version_header(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    recipient(client, "acme")
    share(client, "retail", table(ORDERS, cdf_enabled=True), to="acme")
    partner = Partner.of(client, "acme", tmp_path)
    sharing_client = delta_sharing.SharingClient(str(partner.profile))
    (shared,) = sharing_client.list_all_tables()

    metadata = partner.get("/shares/retail/schemas/sales/tables/orders/metadata")

    assert sharing_client._rest_client.query_table_version(shared).delta_table_version == 1
    head = httpx.head(
        f"{partner.endpoint}/shares/retail/schemas/sales/tables/orders/version",
        headers={"Authorization": f"Bearer {partner.token}"},
    )
    assert (head.status_code, head.headers["delta-table-version"]) == (200, "1")
    assert metadata.headers["delta-table-version"] == "1"
    meta = json.loads(metadata.text.splitlines()[1])["metaData"]
    assert meta["configuration"] == {"delta.enableChangeDataFeed": "true"}


def test_time_travel_without_history_sharing_is_refused(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    recipient(client, "acme")
    share(client, "retail", table(ORDERS), to="acme")
    partner = Partner.of(client, "acme", tmp_path)

    for body in ({"version": 1}, {"timestamp": "2026-01-01T00:00:00Z"}, {"startingVersion": 1}):
        answer = partner.query("/shares/retail/schemas/sales/tables/orders", body)
        # reference server DeltaSharingService.scala queryTable, DeltaSharingIllegalArgument
        assert answer.status_code == 400
        assert answer.json() == {
            "errorCode": "INVALID_PARAMETER_VALUE",
            "message": "Reading table by version or timestamp is not supported because history "
            "sharing is not enabled on table: retail.sales.orders",
        }


def test_starting_version_below_the_shared_start_version_is_refused(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    recipient(client, "acme")
    enabled = sharing.SharedDataObjectHistoryDataSharingStatus.ENABLED
    orders = table(ORDERS, history_data_sharing_status=enabled, start_version=1)
    share(client, "retail", orders, to="acme")
    partner = Partner.of(client, "acme", tmp_path)

    refused = partner.query("/shares/retail/schemas/sales/tables/orders", {"startingVersion": 0})
    served = partner.query("/shares/retail/schemas/sales/tables/orders", {"startingVersion": 1})

    # reference server DeltaSharingService.scala queryTable
    assert refused.status_code == 400
    assert refused.json()["message"] == "You can only query table data since version 1."
    assert served.status_code == 200
    assert served.headers["delta-table-version"] == "1"
    assert all("add" in json.loads(x) for x in served.text.splitlines()[2:])


def test_time_travel_asks_one_version_that_exists(client: WorkspaceClient, tmp_path: Path) -> None:
    recipient(client, "acme")
    enabled = sharing.SharedDataObjectHistoryDataSharingStatus.ENABLED
    share(client, "retail", table(ORDERS, history_data_sharing_status=enabled), to="acme")
    partner = Partner.of(client, "acme", tmp_path)
    path = "/shares/retail/schemas/sales/tables/orders"

    both = partner.query(path, {"version": 1, "startingVersion": 1})
    beyond = partner.query(path, {"version": 7})
    current = partner.query(path, {"version": 1})

    # reference server DeltaSharingService.scala queryTable, ErrorStrings in exceptions.scala
    assert (both.status_code, both.json()["message"]) == (
        400,
        "Please only provide one of: version,timestamp,startingVersion",
    )
    # Delta's VersionNotFoundException (delta-io/delta, DeltaErrors.scala)
    assert (beyond.status_code, beyond.json()["message"]) == (
        400,
        "Cannot time travel Delta table to version 7. Available versions: [1, 1].",
    )
    assert current.status_code == 200
    files = [json.loads(line)["file"] for line in current.text.splitlines()[2:]]
    assert {f["version"] for f in files} == {1}


def _materialise(client: WorkspaceClient, pipeline_id: str) -> None:
    update_id = client.pipelines.start_update(pipeline_id).update_id
    assert update_id
    assert wait_for_update(client, pipeline_id, update_id).value == "COMPLETED"


@pytest.mark.usefixtures("fast_pipelines")
def test_a_table_a_pipeline_materialised_is_readable_and_a_rerun_bumps_its_version(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    target = "prod_catalog.sales.daily_orders"
    created = client.pipelines.create(
        name="daily_orders",
        catalog="prod_catalog",
        schema="sales",
        configuration={"sharepack.target_asset": target},
    )
    assert created.pipeline_id
    _materialise(client, created.pipeline_id)
    recipient(client, "acme")
    enabled = sharing.SharedDataObjectHistoryDataSharingStatus.ENABLED
    share(client, "retail", table(target, history_data_sharing_status=enabled), to="acme")
    partner = Partner.of(client, "acme", tmp_path)
    path = "/shares/retail/schemas/sales/tables/daily_orders"
    before = delta_sharing.load_as_pandas(partner.url("retail.sales.daily_orders"))

    _materialise(client, created.pipeline_id)

    after = delta_sharing.load_as_pandas(partner.url("retail.sales.daily_orders"))
    assert len(before) == len(after) == 30
    assert partner.get(f"{path}/version").headers["delta-table-version"] == "2"
    assert sorted(before["amount"]) != sorted(after["amount"])
    travelled = delta_sharing.load_as_pandas(partner.url("retail.sales.daily_orders"), version=1)
    assert sorted(travelled["amount"]) == sorted(before["amount"])
