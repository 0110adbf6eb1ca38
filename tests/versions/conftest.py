"""What the version, rollback and drift tests share: three versions of one project's pack,
the CLI as an operator runs it, and the workspace as the SDK reads it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from tests.notify.conftest import smtp_server  # noqa: F401 (a fixture the drift tests use)

PROJECT = "Versions Trial"

_HEAD = f"""\
metadata:
  requestor: john.doe@example.com
  project_name: {PROJECT}
  business_line: Sales Operations
  strategy: UPDATE
  prune: true
"""

#: r-alpha and r-beta (a TOKEN recipient), s_main with two tables granted to r-alpha.
V1 = (
    _HEAD
    + """\
recipient:
  - name: r-alpha
    type: D2O
    email: alpha@partner.example.com
    allowed_ips: [10.0.0.1]
    comment: Alpha analysts
    properties: {tier: gold}
  - name: r-beta
    type: D2O
    email: beta@partner.example.com
    allowed_ips: [10.0.0.2]
share:
  - name: s_main
    comment: Main share
    recipients: [r-alpha, r-beta]
    data_objects:
      - prod_catalog.sales.transactions
      - prod_catalog.sales.customers
"""
)

#: r-beta pruned; r-gamma and s_extra new; s_main swaps a table and grants r-gamma;
#: r-alpha gets a second IP.
V2 = (
    _HEAD
    + """\
recipient:
  - name: r-alpha
    type: D2O
    email: alpha@partner.example.com
    allowed_ips: [10.0.0.1, 10.0.0.9]
    comment: Alpha analysts
    properties: {tier: gold}
  - name: r-gamma
    type: D2O
    email: gamma@partner.example.com
    allowed_ips: [10.0.0.3]
share:
  - name: s_main
    comment: Main share
    recipients: [r-alpha, r-gamma]
    data_objects:
      - prod_catalog.sales.transactions
      - prod_catalog.sales.orders
  - name: s_extra
    recipients: [r-gamma]
    data_objects:
      - prod_catalog.finance.revenue
"""
)

#: V2 with r-delta granted s_extra too.
V3 = V2.replace(
    "  - name: r-gamma\n",
    "  - name: r-delta\n    type: D2O\n    email: delta@partner.example.com\n"
    "    allowed_ips: [10.0.0.4]\n  - name: r-gamma\n",
).replace("    recipients: [r-gamma]\n", "    recipients: [r-gamma, r-delta]\n")

Cli = Callable[..., tuple[int, str]]


@pytest.fixture
def cli(operator_environment: None, tmp_path: Path) -> Cli:
    """`sharepack ARGS...` as an operator runs it; its exit code and everything it printed
    (stdout and stderr). A pack's text as an argument stands for a file holding it."""
    from typer.testing import CliRunner

    from sharepack.cli.main import app

    count = iter(range(1000))

    def run(*args: str) -> tuple[int, str]:
        given = list(args)
        for index, arg in enumerate(given):
            if arg.startswith("metadata:"):
                path = tmp_path / f"pack{next(count)}.yaml"
                path.write_text(arg)
                given[index] = str(path)
        result = CliRunner().invoke(app, given)
        return result.exit_code, result.output

    return run


def apply_versions(cli: Cli, emulator: EmulatorServer, *texts: str) -> list[dict[str, Any]]:
    """Apply each pack in turn (each must complete); the project's versions, oldest first."""
    for text in texts:
        code, output = cli("apply", text, "--workspace", emulator.url)
        assert code == 0, output
    return list(reversed(versions(cli)))


def versions(cli: Cli) -> list[dict[str, Any]]:
    """`rollback --list --json`: newest first."""
    code, output = cli("rollback", "--list", "--project", PROJECT, "--json")
    assert code == 0, output
    listed: list[dict[str, Any]] = json.loads(output)
    return listed


def view(client: WorkspaceClient) -> dict[str, Any]:
    """The recipients and shares of the trial as the workspace holds them."""
    recipients = {
        r.name: (
            sorted(r.ip_access_list.allowed_ip_addresses or []) if r.ip_access_list else [],
            r.comment,
            sorted((p, v) for p, v in (r.properties_kvpairs.properties or {}).items())
            if r.properties_kvpairs
            else [],
        )
        for r in client.recipients.list()
        if r.name
    }
    shares = {}
    for share in client.shares.list_shares():
        assert share.name
        full = client.shares.get(share.name, include_shared_data=True)
        grants = client.shares.share_permissions(share.name)
        shares[share.name] = (
            sorted(o.name for o in full.objects or [] if o.name),
            sorted(a.principal for a in grants.privilege_assignments or [] if a.principal),
            full.comment,
        )
    return {"recipients": recipients, "shares": shares}


def change_objects(client: WorkspaceClient, share: str, *, add: str = "", remove: str = "") -> None:
    """Add or remove a table of `share` by hand, through the SDK."""
    from databricks.sdk.service.sharing import (
        SharedDataObject,
        SharedDataObjectDataObjectType,
        SharedDataObjectUpdate,
        SharedDataObjectUpdateAction,
    )

    updates = []
    if add:
        obj = SharedDataObject(name=add, data_object_type=SharedDataObjectDataObjectType.TABLE)
        updates.append(
            SharedDataObjectUpdate(action=SharedDataObjectUpdateAction.ADD, data_object=obj)
        )
    if remove:
        updates.append(
            SharedDataObjectUpdate(
                action=SharedDataObjectUpdateAction.REMOVE,
                data_object=SharedDataObject(name=remove),
            )
        )
    client.shares.update(share, updates=updates)
