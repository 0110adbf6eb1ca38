"""A notice and its rendering: addresses, default next steps, subjects and escaped HTML."""

from __future__ import annotations

import pytest

from sharepack.notify.events import NotificationEvent
from sharepack.notify.templates import render_notice
from tests.notify.helpers import make_notice

SUBJECTS = {
    NotificationEvent.AWAITING_APPROVAL: "[sharepack] Awaiting your approval: acme-sales (atlas)",
    NotificationEvent.APPROVED: "[sharepack] Approved: acme-sales (atlas)",
    NotificationEvent.REJECTED: "[sharepack] Rejected: acme-sales (atlas)",
    NotificationEvent.COMPLETED: "[sharepack] Completed: acme-sales (atlas)",
    NotificationEvent.FAILED: "[sharepack] Failed: acme-sales (atlas)",
    NotificationEvent.ROLLED_BACK: "[sharepack] Rolled back: acme-sales (atlas)",
    NotificationEvent.ROLLBACK_FAILED: "[sharepack] Rollback failed: acme-sales (atlas)",
    NotificationEvent.CANCELLED: "[sharepack] Cancelled: acme-sales (atlas)",
    NotificationEvent.DRIFT_DETECTED: "[sharepack] Drift detected: acme-sales (atlas)",
}


def test_addresses_are_deduplicated_ignoring_case_in_their_first_order() -> None:
    notice = make_notice(to=("Ops@Example.com", " ana@example.com", "ops@example.com", ""))

    assert notice.to == ("Ops@Example.com", "ana@example.com")


def test_awaiting_approval_tells_how_to_approve_or_reject_this_pack() -> None:
    notice = make_notice(NotificationEvent.AWAITING_APPROVAL)

    assert f"sharepack approve {notice.share_pack_id} --comment" in notice.next_step
    assert f"sharepack reject {notice.share_pack_id} --comment" in notice.next_step


def test_a_next_step_given_is_kept_over_the_default() -> None:
    notice = make_notice(NotificationEvent.FAILED, next_step="Call the data team.")

    assert notice.next_step == "Call the data team."


@pytest.mark.parametrize("event", list(NotificationEvent))
def test_each_event_has_its_subject_and_a_body_with_the_pack_plan_and_next_step(
    event: NotificationEvent,
) -> None:
    notice = make_notice(event, detail="the detail line")

    rendered = render_notice(notice)

    assert rendered.subject == SUBJECTS[event]
    for body in (rendered.text, rendered.html):
        for shown in (
            str(notice.share_pack_id),
            "acme-sales",
            "atlas",
            "retail",
            "https://adb-1.example.net",
            "+ create recipient acme",
            "the detail line",
        ):
            assert shown in body
    assert notice.next_step in rendered.text


def test_failures_show_the_error_under_its_name_and_what_to_do() -> None:
    notice = make_notice(NotificationEvent.ROLLBACK_FAILED, detail="share sales: still there")

    text = render_notice(notice).text

    assert "ErrorMessage:\nshare sales: still there" in text
    assert "An operator must clean up what the ErrorMessage names" in text


def test_a_rejection_names_who_rejected_and_why() -> None:
    notice = make_notice(
        NotificationEvent.REJECTED, actor="lead@example.com", detail="not this quarter"
    )

    text = render_notice(notice).text

    assert "Rejected by:   lead@example.com" in text
    assert "Reason:\nnot this quarter" in text


def test_untrusted_text_is_escaped_in_html_and_kept_as_is_in_text() -> None:
    notice = make_notice(
        NotificationEvent.REJECTED,
        share_pack_name="<script>alert(1)</script>",
        detail='"><b>bold</b>',
        summary=("+ create recipient <i>x</i>",),
    )

    rendered = render_notice(notice)

    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "&#34;&gt;&lt;b&gt;bold&lt;/b&gt;" in rendered.html
    assert "+ create recipient &lt;i&gt;x&lt;/i&gt;" in rendered.html
    assert "<script>alert(1)</script>" in rendered.text


def test_a_name_with_line_breaks_cannot_add_a_header_to_the_subject() -> None:
    notice = make_notice(share_pack_name="acme\r\nBcc: everyone@example.com")

    subject = render_notice(notice).subject

    assert "\n" not in subject
    assert "\r" not in subject
    assert subject == "[sharepack] Completed: acme Bcc: everyone@example.com (atlas)"
