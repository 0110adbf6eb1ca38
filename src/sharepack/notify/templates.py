"""A notice rendered for people: a subject, a plain-text body and an HTML body.

The bodies are Jinja2 templates shipped beside this module (`templates/`). The HTML one is
autoescaped: a pack's name or a reviewer's comment is the uploader's text, never markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from sharepack.notify.events import Notice, NotificationEvent

#: The subject's words for each event: `[sharepack] <label>: <pack> (<project>)`.
SUBJECT_LABELS: dict[NotificationEvent, str] = {
    NotificationEvent.AWAITING_APPROVAL: "Awaiting your approval",
    NotificationEvent.APPROVED: "Approved",
    NotificationEvent.REJECTED: "Rejected",
    NotificationEvent.COMPLETED: "Completed",
    NotificationEvent.FAILED: "Failed",
    NotificationEvent.ROLLED_BACK: "Rolled back",
    NotificationEvent.ROLLBACK_FAILED: "Rollback failed",
    NotificationEvent.CANCELLED: "Cancelled",
    NotificationEvent.DRIFT_DETECTED: "Drift detected",
}

#: The body's first line: what happened.
HEADLINES: dict[NotificationEvent, str] = {
    NotificationEvent.AWAITING_APPROVAL: "A share pack is waiting for your approval.",
    NotificationEvent.APPROVED: "A share pack was approved.",
    NotificationEvent.REJECTED: "A share pack was rejected; nothing was changed.",
    NotificationEvent.COMPLETED: "A share pack was applied: everything it asks for is in place.",
    NotificationEvent.FAILED: "A share pack failed.",
    NotificationEvent.ROLLED_BACK: (
        "A share pack failed and everything its run changed was put back."
    ),
    NotificationEvent.ROLLBACK_FAILED: (
        "A share pack failed and putting its changes back failed too."
    ),
    NotificationEvent.CANCELLED: "A share pack was cancelled; nothing more will be done.",
    NotificationEvent.DRIFT_DETECTED: (
        "A project's resources were changed outside sharepack since its last version."
    ),
}

_ACTOR_LABELS = {
    NotificationEvent.APPROVED: "Approved by",
    NotificationEvent.REJECTED: "Rejected by",
    NotificationEvent.CANCELLED: "Cancelled by",
}
_DETAIL_LABELS = {
    NotificationEvent.AWAITING_APPROVAL: "Approvals",
    NotificationEvent.APPROVED: "Approvals",
    NotificationEvent.REJECTED: "Reason",
    NotificationEvent.CANCELLED: "Reason",
    NotificationEvent.FAILED: "ErrorMessage",
    NotificationEvent.ROLLED_BACK: "ErrorMessage",
    NotificationEvent.ROLLBACK_FAILED: "ErrorMessage",
    NotificationEvent.DRIFT_DETECTED: "Drift",
}
#: The `subject` column holds 500 characters; a mail header line is best kept short too.
MAX_SUBJECT = 300


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("sharepack.notify", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _one_line(text: str) -> str:
    """`text` with line breaks as spaces: an uploader's name cannot start a mail header."""
    return " ".join(text.split())


def subject_of(notice: Notice) -> str:
    """`[sharepack] <what happened>: <pack name> (<project>)`, on one line."""
    label = SUBJECT_LABELS[notice.event]
    subject = _one_line(f"[sharepack] {label}: {notice.share_pack_name} ({notice.project_name})")
    return subject if len(subject) <= MAX_SUBJECT else f"{subject[: MAX_SUBJECT - 3]}..."


def render_notice(notice: Notice) -> RenderedNotice:
    """The notice's subject and its two bodies: what happened, the pack, the plan summary,
    the detail and what to do next."""
    subject = subject_of(notice)
    values = {
        "notice": notice,
        "subject": subject,
        "headline": HEADLINES[notice.event],
        "actor_label": _ACTOR_LABELS.get(notice.event, "By"),
        "detail_label": _DETAIL_LABELS.get(notice.event, "Detail"),
    }
    environment = _environment()
    text = environment.get_template("notice.txt.j2").render(values)
    html = environment.get_template("notice.html.j2").render(values)
    return RenderedNotice(subject=subject, text=text, html=html)
