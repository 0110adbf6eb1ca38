"""Secrets out of the Databricks SDK's debug log (and out of every line `observability.logs`
writes).

At DEBUG the SDK logs every request and answer with their bodies; it masks a few field
names (`token_value`, `string_value`, ...) but not a recipient's `activation_url` (whoever
holds it can download the recipient's credential, once), nor a bearer token printed in a
header when `debug_headers` is on. sharepack's own log lines never carry them; this filter,
installed on the SDK's loggers whenever a client is made, masks them in the SDK's lines too.
"""

from __future__ import annotations

import logging
import re

MASK = "**REDACTED**"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # "activation_url": "https://.../retrieve_config.html?..." in JSON bodies, any quoting
    (
        re.compile(
            r"(?P<k>[\"']?(?:activation_url|activationUrl)[\"']?\s*[:=]\s*)[\"']?[^\s\"',}]+[\"']?"
        ),
        rf'\g<k>"{MASK}"',
    ),
    # the activation link itself, wherever it appears
    (re.compile(r"https?://\S*retrieve_config\.html\S*"), MASK),
    # a Delta Sharing credential's bearer token, as JSON
    (
        re.compile(
            r"(?P<k>[\"']?(?:bearer_token|bearerToken)[\"']?\s*[:=]\s*)[\"']?[^\s\"',}]+[\"']?"
        ),
        rf'\g<k>"{MASK}"',
    ),
    # Authorization headers and Databricks personal access tokens
    (re.compile(r"(?i)(?P<k>bearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\g<k>{MASK}"),
    (re.compile(r"\bdapi[0-9a-f]{32}(?:-\d+)?\b"), MASK),
    # sharepack's own API keys
    (re.compile(r"\bspk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\b"), MASK),
    # an OAuth client secret, as a form field (a token request's body) or JSON
    (
        re.compile(
            r"(?P<k>[\"']?(?:client_secret|clientSecret)[\"']?\s*[:=]\s*)[\"']?[^\s\"'&,}]+[\"']?"
        ),
        rf"\g<k>{MASK}",
    ),
    # an Azure Storage account key and a shared access signature, in a connection string
    (re.compile(r"(?i)(?P<k>AccountKey=)[^;\s\"']+"), rf"\g<k>{MASK}"),
    (re.compile(r"(?P<k>[?&;]sig=)[^&;\s\"']+"), rf"\g<k>{MASK}"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SecretRedactingFilter(logging.Filter):
    """Rewrites a record's message with every secret above masked; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = SecretRedactingFilter()


def install(logger_name: str = "databricks.sdk") -> None:
    """Put the filter on `logger_name` and every logger under it that exists (a filter on a
    logger applies to that logger's own records only); once each."""
    names = [logger_name] + [
        name for name in logging.root.manager.loggerDict if name.startswith(f"{logger_name}.")
    ]
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
