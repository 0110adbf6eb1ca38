"""What the partner sees, through the real `delta-sharing` client, after sharepack's runs.

A pack is applied with `sharepack apply` against the emulator; the partner follows the
recipient's activation link (once), writes the profile file, and reads with the client no
one here wrote. After COMPLETED it lists exactly the pack's tables and reads their rows
(the rows of its region only, where a partition filter names its property); after a failed
run that was rolled back, and after a prune, it sees nothing more; from outside the IP
access list, with an expired token, and with a token rotated away, it gets the protocol's
refusals.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import delta_sharing
import pytest
from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from tests.conftest import EMULATOR_TOKEN
from tests.emulator.partner.profile import partner_profile, retrieve, write_profile

ORDERS = "prod_catalog.sales.orders"
CUSTOMERS = "prod_catalog.sales.customers"
RETURNS = "prod_catalog.sales.returns"


def _pack(
    *objects: str,
    strategy: str = "UPDATE",
    prune: bool = False,
    recipient: str = "properties: {region: eu}",
) -> str:
    listed = "".join(f"      - {o}\n" for o in objects)
    return f"""metadata:
  requestor: ana@example.com
  project_name: Partners
  business_line: Sales
  strategy: {strategy}
  prune: {str(prune).lower()}
recipient:
  - name: acme
    type: D2O
    email: data@acme.example.com
    {recipient}
share:
  - name: acme_share
    recipients: [acme]
    data_objects:
{listed}"""


CUSTOMERS_OF_THE_REGION = (
    f'{{name: {CUSTOMERS}, partitions: "(region = CURRENT_RECIPIENT().region)"}}'
)


@pytest.fixture
def client(emulator: EmulatorServer) -> WorkspaceClient:
    return WorkspaceClient(host=emulator.url, token=EMULATOR_TOKEN, auth_type="pat")


@pytest.fixture
def sharepack(sharepack_cli: Callable[..., tuple[int, str]]) -> Callable[..., tuple[int, str]]:
    return sharepack_cli


def _tables(profile: Path) -> set[str]:
    listed = delta_sharing.SharingClient(str(profile)).list_all_tables()
    return {f"{t.share}.{t.schema}.{t.name}" for t in listed}


def _rows(profile: Path, table: str) -> Any:
    return delta_sharing.load_as_pandas(f"{profile}#{table}")


def test_after_completed_the_partner_reads_exactly_the_packs_tables(
    sharepack: Any, client: WorkspaceClient, tmp_path: Path
) -> None:
    code, out = sharepack("apply", _pack(ORDERS, CUSTOMERS_OF_THE_REGION, strategy="NEW"))
    assert code == 0, out

    profile = partner_profile(client, "acme", tmp_path)

    assert _tables(profile) == {"acme_share.sales.orders", "acme_share.sales.customers"}
    orders = _rows(profile, "acme_share.sales.orders")
    assert len(orders) == 30
    assert set(orders["region"]) == {"us", "eu", "apac"}
    customers = _rows(profile, "acme_share.sales.customers")
    assert len(customers) == 10
    assert set(customers["region"]) == {"eu"}


def test_after_a_rollback_the_partner_sees_nothing_the_failed_run_added(
    sharepack: Any, client: WorkspaceClient, emulator: EmulatorServer, tmp_path: Path
) -> None:
    assert sharepack("apply", _pack(ORDERS, strategy="NEW"))[0] == 0
    profile = partner_profile(client, "acme", tmp_path)
    # The run adds a table, then fails granting the share to a new recipient.
    late = _pack(ORDERS, RETURNS).replace(
        "share:", "  - {name: late, type: D2O, email: l@acme.example.com}\nshare:"
    )
    emulator.add_fault(method="PATCH", path_regex="/shares/acme_share/permissions$", status=500)

    code, out = sharepack("apply", late.replace("[acme]", "[acme, late]"), "--json")

    assert code == 1, out
    assert json.loads(out)["rollback_status"] == "ROLLED_BACK"
    assert _tables(profile) == {"acme_share.sales.orders"}
    with pytest.raises(OSError, match="404"):  # the client raises requests.HTTPError
        _rows(profile, "acme_share.sales.returns")


def test_after_a_prune_the_partner_no_longer_lists_or_reads_the_table(
    sharepack: Any, client: WorkspaceClient, tmp_path: Path
) -> None:
    assert sharepack("apply", _pack(ORDERS, RETURNS, strategy="NEW"))[0] == 0
    profile = partner_profile(client, "acme", tmp_path)
    assert len(_rows(profile, "acme_share.sales.returns")) == 30

    assert sharepack("apply", _pack(ORDERS, prune=True))[0] == 0

    assert _tables(profile) == {"acme_share.sales.orders"}
    with pytest.raises(OSError, match="404"):
        _rows(profile, "acme_share.sales.returns")


def test_from_outside_the_ip_access_list_the_partner_is_refused_until_it_is_let_in(
    sharepack: Any, client: WorkspaceClient, tmp_path: Path
) -> None:
    assert sharepack("apply", _pack(ORDERS, strategy="NEW"))[0] == 0
    profile = partner_profile(client, "acme", tmp_path)

    assert sharepack("apply", _pack(ORDERS, recipient="allowed_ips: [10.0.0.0/8]"))[0] == 0
    with pytest.raises(OSError, match="403"):
        _tables(profile)

    assert sharepack("apply", _pack(ORDERS, recipient="allowed_ips: [127.0.0.1]"))[0] == 0
    assert _tables(profile) == {"acme_share.sales.orders"}


def test_a_token_the_pack_expires_is_refused(
    sharepack: Any, client: WorkspaceClient, tmp_path: Path
) -> None:
    assert sharepack("apply", _pack(ORDERS, strategy="NEW"))[0] == 0
    profile = partner_profile(client, "acme", tmp_path)

    expired = _pack(ORDERS, recipient="token_expiration: 2020-01-01T00:00:00Z")
    assert sharepack("apply", expired)[0] == 0

    with pytest.raises(OSError, match="401"):
        _tables(profile)


def test_a_rotated_token_stops_working_and_the_new_link_reads(
    sharepack: Any, client: WorkspaceClient, tmp_path: Path
) -> None:
    assert sharepack("apply", _pack(ORDERS, strategy="NEW"))[0] == 0
    old = partner_profile(client, "acme", tmp_path)

    code, out = sharepack("rotate-token", "acme", "--expire-existing-in", "0")

    assert code == 0, out
    (link,) = re.findall(r"https?://\S+/delta_sharing/retrieve_config\.html\?\S+", out)
    new = write_profile(retrieve(client, link.split("?", 1)[1]), tmp_path / "new.share")
    with pytest.raises(OSError, match="401"):
        _tables(old)
    assert _tables(new) == {"acme_share.sales.orders"}
