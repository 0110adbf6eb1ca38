"""An emulator kept in a state file (`EmulatorServer(state_file=...)`) keeps the partner's
side across a restart: the retrieved credential still works, its link stays used, and a
table keeps the version its pipeline gave it."""

from __future__ import annotations

from pathlib import Path

import delta_sharing
import pytest
from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from tests.emulator._support import EMULATOR_TOKEN, emulator_only, wait_for_update
from tests.emulator.partner._provider import Partner, recipient, share, table
from tests.emulator.partner.profile import activation_token

pytestmark = emulator_only("restarts an emulator")

TARGET = "prod_catalog.sales.daily_orders"
PATH = "/shares/retail/schemas/sales/tables/daily_orders"


def _client(server: EmulatorServer) -> WorkspaceClient:
    return WorkspaceClient(host=server.url, token=EMULATOR_TOKEN, auth_type="pat")


def _materialise(client: WorkspaceClient, pipeline_id: str) -> None:
    update_id = client.pipelines.start_update(pipeline_id).update_id
    assert update_id
    assert wait_for_update(client, pipeline_id, update_id).value == "COMPLETED"


def test_a_restarted_emulator_serves_the_same_partner_the_same_table_version(
    tmp_path: Path,
) -> None:
    state = tmp_path / "emulator.json"
    with EmulatorServer(token=EMULATOR_TOKEN, state_file=state, pipeline_step_ms=20) as first:
        client = _client(first)
        pipeline = client.pipelines.create(
            name="daily_orders",
            catalog="prod_catalog",
            schema="sales",
            configuration={"sharepack.target_asset": TARGET},
        ).pipeline_id
        assert pipeline
        _materialise(client, pipeline)
        _materialise(client, pipeline)
        recipient(client, "acme")
        share(client, "retail", table(TARGET), to="acme")
        partner = Partner.of(client, "acme", tmp_path)
        before = delta_sharing.load_as_pandas(partner.url("retail.sales.daily_orders"))

    with EmulatorServer(token=EMULATOR_TOKEN, state_file=state) as second:
        client = _client(second)
        after = delta_sharing.load_as_pandas(partner.url("retail.sales.daily_orders"))

        assert partner.get(f"{PATH}/version").headers["delta-table-version"] == "2"
        assert sorted(after["amount"]) == sorted(before["amount"])
        with pytest.raises(LookupError):
            activation_token(client, "acme")  # the one link was used before the restart
