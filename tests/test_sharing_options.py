"""Sharing options of a pack, through plan, apply, rollback and verify against the emulator.

Each option (an alias, history sharing with a start version, change data feed, partition
filters by value and by recipient property, a whole schema, a view, a materialized view,
recipient properties and token expiry) is applied as declared and read back through the
real SDK; applied again it plans nothing; changed, it is updated in place or replaced as
the service allows; and a run that fails after changing it puts it back as it was,
verified.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from tests.conftest import EMULATOR_TOKEN

VIEW = "prod_catalog.sales.recent_orders"
MATERIALIZED = "prod_catalog.sales.daily_totals"
EXPIRES = "2031-05-01T12:00:00Z"
EXPIRES_MS = int(datetime(2031, 5, 1, 12, tzinfo=UTC).timestamp() * 1000)
HEADER = """metadata:
  requestor: ana@example.com
  project_name: Partners
  business_line: Sales
  strategy: UPDATE
"""


def _pack(objects: str, recipient: str = "", extra_recipient: str = "") -> str:
    return f"""{HEADER}recipient:
  - name: acme
    type: D2O
    email: data@acme.example.com
{recipient or "    properties: {region: eu}"}
{extra_recipient}share:
  - name: acme_share
    recipients: [acme]
    data_objects:
{objects}"""


FULL = """      - prod_catalog.sales.transactions
      - name: prod_catalog.sales.customers
        shared_as: partner.customers
        history_data_sharing_status: ENABLED
        start_version: 0
        cdf_enabled: true
        comment: Customers of the partner's region
        partitions: "(region = CURRENT_RECIPIENT().region), (region = 'global')"
      - name: prod_catalog.sales.orders
        partitions: ["region LIKE 'eu%'"]
      - prod_catalog.finance
      - prod_catalog.sales.recent_orders
      - prod_catalog.sales.daily_totals
"""


@pytest.fixture
def client(emulator: EmulatorServer) -> WorkspaceClient:
    return WorkspaceClient(host=emulator.url, token=EMULATOR_TOKEN, auth_type="pat")


@pytest.fixture
def sharepack(
    sharepack_cli: Callable[..., tuple[int, str]], emulator: EmulatorServer
) -> Callable[..., tuple[int, dict[str, Any]]]:
    """`sharepack <command> <pack> --workspace <emulator> --json` on a pack's text."""
    emulator.add_tables(
        {"name": VIEW, "table_type": "VIEW"},
        {"name": MATERIALIZED, "table_type": "MATERIALIZED_VIEW"},
    )
    assert sharepack_cli("db", "upgrade", workspace=False)[0] == 0

    def run(command: str, text: str) -> tuple[int, dict[str, Any]]:
        code, out = sharepack_cli(command, text, "--json")
        return code, json.loads(out)

    return run


def _objects(client: WorkspaceClient) -> dict[str, dict[str, Any]]:
    """Each object's options as a recipient meets them: change data feed unset is off, a
    comment unset is none."""
    share = client.shares.get("acme_share", include_shared_data=True)
    kept = {"data_object_type", "shared_as", "history_data_sharing_status", "cdf_enabled"}
    kept |= {"start_version", "partitions", "comment"}
    return {
        o.name: {"cdf_enabled": False, **{k: v for k, v in o.as_dict().items() if k in kept}}
        | ({} if o.comment else {"comment": None})
        for o in share.objects or ()
        if o.name
    }


def test_each_option_is_applied_as_declared(sharepack: Any, client: WorkspaceClient) -> None:
    code, body = sharepack("apply", _pack(FULL))

    assert code == 0, body
    objects = _objects(client)
    assert objects["prod_catalog.sales.customers"] == {
        "data_object_type": "TABLE",
        "shared_as": "partner.customers",
        "history_data_sharing_status": "ENABLED",
        "start_version": 0,
        "cdf_enabled": True,
        "comment": "Customers of the partner's region",
        "partitions": [
            {"values": [{"name": "region", "op": "EQUAL", "recipient_property_key": "region"}]},
            {"values": [{"name": "region", "op": "EQUAL", "value": "global"}]},
        ],
    }
    assert objects["prod_catalog.sales.orders"]["partitions"] == [
        {"values": [{"name": "region", "op": "LIKE", "value": "eu%"}]}
    ]
    assert objects["prod_catalog.finance"]["data_object_type"] == "SCHEMA"
    assert objects[VIEW]["data_object_type"] == "VIEW"
    assert objects[MATERIALIZED]["data_object_type"] == "MATERIALIZED_VIEW"
    recipient = client.recipients.get("acme")
    assert recipient.properties_kvpairs is not None
    assert recipient.properties_kvpairs.properties is not None
    assert recipient.properties_kvpairs.properties["region"] == "eu"


