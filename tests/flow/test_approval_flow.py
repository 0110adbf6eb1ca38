"""A pack the approval policy wants approved waits for its approvers, level by level, and
what is applied is exactly what they approved."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import insert, select

from databricks_emulator.server import EmulatorServer
from sharepack.errors import PackStateError, PermissionDeniedError
from sharepack.runtime import Runtime
from sharepack.store.dialect import database_now
from sharepack.store.own_tables import approval_decisions, queue_messages
from sharepack.usecases.approvals import approval_view, decide
from tests.flow.conftest import (
    GUARD,
    OWNER_1,
    OWNER_2,
    REQUESTOR,
    current,
    person,
    recipient_names,
    sdk,
    submit_example,
    with_settings,
    work_all,
)
from tests.flow.conftest import (
    SECURITY as SECURITY_ID,
)


def approve_fully(runtime: Runtime, pack_id: uuid.UUID) -> None:
    for approver in (OWNER_1, OWNER_2, GUARD):
        decide(runtime, approver, pack_id, approve=True, comment="fine")


def test_a_pack_needing_approval_waits_in_progress_and_no_worker_runs_it(
    governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(governed, emulator)

    pack = current(governed, pack_id)
    assert pack.share_pack_status == "IN_PROGRESS"  # a client of the four values keeps polling
    assert pack.approval_state == "AWAITING_APPROVAL"
    assert pack.provisioning_status is not None
    assert pack.provisioning_status.startswith("Awaiting approval: 0 of 2 (level 1: data-owners)")
    assert work_all(governed) == 0  # nothing was queued
    assert "sales-analyst" not in recipient_names(emulator)


def test_approvers_see_the_plan_as_sharepack_plan_prints_it(
    governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(governed, emulator)

    view = approval_view(governed, OWNER_1, pack_id)

    text = "\n".join(view.plan_lines)
    assert "+ recipient sales-analyst" in text
    assert "Plan: " in text
    assert [(r.level, r.group.name, r.count) for r in view.requirements] == [
        (1, "data-owners", 2),
        (2, "security", 1),
    ]


def test_levels_are_approved_in_order_then_the_pack_runs_and_completes(
    governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(governed, emulator)

    with pytest.raises(PermissionDeniedError):
        decide(governed, GUARD, pack_id, approve=True, comment="too early")  # level 2 first
    decide(governed, OWNER_1, pack_id, approve=True, comment="")
    assert current(governed, pack_id).provisioning_status == (
        "Awaiting approval: 1 of 2 (level 1: data-owners)"
    )
    decide(governed, OWNER_2, pack_id, approve=True, comment="")
    assert current(governed, pack_id).provisioning_status == (
        "Awaiting approval: 0 of 1 (level 2: security)"
    )
    decide(governed, GUARD, pack_id, approve=True, comment="checked the IP list")

    approved = current(governed, pack_id)
    assert approved.approval_state == "APPROVED"
    assert approved.share_pack_status == "IN_PROGRESS"
    assert work_all(governed) == 1
    done = current(governed, pack_id)
    assert done.share_pack_status == "COMPLETED", done.error_message
    assert "sales-analyst" in recipient_names(emulator)


def test_four_eyes_neither_the_requestor_nor_the_submitter_approves_their_own_pack(
    governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(governed, emulator)
    requestor_as_approver = person("john.doe@example.com", "3f2c9a4e-0b6d-4c1e-9f7a-2d5e8b1c0a93")

    with pytest.raises(PermissionDeniedError, match=r"(?i)requestor|own"):
        decide(governed, requestor_as_approver, pack_id, approve=True, comment="")
    with pytest.raises(PermissionDeniedError):
        decide(governed, REQUESTOR, pack_id, approve=True, comment="")
    assert current(governed, pack_id).provisioning_status == (
        "Awaiting approval: 0 of 2 (level 1: data-owners)"
    )


def test_one_person_counts_once_and_outsiders_cannot_approve(
    governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(governed, emulator)
    decide(governed, OWNER_1, pack_id, approve=True, comment="")

    with pytest.raises(PermissionDeniedError):
        decide(governed, OWNER_1, pack_id, approve=True, comment="again")
    with pytest.raises(PermissionDeniedError):
        decide(governed, person("eve@example.com"), pack_id, approve=True, comment="")
    assert current(governed, pack_id).provisioning_status == (
        "Awaiting approval: 1 of 2 (level 1: data-owners)"
    )


def test_a_rejection_ends_the_pack_failed_with_the_reason_and_nothing_changed(
    governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(governed, emulator)

    decide(governed, OWNER_1, pack_id, approve=False, comment="IP range too wide")

    pack = current(governed, pack_id)
    assert pack.share_pack_status == "FAILED"
    assert pack.approval_state == "REJECTED"
    assert pack.error_message == "Rejected by olivia@example.com: IP range too wide"
    assert pack.rollback_status == "NOT_NEEDED"
    assert work_all(governed) == 0
    assert "sales-analyst" not in recipient_names(emulator)
    with pytest.raises(PackStateError):
        decide(governed, OWNER_2, pack_id, approve=True, comment="")


def test_a_plan_changed_by_the_workspace_after_approval_is_not_applied_and_waits_again(
    governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(governed, emulator)
    approve_fully(governed, pack_id)
    # Between approval and run, someone makes the share by hand with another comment.
    sdk(emulator).shares.create("sales_q1_share", comment="made by hand")

    assert work_all(governed) == 1

    waiting = current(governed, pack_id)
    assert waiting.share_pack_status == "IN_PROGRESS"
    assert waiting.approval_state == "AWAITING_APPROVAL"
    assert waiting.provisioning_status is not None
    assert "the workspace changed after the plan was approved" in waiting.provisioning_status
    assert waiting.started_at is None
    view = approval_view(governed, OWNER_1, pack_id)
    assert any("sales_q1_share" in line for line in view.changed)
    assert "sales-analyst" not in recipient_names(emulator)  # nothing was applied
    assert sdk(emulator).shares.get("sales_q1_share").comment == "made by hand"

    decide(governed, OWNER_1, pack_id, approve=True, comment="")  # the old plan's do not count
    assert current(governed, pack_id).provisioning_status == (
        "Awaiting approval: 1 of 2 (level 1: data-owners)"
    )
    decide(governed, OWNER_2, pack_id, approve=True, comment="")
    decide(governed, person("sue@example.com", SECURITY_ID), pack_id, approve=True, comment="")
    assert current(governed, pack_id).provisioning_status == (
        "Approved by olivia@example.com, omar@example.com, sue@example.com; "
        "Step 1/8: Queued for provisioning"
    )
    assert work_all(governed) == 1
    done = current(governed, pack_id)
    assert done.share_pack_status == "COMPLETED", done.error_message
    assert sdk(emulator).shares.get("sales_q1_share").comment == "Q1 sales data"


def test_approvals_older_than_the_expiry_no_longer_count(
    governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(governed, emulator)
    digest = current(governed, pack_id).approval_plan["digest"]  # type: ignore[index]
    with governed.database.unit_of_work() as uow:
        long_ago = database_now(uow.session).replace(year=2020)
        for who in ("olivia@example.com", "omar@example.com"):
            uow.session.execute(
                insert(approval_decisions).values(
                    decision_id=uuid.uuid4(),
                    share_pack_id=pack_id,
                    plan_digest=digest,
                    level=1,
                    group_name="data-owners",
                    approver=who,
                    approver_email=who,
                    decision="APPROVED",
                    comment=None,
                    created_at=long_ago,
                )
            )
        uow.commit()

    view = approval_view(governed, GUARD, pack_id)
    assert view.progress is not None
    assert view.progress.status_line == "Awaiting approval: 0 of 2 (level 1: data-owners)"
    with pytest.raises(PermissionDeniedError):  # level 1 is not complete: no level 2 yet
        decide(governed, GUARD, pack_id, approve=True, comment="")


def test_approvals_that_expire_before_the_run_send_the_pack_back_to_wait(
    governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = submit_example(governed, emulator)
    approve_fully(governed, pack_id)
    # The worker runs later than the approvals are good for.
    late = with_settings(governed, sharepack_approval_expiry_hours=1e-9)

    assert work_all(late) == 1

    waiting = current(governed, pack_id)
    assert waiting.approval_state == "AWAITING_APPROVAL"
    assert "approvals expired" in (waiting.provisioning_status or "")
    assert "sales-analyst" not in recipient_names(emulator)


def test_a_pack_the_policy_does_not_concern_runs_as_before(
    governed: Runtime, emulator: EmulatorServer
) -> None:
    internal_only = """\
metadata:
  requestor: john.doe@example.com
  project_name: Internal
  business_line: Sales Operations
recipient:
  - name: internal-team
    type: D2D
    metastore_id: aws:us-west-2:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b
share:
  - name: internal_share
    recipients: [internal-team]
    data_objects: [prod_catalog.sales.transactions]
"""
    pack_id = submit_example(governed, emulator, text=internal_only)

    assert current(governed, pack_id).approval_state is None
    assert work_all(governed) == 1
    assert current(governed, pack_id).share_pack_status == "COMPLETED"


def test_decisions_are_append_only(governed: Runtime, emulator: EmulatorServer) -> None:
    pack_id = submit_example(governed, emulator)
    decide(governed, OWNER_1, pack_id, approve=True, comment="")

    with governed.database.unit_of_work() as uow:
        with pytest.raises(Exception, match="append-only"):
            uow.session.execute(approval_decisions.delete())
        uow.rollback()
    with governed.database.unit_of_work() as uow:
        assert len(uow.session.execute(select(approval_decisions)).all()) == 1
        assert uow.session.execute(select(queue_messages)).all() == []
