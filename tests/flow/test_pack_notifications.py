"""The people a pack concerns are told, by email over a real SMTP server the tests start:
its approvers when it waits for them, its requestor when it is approved, rejected,
completed, failed, rolled back or could not be rolled back. A mail server that is down
never changes a run's outcome: the notice is retried, then recorded FAILED."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.notify.outbox import NotificationDispatcher
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.usecases.approvals import decide
from tests.flow.conftest import (
    DATA_OWNERS,
    GUARD,
    OWNER_1,
    OWNER_2,
    SECURITY,
    current,
    submit_example,
    work_all,
)
from tests.notify.conftest import SmtpServer, free_port, start_smtp


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = start_smtp(free_port())
    yield server
    server.controller.stop()


def _mailing(settings: Settings, port: int, **more: object) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "notification_from_email": "sharepack@example.com",
            **more,
        }
    )


@pytest.fixture
def mailing(settings: Settings, smtp: SmtpServer) -> Iterator[Runtime]:
    """A runtime that mails through `smtp`, with no approval policy."""
    runtime = build_runtime(_mailing(settings, smtp.port))
    yield runtime
    runtime.close()


@pytest.fixture
def governed_mailing(governed: Runtime, smtp: SmtpServer) -> Iterator[Runtime]:
    """The approval policy's runtime, mailing through `smtp`; the directory lists members."""
    runtime = build_runtime(_mailing(governed.settings, smtp.port))
    with runtime.database.unit_of_work() as uow:
        for name, object_id, members in (
            ("Data owners", DATA_OWNERS, ["olivia@example.com", "omar@example.com"]),
            ("Security", SECURITY, ["sam@example.com"]),
        ):
            uow.ad_groups.create(
                created_by="tests",
                change_reason="Directory sync",
                group_name=name,
                ad_object_id=object_id,
                members=members,
            )
        uow.commit()
    yield runtime
    runtime.close()


def _deliver(runtime: Runtime) -> None:
    NotificationDispatcher(runtime.database, runtime.settings).drain(30)


def _mail(smtp: SmtpServer) -> list[tuple[set[str], str, EmailMessage]]:
    return [
        ({a.lower() for a in envelope.rcpt_tos}, str(message["Subject"]), message)
        for envelope, message in smtp.mailbox.messages()
    ]


def _parts(message: EmailMessage) -> set[str]:
    return {part.get_content_type() for part in message.walk() if not part.is_multipart()}


def test_each_step_of_an_approved_pack_reaches_the_right_people(
    governed_mailing: Runtime, emulator: EmulatorServer, smtp: SmtpServer
) -> None:
    runtime = governed_mailing
    pack_id = submit_example(runtime, emulator)
    _deliver(runtime)
    asked = _mail(smtp)
    assert [(to, subject.split(":")[0]) for to, subject, _ in asked] == [
        ({"data-owners@example.com"}, "[sharepack] Awaiting your approval"),
        ({"olivia@example.com"}, "[sharepack] Awaiting your approval"),
        ({"omar@example.com"}, "[sharepack] Awaiting your approval"),
    ]
    body = asked[0][2].get_body(("plain",))
    assert body is not None
    assert "sales-analyst" in body.get_content()  # the plan, as `sharepack plan` prints it
    assert _parts(asked[0][2]) == {"text/plain", "text/html"}

    decide(runtime, OWNER_1, pack_id, approve=True, comment="")
    decide(runtime, OWNER_2, pack_id, approve=True, comment="")
    _deliver(runtime)
    assert [to for to, _, _ in _mail(smtp)[3:]] == [{"sam@example.com"}]  # level 2 asked

    decide(runtime, GUARD, pack_id, approve=True, comment="fine")
    work_all(runtime)
    _deliver(runtime)
    told = [(to, subject.split(":")[0]) for to, subject, _ in _mail(smtp)[4:]]
    assert told == [
        ({"john.doe@example.com"}, "[sharepack] Approved"),
        ({"john.doe@example.com"}, "[sharepack] Completed"),
    ]
    assert current(runtime, pack_id).share_pack_status == "COMPLETED"


def test_a_rejection_is_told_to_the_requestor_with_the_reason(
    governed_mailing: Runtime, emulator: EmulatorServer, smtp: SmtpServer
) -> None:
    pack_id = submit_example(governed_mailing, emulator)
    decide(governed_mailing, OWNER_1, pack_id, approve=False, comment="IP range too wide")
    _deliver(governed_mailing)

    to, subject, message = _mail(smtp)[-1]
    assert to == {"john.doe@example.com"}
    assert subject.startswith("[sharepack] Rejected")
    text = message.get_body(("plain",))
    assert text is not None
    assert "IP range too wide" in text.get_content()


def test_a_run_rolled_back_is_told_as_rolled_back(
    mailing: Runtime, emulator: EmulatorServer, smtp: SmtpServer
) -> None:
    emulator.add_fault(method="PATCH", path_regex="/permissions$", status=500)
    pack_id = submit_example(mailing, emulator)

    work_all(mailing)
    _deliver(mailing)

    assert current(mailing, pack_id).rollback_status == "ROLLED_BACK"
    [(to, subject, _)] = _mail(smtp)
    assert to == {"john.doe@example.com"}
    assert subject.startswith("[sharepack] Rolled back")


def test_a_rollback_that_fails_is_told_as_such(
    mailing: Runtime, emulator: EmulatorServer, smtp: SmtpServer
) -> None:
    emulator.add_fault(method="PATCH", path_regex="/permissions$", status=500)
    emulator.add_fault(method="DELETE", path_regex="/recipients/", status=500, times=1000)
    pack_id = submit_example(mailing, emulator)

    work_all(mailing)
    _deliver(mailing)

    assert current(mailing, pack_id).rollback_status == "ROLLBACK_FAILED"
    [(to, subject, _)] = _mail(smtp)
    assert to == {"john.doe@example.com"}
    assert subject.startswith("[sharepack] Rollback failed")


def test_a_mail_server_that_is_down_leaves_the_run_completed_and_the_notice_failed(
    settings: Settings, emulator: EmulatorServer
) -> None:
    closed = free_port()  # nothing listens there
    runtime = build_runtime(
        _mailing(
            settings,
            closed,
            sharepack_notification_retry_seconds=0.01,
            sharepack_notification_max_attempts=3,
        )
    )
    try:
        pack_id = submit_example(runtime, emulator)
        work_all(runtime)
        assert current(runtime, pack_id).share_pack_status == "COMPLETED"

        dispatcher = NotificationDispatcher(runtime.database, runtime.settings)
        statuses, deadline = _attempts(runtime, pack_id), time.monotonic() + 60
        while len(statuses) < 3:
            assert time.monotonic() < deadline, statuses
            dispatcher.drain(5)
            statuses = _attempts(runtime, pack_id)
        assert statuses == ["RETRYING", "RETRYING", "FAILED"]
        assert current(runtime, pack_id).share_pack_status == "COMPLETED"
    finally:
        runtime.close()


def _attempts(runtime: Runtime, pack_id: uuid.UUID) -> list[str]:
    with runtime.database.reading() as uow:
        return [entry.delivery_status for entry in uow.notifications.for_pack(pack_id)]
