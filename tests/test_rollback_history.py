"""A rolled-back run's history: what existed while it ran, then what the rollback put back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from databricks_emulator.server import EmulatorServer
from sharepack.cli.main import app
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.store import ResourceRecord, SharePackRecord
from sharepack.usecases.plan_apply import apply_file, read_file
from tests.api_server import TEST_OPERATOR
from tests.conftest import EMULATOR_TOKEN

MUTATING = "POST|PATCH|PUT|DELETE"
ORDERS = "prod_catalog.sales.transactions"
CUSTOMERS = "prod_catalog.sales.customers"


def _pack(comment: str = "Partner analyst", strategy: str = "NEW") -> bytes:
    """One recipient who may read two tables, through two shares: the second share's
    grant is the last write, so the first grant has been made (and recorded) before it."""
    return f"""\
metadata:
  requestor: ops@example.com
  project_name: History
  business_line: Platform
  strategy: {strategy}
recipient:
  - {{name: partner, type: D2O, email: p@partner.example.com, comment: {comment}}}
share:
  - {{name: orders_share, recipients: [partner], data_objects: [{ORDERS}]}}
  - {{name: customers_share, recipients: [partner], data_objects: [{CUSTOMERS}]}}
""".encode()


@pytest.fixture
def serial_runtime(settings: Settings) -> Iterator[Runtime]:
    """One call at a time, so the pack's writes come in plan order and 'the last write'
    is always the second share's grant."""
    runtime = build_runtime(settings.model_copy(update={"sharepack_apply_concurrency": 1}))
    yield runtime
    runtime.close()


def _apply(runtime: Runtime, emulator: EmulatorServer, content: bytes) -> SharePackRecord:
    loaded = read_file(runtime, content, "history.yaml")
    return apply_file(
        runtime, loaded, filename="history.yaml", workspace_url=emulator.url, caller=TEST_OPERATOR
    )


#: The pack's writes: the recipient, then per share its creation, objects and grant.
WRITES = 1 + 2 * 3


def _fail_the_last_write(emulator: EmulatorServer) -> None:
    emulator.add_fault(method=MUTATING, path_regex="^/api/", nth=WRITES, status=500)


def _versions_of_pack(
    history: list[ResourceRecord], record: SharePackRecord
) -> list[ResourceRecord]:
    return [v for v in history if v.share_pack_id == record.share_pack_id]


def test_a_recipient_created_then_rolled_back_shows_both_versions_in_its_history(
    serial_runtime: Runtime, emulator: EmulatorServer
) -> None:
    _fail_the_last_write(emulator)

    record = _apply(serial_runtime, emulator, _pack())

    assert record.share_pack_status == "FAILED"
    assert record.rollback_status == "ROLLED_BACK", record.error_message
    with serial_runtime.database.unit_of_work() as uow:
        history = _versions_of_pack(uow.recipients.history(emulator.url, "partner"), record)
        live = uow.recipients.list_for_pack(record.share_pack_id)
        shares = uow.shares.list_for_pack(record.share_pack_id)
    assert [(v.version, v.is_deleted) for v in history] == [(1, False), (2, True)]
    assert history[0].change_reason.startswith(f"Provisioning {record.share_pack_name}: ")
    assert history[0].fields["recipient_contact_email"] == "p@partner.example.com"
    assert history[1].change_reason.startswith("Rollback: ")
    assert "customers_share: grants +partner" in history[1].change_reason
    assert live == []
    assert shares == []


def test_who_could_read_names_the_recipient_while_the_run_lasted_and_not_after(
    serial_runtime: Runtime,
    emulator: EmulatorServer,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _fail_the_last_write(emulator)

    record = _apply(serial_runtime, emulator, _pack())

    assert record.rollback_status == "ROLLED_BACK", record.error_message
    with serial_runtime.database.unit_of_work() as uow:
        orders = _versions_of_pack(uow.shares.history(emulator.url, "orders_share"), record)
        granted = next(v for v in orders if v.fields["recipients_attached"] == ["partner"])
        rolled_back = orders[-1]
        during = uow.queries.recipients_with_access(ORDERS, granted.effective_from)
        after = uow.queries.recipients_with_access(ORDERS, rolled_back.effective_from)
        never = uow.queries.recipients_with_access(CUSTOMERS, granted.effective_from)
    assert granted.fields["share_assets"] == [ORDERS]
    assert rolled_back.is_deleted
    assert rolled_back.change_reason.startswith("Rollback: ")
    assert during == ["partner"]
    assert after == []
    assert never == []  # the second grant failed: it never existed

    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", database_url)
    monkeypatch.setenv("DATABRICKS_TOKEN", EMULATOR_TOKEN)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    at = granted.effective_from.isoformat()
    inside = runner.invoke(app, ["access", ORDERS, "--at", at, "--json"])
    now = runner.invoke(app, ["access", ORDERS, "--json"])
    assert inside.exit_code == 0, inside.output
    assert json.loads(inside.stdout)["recipients"] == ["partner"]
    assert json.loads(now.stdout)["recipients"] == []


def test_a_recipient_an_earlier_pack_recorded_gets_that_version_back_not_a_deletion(
    serial_runtime: Runtime, emulator: EmulatorServer
) -> None:
    earlier = _apply(serial_runtime, emulator, _pack(comment="First"))
    assert earlier.share_pack_status == "COMPLETED"
    changed = _pack(comment="Second", strategy="UPDATE").replace(
        f"data_objects: [{CUSTOMERS}]".encode(),
        f"data_objects: [{CUSTOMERS}, prod_catalog.sales.products]".encode(),
    )
    emulator.add_tables("prod_catalog.sales.products")
    emulator.add_fault(method="PATCH", path_regex="/shares/customers_share$", status=500)

    record = _apply(serial_runtime, emulator, changed)

    assert record.rollback_status == "ROLLED_BACK", record.error_message
    with serial_runtime.database.unit_of_work() as uow:
        history = uow.recipients.history(emulator.url, "partner")
        current = uow.recipients.get_current(emulator.url, "partner")
        share = uow.shares.get_current(emulator.url, "orders_share")
        live = uow.recipients.list_for_pack(record.share_pack_id)
    assert [v.fields["description"] for v in history] == ["First", "Second", "First"]
    assert current is not None
    assert not current.is_deleted
    assert current.share_pack_id == earlier.share_pack_id
    assert current.change_reason.startswith("Rollback: ")
    assert share is not None
    assert share.share_pack_id == earlier.share_pack_id  # the run never changed it
    assert live == []


def test_a_run_left_in_place_keeps_its_versions_current(
    settings: Settings, emulator: EmulatorServer
) -> None:
    runtime = build_runtime(
        settings.model_copy(
            update={"sharepack_apply_concurrency": 1, "sharepack_auto_rollback": False}
        )
    )
    try:
        emulator.add_fault(
            method="PATCH", path_regex="/shares/customers_share/permissions$", status=500
        )
        record = _apply(runtime, emulator, _pack())
        with runtime.database.unit_of_work() as uow:
            recipients = [r.name for r in uow.recipients.list_for_pack(record.share_pack_id)]
            shares = {
                s.name: s.fields["recipients_attached"]
                for s in uow.shares.list_for_pack(record.share_pack_id)
            }
    finally:
        runtime.close()

    assert record.rollback_status == "LEFT_IN_PLACE"
    assert recipients == ["partner"]
    assert shares == {"customers_share": [], "orders_share": ["partner"]}
