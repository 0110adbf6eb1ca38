"""What a partner sees follows the provider side at once: grants, objects and shares.

The protocol's answers for what is gone (delta-io/delta-sharing PROTOCOL.md): List Shares
answers the shares the recipient may read ("items" "may be an empty array or missing"); a
share, schema or table that does not exist answers 404. The 404 texts are the reference
server's (delta-io/delta-sharing server/src/main/scala/io/delta/sharing/server/
SharedTableManager.scala: `share '<share>' not found`, `schema '<schema>' not found`,
`[Share/Schema/Table] '<share>/<schema>/<table>' does not exist, please contact your share
provider for further information.`).
"""

from __future__ import annotations

from pathlib import Path

import delta_sharing
import pytest
from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from tests.emulator._support import emulator_only
from tests.emulator.partner._provider import (
    Partner,
    grant,
    recipient,
    remove,
    revoke,
    schema,
    share,
    table,
)

pytestmark = emulator_only("reads the emulator's partner side")

ORDERS = "prod_catalog.sales.orders"
GONE = (
    "[Share/Schema/Table] 'retail/sales/orders' does not exist, "
    "please contact your share provider for further information."
)


@pytest.fixture
def partner(client: WorkspaceClient, tmp_path: Path) -> Partner:
    """`acme`, granted `retail` (sales.orders and the finance schema)."""
    recipient(client, "acme")
    share(client, "retail", table(ORDERS), schema("prod_catalog.finance"), to="acme")
    return Partner.of(client, "acme", tmp_path)


def _tables(partner: Partner) -> list[str]:
    tables = delta_sharing.SharingClient(str(partner.profile)).list_all_tables()
    return sorted(f"{t.share}.{t.schema}.{t.name}" for t in tables)


def test_a_revoked_grant_leaves_the_partner_nothing(
    client: WorkspaceClient, partner: Partner
) -> None:
    assert len(_tables(partner)) == 5

    revoke(client, "retail", "acme")

    assert _tables(partner) == []
    assert partner.get("/shares").json() == {"items": []}
    answer = partner.query("/shares/retail/schemas/sales/tables/orders")
    assert answer.status_code == 404
    assert answer.json() == {"errorCode": "RESOURCE_DOES_NOT_EXIST", "message": GONE}
    assert partner.get("/shares/retail").json()["message"] == "share 'retail' not found"


def test_a_grant_given_later_shows_at_once(client: WorkspaceClient, partner: Partner) -> None:
    share(client, "later", table("prod_catalog.hr.employees"))
    assert "later.hr.employees" not in _tables(partner)

    grant(client, "later", "acme")

    assert "later.hr.employees" in _tables(partner)


def test_a_removed_object_disappears_and_cannot_be_read(
    client: WorkspaceClient, partner: Partner
) -> None:
    remove(client, "retail", ORDERS)

    assert "retail.sales.orders" not in _tables(partner)
    with pytest.raises(OSError, match="404"):  # the client raises requests.HTTPError
        delta_sharing.load_as_pandas(partner.url("retail.sales.orders"))
    schemas = partner.get("/shares/retail/schemas").json()
    assert schemas == {"items": [{"name": "finance", "share": "retail"}]}
    missing = partner.get("/shares/retail/schemas/sales/tables")
    assert (missing.status_code, missing.json()["message"]) == (404, "schema 'sales' not found")


def test_a_removed_schema_takes_its_tables_along(client: WorkspaceClient, partner: Partner) -> None:
    remove(client, "retail", "prod_catalog.finance")

    assert _tables(partner) == ["retail.sales.orders"]


def test_a_dropped_share_is_gone(client: WorkspaceClient, partner: Partner) -> None:
    client.shares.delete("retail")

    assert _tables(partner) == []
    assert partner.get("/shares/retail").status_code == 404
    with pytest.raises(OSError, match="404"):  # the client raises requests.HTTPError
        delta_sharing.load_as_pandas(partner.url("retail.sales.orders"))


def test_a_table_added_to_a_shared_schema_shows_at_once(
    partner: Partner, emulator: EmulatorServer
) -> None:
    emulator.add_tables("prod_catalog.finance.audits")

    assert "retail.finance.audits" in _tables(partner)
    rows = delta_sharing.load_as_pandas(partner.url("retail.finance.audits"))
    assert len(rows) == 30


def test_an_unknown_table_answers_the_protocols_404(partner: Partner) -> None:
    answer = partner.query("/shares/retail/schemas/sales/tables/nope")

    assert answer.status_code == 404
    assert answer.json()["message"] == (
        "[Share/Schema/Table] 'retail/sales/nope' does not exist, "
        "please contact your share provider for further information."
    )
