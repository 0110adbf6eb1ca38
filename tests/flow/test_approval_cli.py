"""`sharepack approvals`, `approve`, `reject` and `cancel` as an operator runs them: the
operator decides as the Databricks user the pack's workspace credentials belong to."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from databricks_emulator.emulator import CURRENT_USER
from databricks_emulator.server import EmulatorServer
from sharepack.runtime import Runtime
from tests.flow.conftest import DATA_OWNERS, current, submit_example

Cli = Callable[..., tuple[int, str]]


@pytest.fixture
def cli(
    sharepack_cli: Cli, monkeypatch: pytest.MonkeyPatch, policy_file: Path, governed: Runtime
) -> Cli:
    monkeypatch.setenv("SHAREPACK_APPROVAL_POLICY_FILE", str(policy_file))
    return sharepack_cli


def _operator_in_data_owners(runtime: Runtime) -> None:
    with runtime.database.unit_of_work() as uow:
        uow.ad_groups.create(
            created_by="tests",
            change_reason="Directory sync",
            group_name="Data owners",
            ad_object_id=DATA_OWNERS,
            members=[CURRENT_USER],
        )
        uow.commit()


def test_the_inbox_and_a_packs_plan_are_shown(
    cli: Cli, governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(governed, emulator)

    code, listed = cli("approvals", "--json", workspace=False)
    assert code == 0, listed
    assert [p["share_pack_id"] for p in json.loads(listed)["awaiting_approval"]] == [str(pack_id)]
    code, shown = cli("approvals", str(pack_id), workspace=False)
    assert code == 0, shown
    assert "Awaiting approval: 0 of 2 (level 1: data-owners)" in shown
    assert "sales-analyst" in shown
    assert "level 2: security: 0 of 1" in shown


def test_an_operator_in_the_group_approves_as_their_databricks_user(
    cli: Cli, governed: Runtime, emulator: EmulatorServer
) -> None:
    _operator_in_data_owners(governed)
    pack_id = submit_example(governed, emulator)

    code, out = cli("approve", str(pack_id), "--comment", "looked at it", "--json", workspace=False)

    assert code == 0, out
    decision = json.loads(out)["decisions"][0]
    assert decision["approver"].endswith(f"(Databricks: {CURRENT_USER})")
    assert current(governed, pack_id).provisioning_status == (
        "Awaiting approval: 1 of 2 (level 1: data-owners)"
    )
    code, _ = cli("approve", str(pack_id), workspace=False)
    assert code == 1  # one person counts once


def test_an_operator_outside_the_groups_is_refused_with_exit_1(
    cli: Cli, governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(governed, emulator)

    code, _ = cli("approve", str(pack_id), workspace=False)

    assert code == 1
    assert current(governed, pack_id).provisioning_status == (
        "Awaiting approval: 0 of 2 (level 1: data-owners)"
    )


def test_reject_needs_a_comment_and_ends_the_pack_then_cancel_is_refused(
    cli: Cli, governed: Runtime, emulator: EmulatorServer
) -> None:
    _operator_in_data_owners(governed)
    pack_id = submit_example(governed, emulator)

    code, _ = cli("reject", str(pack_id), "--comment", " ", workspace=False)
    assert code == 2
    code, out = cli("reject", str(pack_id), "--comment", "not this partner", workspace=False)
    assert code == 0, out
    pack = current(governed, pack_id)
    assert pack.share_pack_status == "FAILED"
    assert pack.error_message is not None
    assert pack.error_message.endswith(": not this partner")

    code, _ = cli("cancel", str(pack_id), workspace=False)
    assert code == 1


def test_cancel_from_the_cli_ends_a_waiting_pack(
    cli: Cli, governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(governed, emulator)

    code, out = cli("cancel", str(pack_id), workspace=False)

    assert code == 0, out
    assert "Cancelled by cli:" in out
    assert current(governed, pack_id).share_pack_status == "FAILED"
