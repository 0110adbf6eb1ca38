"""Log lines as operators ask for them (SHAREPACK_LOG_FORMAT): today's text, or one JSON
object per line naming the pack, the run and the trace each line belongs to.

Either way no secret is written: every line goes through `workspace.log_redaction`'s
patterns (tokens, API keys, activation links, client secrets) and has the values of the
settings' own secrets masked, its exception text included.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from opentelemetry import trace
from pydantic import SecretStr

from sharepack.settings import Settings
from sharepack.workspace.log_redaction import MASK, redact

#: Today's text lines.
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
#: A secret setting shorter than this is not masked word for word: masking every "test" or
#: "admin" would garble lines, and a secret that short is not one a log could protect.
MIN_MASKED_LENGTH = 8

_pack_id: ContextVar[str | None] = ContextVar("sharepack_log_pack_id", default=None)
_run_id: ContextVar[str | None] = ContextVar("sharepack_log_run_id", default=None)


@contextmanager
def log_context(*, pack_id: str | None = None, run_id: str | None = None) -> Iterator[None]:
    """Lines logged in the block (in this context, and in threads that copy it) name
    `pack_id` and `run_id`; one given as None keeps the value around the block."""
    tokens = [
        (var, var.set(value))
        for var, value in ((_pack_id, pack_id), (_run_id, run_id))
        if value is not None
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def secret_values(settings: Settings) -> tuple[str, ...]:
    """The values of every secret setting long enough to mask (`MIN_MASKED_LENGTH`)."""
    found = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) and len(value.get_secret_value()) >= MIN_MASKED_LENGTH:
            found.append(value.get_secret_value())
    return tuple(found)


class SecretMask:
    """Text with the redaction patterns applied and each of `secrets` masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first: a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return redact(text)


class RedactingTextFormatter(logging.Formatter):
    """`TEXT_FORMAT` lines (exception included), secrets masked."""

    def __init__(self, mask: SecretMask) -> None:
        super().__init__(TEXT_FORMAT)
        self._mask = mask

    def format(self, record: logging.LogRecord) -> str:
        return self._mask(super().format(record))


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: `time` (ISO 8601, UTC), `level`, `logger`, `message`;
    `pack_id` and `run_id` inside `log_context`, `trace_id` and `span_id` inside a span;
    `exception` (the traceback) and `stack` when the record has them. Secrets masked."""

    def __init__(self, mask: SecretMask) -> None:
        super().__init__()
        self._mask = mask

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._mask(record.getMessage()),
        }
        for key, var in (("pack_id", _pack_id), ("run_id", _run_id)):
            if (value := var.get()) is not None:
                event[key] = value
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            event["trace_id"] = format(span.trace_id, "032x")
            event["span_id"] = format(span.span_id, "016x")
        if record.exc_info:
            event["exception"] = self._mask(self.formatException(record.exc_info))
        elif record.exc_text:
            event["exception"] = self._mask(record.exc_text)
        if record.stack_info:
            event["stack"] = self._mask(self.formatStack(record.stack_info))
        return json.dumps(event, ensure_ascii=False)


def formatter_for(settings: Settings) -> logging.Formatter:
    """The formatter SHAREPACK_LOG_FORMAT names, masking the settings' secrets."""
    mask = SecretMask(secret_values(settings))
    if settings.sharepack_log_format == "json":
        return JsonLogFormatter(mask)
    return RedactingTextFormatter(mask)


def configure_logging(
    settings: Settings, *, level: int = logging.INFO, stream: IO[str] | None = None
) -> None:
    """Send the root logger's lines at `level` to `stream` (stderr) in the settings' format.
    Like `logging.basicConfig`, it leaves a root logger that already has handlers alone."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_for(settings))
    logging.basicConfig(level=level, handlers=[handler])
    # httpx logs each request's full URL at INFO; a chat webhook's URL carries its token.
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))


_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's own logging: its text lines for text logs; for JSON, its loggers stripped
    of any handler (another uvicorn in the process, the emulator's, may have set some) so
    that their lines reach the root logger's JSON handler."""
    if settings.sharepack_log_format == "json":
        propagating = {"handlers": [], "propagate": True}
        return {
            "version": 1,
            "disable_existing_loggers": False,
            "loggers": {name: propagating for name in _UVICORN_LOGGERS},
        }
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG
