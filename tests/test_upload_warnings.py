"""An upload's `ValidationWarnings` from its plan say where in the file each belongs."""

from __future__ import annotations

from sharepack.packfile import load_share_pack
from sharepack.runtime import Runtime
from sharepack.usecases.plan_apply import apply_file
from sharepack.usecases.submit import submit_share_pack
from tests.api_server import TEST_OPERATOR
from tests.conftest import EMULATOR_TOKEN

HEADER = "metadata: {requestor: ana@example.com, project_name: Feeds, business_line: Sales"
SHARE = """\
share:
  - name: orders_share
    recipients: [analyst]
    data_objects: [prod_catalog.sales.orders]
"""
FIRST = f"""{HEADER}}}
recipient:
  - {{name: analyst, type: D2O, email: a@partner.example.com, allowed_ips: [10.0.0.1]}}
{SHARE}    pipelines:
      - name: orders_feed
        source_asset: raw_catalog.sales.orders
        target_asset: prod_catalog.sales.orders
        key_columns: [order_id]
"""
#: The pipeline and the IP list left out, under prune.
PRUNED = f"""{HEADER}, strategy: UPDATE, prune: true}}
recipient:
  - {{name: analyst, type: D2O, email: a@partner.example.com}}
{SHARE}"""


def test_plan_warnings_are_located_at_what_they_are_about(runtime: Runtime) -> None:
    url = runtime.settings.sharepack_workspace_urls[0]
    assert runtime.settings.databricks_token is not None
    assert runtime.settings.databricks_token.get_secret_value() == EMULATOR_TOKEN
    first = load_share_pack(FIRST.encode(), "first.yaml")
    done = apply_file(
        runtime, first, filename="first.yaml", workspace_url=url, caller=TEST_OPERATOR
    )
    assert done.share_pack_status == "COMPLETED", done.error_message

    again = submit_share_pack(
        runtime,
        content=FIRST.encode(),
        filename="first.yaml",
        workspace_url=url,
        caller=TEST_OPERATOR,
    )
    pruned = submit_share_pack(
        runtime,
        content=PRUNED.encode(),
        filename="pruned.yaml",
        workspace_url=url,
        caller=TEST_OPERATOR,
    )

    # Beside them, each upload says the directory was not checked (no Graph configured).
    assert [(w.location, w.field) for w in again.warnings if w.field != "metadata.requestor"] == [
        ("first.yaml", "metadata.strategy")
    ]
    located = {w.field: str(w) for w in pruned.warnings if w.field != "metadata.requestor"}
    assert set(located) == {"metadata.prune", "recipient[0].allowed_ips"}
    assert located["metadata.prune"].startswith(
        "pruned.yaml, metadata.prune: Pipeline 'orders_feed' is no longer in the pack"
    )
    assert located["recipient[0].allowed_ips"].startswith(
        "pruned.yaml, recipient[0].allowed_ips: Recipient 'analyst' accepts connections only "
        "from 10.0.0.1"
    )