def test_token_expiry_is_set_and_applied_again_plans_nothing(
    sharepack: Any, client: WorkspaceClient
) -> None:
    pack = _pack(FULL, recipient=f"    properties: {{region: eu}}\n    token_expiration: {EXPIRES}")
    assert sharepack("apply", pack)[0] == 0

    code, body = sharepack("plan", pack)

    assert client.recipients.get("acme").expiration_time == EXPIRES_MS
    assert code == 0, body
    assert body["actions"] == [], body


def test_options_changed_in_place_are_updates_and_an_alias_is_a_replacement(
    sharepack: Any, client: WorkspaceClient
) -> None:
    assert sharepack("apply", _pack(FULL))[0] == 0
    changed = FULL.replace("shared_as: partner.customers", "shared_as: partner.clients").replace(
        "region LIKE 'eu%'", "region LIKE 'us%'"
    )

    code, body = sharepack("plan", _pack(changed))

    assert code == 0, body
    (share,) = [r for r in body["resources"] if r["name"] == "acme_share"]
    assert share["change"] == "update"
    assert share["fields"]["prod_catalog.sales.customers.shared_as (removed and added again)"] == {
        "before": "partner.customers",
        "after": "partner.clients",
    }
    assert share["fields"]["prod_catalog.sales.orders.partitions"] == {
        "before": ["(region LIKE 'eu%')"],
        "after": ["(region LIKE 'us%')"],
    }
    kinds = [a["kind"] for a in body["actions"]]
    assert kinds == [
        "UPDATE_SHARE_OBJECTS",  # the old alias goes
        "UPDATE_SHARE_OBJECTS",  # the new one comes
        "UPDATE_SHARE_OBJECT_OPTIONS",  # the partitions change in place
    ]
    assert sharepack("apply", _pack(changed))[0] == 0
    objects = _objects(client)
    assert objects["prod_catalog.sales.customers"]["shared_as"] == "partner.clients"
    assert objects["prod_catalog.sales.orders"]["partitions"] == [
        {"values": [{"name": "region", "op": "LIKE", "value": "us%"}]}
    ]
    assert sharepack("plan", _pack(changed))[1]["actions"] == []


def test_a_failed_run_puts_every_option_back_as_it_was(
    sharepack: Any, client: WorkspaceClient, emulator: EmulatorServer
) -> None:
    assert sharepack("apply", _pack(FULL))[0] == 0
    before = _objects(client)
    changed = (
        FULL.replace("shared_as: partner.customers", "shared_as: partner.clients")
        .replace("cdf_enabled: true", "cdf_enabled: false")
        .replace("region LIKE 'eu%'", "region LIKE 'us%'")
        .replace("      - prod_catalog.finance\n", "")
    )
    late = "  - name: latecomer\n    type: D2O\n    email: l@acme.example.com\n"
    emulator.add_fault(method="PATCH", path_regex="/shares/acme_share/permissions$", status=500)

    pack = _pack(changed, extra_recipient=late)

    code, body = sharepack("apply", pack.replace("[acme]", "[acme, latecomer]"))

    assert code == 1, body
    assert body["rollback_status"] == "ROLLED_BACK", json.dumps(body, indent=1)
    assert _objects(client) == before


def test_a_partition_on_a_property_the_recipient_lacks_is_a_located_warning(
    sharepack: Any,
) -> None:
    code, body = sharepack("plan", _pack(FULL, recipient="    properties: {tier: gold}"))

    assert code == 0, body
    assert any(
        "share[0].data_objects[1].partitions[0].values[0].recipient_property_key" in w
        and "have no property 'region'" in w
        for w in body["warnings"]
    ), body["warnings"]
