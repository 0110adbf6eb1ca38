"""A partner reads a table's change data feed (delta-io/delta-sharing PROTOCOL.md, Read
Change Data Feed from a Table) with `delta_sharing.load_table_changes_as_pandas`.

The emulator's history: version 1 inserts the rows; a pipeline re-materialisation is the
next version, deleting the previous rows and inserting the new ones. Refusal texts are the
reference server's: delta-io/delta-sharing server/.../DeltaSharingService.scala (queryCDF:
"cdf is not enabled on table ...") and server/.../DeltaSharingCDCReader.scala ("You can
only query table changes since version ...").
"""

from __future__ import annotations

from pathlib import Path

import delta_sharing
import pytest
from databricks.sdk import WorkspaceClient

from tests.emulator._support import emulator_only, wait_for_update
from tests.emulator.partner._provider import Partner, recipient, share, table

pytestmark = emulator_only("reads the emulator's table versions")

TARGET = "prod_catalog.sales.daily_orders"


def _materialise(client: WorkspaceClient, pipeline_id: str) -> None:
    update_id = client.pipelines.start_update(pipeline_id).update_id
    assert update_id
    assert wait_for_update(client, pipeline_id, update_id).value == "COMPLETED"


@pytest.mark.usefixtures("fast_pipelines")
def test_changes_show_inserts_then_a_rewrite_as_deletes_and_inserts(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    created = client.pipelines.create(
        name="daily_orders",
        catalog="prod_catalog",
        schema="sales",
        configuration={"sharepack.target_asset": TARGET},
    )
    assert created.pipeline_id
    _materialise(client, created.pipeline_id)
    _materialise(client, created.pipeline_id)
    recipient(client, "acme")
    share(client, "retail", table(TARGET, cdf_enabled=True), to="acme")
    partner = Partner.of(client, "acme", tmp_path)

    changes = delta_sharing.load_table_changes_as_pandas(
        partner.url("retail.sales.daily_orders"), starting_version=1
    )

    counted = changes.groupby(["_commit_version", "_change_type"]).size().to_dict()
    assert counted == {(1, "insert"): 30, (2, "delete"): 30, (2, "insert"): 30}
    current = delta_sharing.load_as_pandas(partner.url("retail.sales.daily_orders"))
    inserted = changes[(changes["_commit_version"] == 2) & (changes["_change_type"] == "insert")]
    assert sorted(inserted["amount"]) == sorted(current["amount"])


def test_changes_of_a_table_without_history_sharing_are_refused(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    recipient(client, "acme")
    share(client, "retail", table("prod_catalog.sales.orders"), to="acme")
    partner = Partner.of(client, "acme", tmp_path)

    answer = partner.get("/shares/retail/schemas/sales/tables/orders/changes", startingVersion=1)

    assert answer.status_code == 400
    assert answer.json() == {
        "errorCode": "INVALID_PARAMETER_VALUE",
        "message": "cdf is not enabled on table retail.sales.orders",
    }


def test_changes_before_the_shared_start_version_are_refused(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    recipient(client, "acme")
    orders = table("prod_catalog.sales.orders", cdf_enabled=True, start_version=1)
    share(client, "retail", orders, to="acme")
    partner = Partner.of(client, "acme", tmp_path)

    answer = partner.get("/shares/retail/schemas/sales/tables/orders/changes", startingVersion=0)

    assert answer.status_code == 400
    assert answer.json()["message"] == "You can only query table changes since version 1."
