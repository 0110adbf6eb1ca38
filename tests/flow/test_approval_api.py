"""The approval, schedule and cancel endpoints over HTTP, as a client written for the seed's
four Status values sees them: Status stays IN_PROGRESS while a pack waits, and new fields
say why. Approvers here are API keys whose owners the directory lists in a group."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.identity.principal import Role
from sharepack.runtime import Runtime
from tests.api_server import ServedApi, make_key, running_api
from tests.flow.conftest import DATA_OWNERS, EXAMPLE, SECURITY, recipient_names


def _directory_group(runtime: Runtime, object_id: str, name: str, *members: str) -> None:
    """A group as the directory sync writes it into `ad_groups`."""
    with runtime.database.unit_of_work() as uow:
        uow.ad_groups.create(
            created_by="tests",
            change_reason="Directory sync",
            group_name=name,
            ad_object_id=object_id,
            members=list(members),
        )
        uow.commit()


@pytest.fixture
def api(governed: Runtime) -> Iterator[ServedApi]:
    _directory_group(governed, DATA_OWNERS, "Data owners", "olivia@example.com", "omar@example.com")
    _directory_group(governed, SECURITY, "Security", "sam@example.com")
    with running_api(governed) as served:
        yield served


def _key(runtime: Runtime, email: str, role: Role = Role.APPROVER) -> str:
    return make_key(runtime, role, ("Sales Operations",), owner_email=email)


def _upload(api: ServedApi, emulator: EmulatorServer, **form: str) -> httpx.Response:
    with api.client() as client:
        return client.post(
            "/workflow/sharepack/upload",
            files={"file": ("sharepack.yaml", EXAMPLE.read_bytes())},
            data=form,
            headers={"X-Workspace-URL": emulator.url},
        )


def test_a_waiting_pack_reads_in_progress_with_its_approval_state_then_completes(
    api: ServedApi, governed: Runtime, emulator: EmulatorServer
) -> None:
    uploaded = _upload(api, emulator)
    assert uploaded.status_code == 202, uploaded.text
    assert uploaded.json()["Status"] == "IN_PROGRESS"
    assert uploaded.json()["ApprovalState"] == "AWAITING_APPROVAL"
    assert "Awaiting approval: 0 of 2" in uploaded.json()["Message"]
    pack_id = uploaded.json()["SharePackId"]
    with api.client() as client:
        status = client.get(f"/workflow/sharepack/{pack_id}").json()
        assert status["Status"] == "IN_PROGRESS"
        assert status["ApprovalState"] == "AWAITING_APPROVAL"
        assert status["ProvisioningStatus"] == "Awaiting approval: 0 of 2 (level 1: data-owners)"
        inbox = client.get("/workflow/approvals").json()
        assert [p["SharePackId"] for p in inbox] == [pack_id]
        approval = client.get(f"/workflow/sharepack/{pack_id}/approval").json()
        assert any("sales-analyst" in line for line in approval["Plan"])

    for email in ("olivia@example.com", "omar@example.com", "sam@example.com"):
        with api.client(key=_key(governed, email)) as approver:
            answer = approver.post(f"/workflow/sharepack/{pack_id}/approve", json={"Comment": "ok"})
            assert answer.status_code == 200, answer.text

    ended = api.ended(pack_id)
    assert ended["Status"] == "COMPLETED", ended
    assert ended["ApprovalState"] == "APPROVED"
    assert "sales-analyst" in recipient_names(emulator)


def test_refused_decisions_answer_403_409_and_400(
    api: ServedApi, governed: Runtime, emulator: EmulatorServer
) -> None:
    pack_id = _upload(api, emulator).json()["SharePackId"]
    outsider = _key(governed, "eve@example.com")
    requestor = _key(governed, "john.doe@example.com")

    with api.client(key=outsider) as client:
        refused = client.post(f"/workflow/sharepack/{pack_id}/approve", json={})
        assert refused.status_code == 403
        assert refused.json()["ErrorCode"] == "FORBIDDEN"
    with api.client(key=requestor) as client:
        assert client.post(f"/workflow/sharepack/{pack_id}/approve", json={}).status_code == 403
    with api.client(key=_key(governed, "olivia@example.com")) as client:
        no_reason = client.post(f"/workflow/sharepack/{pack_id}/reject", json={"Comment": " "})
        assert no_reason.status_code == 400
        rejected = client.post(
            f"/workflow/sharepack/{pack_id}/reject", json={"Comment": "wrong partner"}
        )
        assert rejected.status_code == 200
        assert rejected.json()["ApprovalState"] == "REJECTED"
        again = client.post(f"/workflow/sharepack/{pack_id}/approve", json={})
        assert again.status_code == 409
        assert again.json()["ErrorCode"] == "CONFLICT"
    status = httpx.get(
        f"{api}/workflow/sharepack/{pack_id}", headers=api.headers, timeout=30
    ).json()
    assert status["Status"] == "FAILED"
    assert status["ErrorMessage"].startswith("Rejected by key:")
    assert status["ErrorMessage"].endswith(": wrong partner")


def test_an_upload_scheduled_for_later_can_be_cancelled_and_never_runs(
    api: ServedApi, emulator: EmulatorServer
) -> None:
    later = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    uploaded = _upload(api, emulator, not_before=later)
    pack_id = uploaded.json()["SharePackId"]
    with api.client() as client:
        status = client.get(f"/workflow/sharepack/{pack_id}").json()
        assert status["NotBefore"] is not None
        cancelled = client.post(f"/workflow/sharepack/{pack_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["Status"] == "FAILED"
        assert cancelled.json()["ErrorMessage"].startswith("Cancelled by key:")
        assert client.post(f"/workflow/sharepack/{pack_id}/cancel").status_code == 409
    assert "sales-analyst" not in recipient_names(emulator)


def test_a_not_before_that_is_not_a_time_is_a_400_and_nothing_is_stored(
    api: ServedApi, emulator: EmulatorServer
) -> None:
    answer = _upload(api, emulator, not_before="next tuesday")

    assert answer.status_code == 400
    assert "not_before 'next tuesday' is not an ISO 8601 time" in answer.json()["Message"]
