"""Log lines: one JSON object each when SHAREPACK_LOG_FORMAT=json, naming the pack, the run
and the trace; today's text otherwise; never a secret in either."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from databricks_emulator.server import EmulatorServer
from sharepack.identity.api_keys import parse_key
from sharepack.identity.principal import Role
from sharepack.observability.logs import (
    MIN_MASKED_LENGTH,
    configure_logging,
    formatter_for,
    log_context,
    secret_values,
    uvicorn_log_config,
)
from sharepack.observability.tracing import run_span
from sharepack.runtime import Runtime
from sharepack.settings import Settings
from sharepack.workspace.log_redaction import MASK
from tests.api_server import make_key, running_api
from tests.conftest import EMULATOR_TOKEN, REPO_ROOT
from tests.observability.conftest import RecordedSpans, named

EXAMPLE = (REPO_ROOT / "examples" / "sharepack.yaml").read_bytes()
CLIENT_SECRET = "cs~Q8d2-Xr0tVqZ7pL9mN4bK6wE1yH3uJ5aF"
GRAPH_SECRET = "gs~W7e1-Ty2uIo8pAs3dFg6hJk0lZx4cVb9nM"


def _settings(log_format: str, **secrets: str) -> Settings:
    settings = Settings(_env_file=None).model_copy(update={"sharepack_log_format": log_format})
    return settings.model_copy(update={k: SecretStr(v) for k, v in secrets.items()})


@contextmanager
def _captured(settings: Settings, caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Every line the root logger sees at DEBUG, written as `settings` ask."""
    caplog.set_level(logging.DEBUG)
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(formatter_for(settings))
    logging.getLogger().addHandler(handler)
    try:
        yield written
    finally:
        logging.getLogger().removeHandler(handler)


def _events(written: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in written.getvalue().splitlines()]


def test_a_json_line_names_its_pack_run_and_trace_and_carries_the_exception(
    caplog: pytest.LogCaptureFixture, recorded: RecordedSpans
) -> None:
    body = {"share_pack_id": "6f1c0a44-5d0e-4a8e-9d5c-0a3b7f1e2d3c"}
    with _captured(_settings("json"), caplog) as written:
        with run_span(body, message_id="m-1", attempt=2):
            try:
                raise ValueError("the plan is stale")
            except ValueError:
                logging.getLogger("sharepack.running.worker").exception("Run %s failed", "x")
        logging.getLogger("sharepack.api").info("outside any run")

    inside, outside = _events(written)
    (run,) = named(
        recorded.until(lambda spans: bool(named(spans, "sharepack.run"))), "sharepack.run"
    )
    assert run.context is not None
    assert datetime.fromisoformat(inside["time"]).utcoffset() == UTC.utcoffset(None)
    assert inside["level"] == "ERROR"
    assert inside["logger"] == "sharepack.running.worker"
    assert inside["message"] == "Run x failed"
    assert inside["pack_id"] == body["share_pack_id"]
    assert inside["run_id"] == "m-1:2"
    assert inside["trace_id"] == format(run.context.trace_id, "032x")
    assert inside["span_id"] == format(run.context.span_id, "016x")
    assert inside["exception"].endswith("ValueError: the plan is stale")
    assert set(outside) == {"time", "level", "logger", "message"}


def test_pack_and_run_are_named_without_tracing_and_restored_after_the_block(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with _captured(_settings("json"), caplog) as written:
        with log_context(pack_id="p-1", run_id="r-1"):
            with log_context(run_id="r-2"):
                logging.getLogger("t").info("nested")
            logging.getLogger("t").info("outer")
        logging.getLogger("t").info("after")

    nested, outer, after = _events(written)
    assert (nested["pack_id"], nested["run_id"]) == ("p-1", "r-2")
    assert (outer["pack_id"], outer["run_id"]) == ("p-1", "r-1")
    assert "pack_id" not in after
    assert "trace_id" not in nested  # tracing is off


def test_text_lines_stay_as_they_were(caplog: pytest.LogCaptureFixture) -> None:
    with _captured(_settings("text"), caplog) as written:
        logging.getLogger("sharepack.worker").warning("Share pack %s: lease lost", "p-1")

    assert written.getvalue() == "WARNING sharepack.worker: Share pack p-1: lease lost\n"


def test_configure_logging_writes_the_root_logger_s_lines_in_the_asked_format() -> None:
    root = logging.getLogger()
    kept, level = root.handlers[:], root.level
    root.handlers = []
    written = io.StringIO()
    try:
        configure_logging(_settings("json"), stream=written)
        logging.getLogger("sharepack.test").info("configured")
    finally:
        root.handlers, root.level = kept, level
    (event,) = _events(written)
    assert (event["level"], event["message"]) == ("INFO", "configured")


ACCOUNT_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4=="
OTHER_CLIENT_SECRET = "Aq8Q~other-app-secret-value"


def test_uvicorn_s_lines_are_json_too_even_after_another_uvicorn_set_its_own_handlers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from uvicorn.config import LOGGING_CONFIG

    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
    loggers = [logging.getLogger(name) for name in names]
    kept = [(logger.handlers[:], logger.propagate, logger.level) for logger in loggers]
    settings = _settings("json")
    try:
        logging.config.dictConfig(LOGGING_CONFIG)  # as the emulator's uvicorn leaves them
        logging.config.dictConfig(uvicorn_log_config(settings))
        with _captured(settings, caplog) as written:
            logging.getLogger("uvicorn.error").info("Started server process [1]")
            logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /health HTTP/1.1" 200')
    finally:
        for logger, (handlers, propagate, level) in zip(loggers, kept, strict=True):
            logger.handlers, logger.propagate = handlers, propagate
            logger.setLevel(level)
    assert [(e["logger"], e["message"]) for e in _events(written)] == [
        ("uvicorn.error", "Started server process [1]"),
        ("uvicorn.access", '127.0.0.1 - "GET /health HTTP/1.1" 200'),
    ]


@pytest.mark.parametrize("log_format", ["json", "text"])
@pytest.mark.parametrize(
    ("shown", "secret"),
    [
        (f"client secret {CLIENT_SECRET}", CLIENT_SECRET),  # the setting's value, anywhere
        (f"form grant_type=x&client_secret={OTHER_CLIENT_SECRET}", OTHER_CLIENT_SECRET),
        ("Authorization: Bearer dapi0123456789abcdef0123456789abcdef", "dapi0123456789abcdef"),
        ("key spk_0123456789ab_" + "A" * 43, "A" * 43),
        ("link https://ws.example/delta_sharing/retrieve_config.html?a=b1c2", "b1c2"),
        (f"queue AccountName=a;AccountKey={ACCOUNT_KEY};EndpointSuffix=x", ACCOUNT_KEY),
    ],
    ids=["client-secret-setting", "oauth-form", "bearer-token", "api-key", "activation", "queue"],
)
def test_no_secret_is_written_in_a_message_or_an_exception(
    log_format: str, shown: str, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(log_format, client_secret=CLIENT_SECRET)
    with _captured(settings, caplog) as written:
        logger = logging.getLogger("sharepack.test")
        logger.info("calling with %s", shown)
        try:
            raise RuntimeError(f"refused: {shown}")
        except RuntimeError:
            logger.exception("the call failed")

    assert "refused: " in written.getvalue()  # the exception was written
    assert secret not in written.getvalue()
    assert MASK in written.getvalue()


def test_only_secret_settings_long_enough_to_be_secrets_are_masked_word_for_word() -> None:
    settings = _settings("json", client_secret=CLIENT_SECRET, smtp_password="short")

    assert secret_values(settings) == (CLIENT_SECRET,)
    assert len("short") < MIN_MASKED_LENGTH


def _upload_and_wait(runtime: Runtime, emulator: EmulatorServer) -> tuple[str, list[str]]:
    """Upload the example and wait for its run; the pack id and the keys used."""
    requestor_key = make_key(
        runtime, Role.REQUESTOR, ("Sales Operations",), owner_email="john.doe@example.com"
    )
    with running_api(runtime) as api:
        accepted = httpx.post(
            f"{api}/workflow/sharepack/upload",
            headers={"Authorization": f"Bearer {requestor_key}", "X-Workspace-URL": emulator.url},
            files={"file": ("pack.yaml", EXAMPLE)},
            timeout=30,
        )
        assert accepted.status_code == 202, accepted.text
        pack_id: str = accepted.json()["SharePackId"]
        status = api.ended(pack_id)["Status"]
        assert status == "COMPLETED"
        return pack_id, [requestor_key, api.key]


def test_a_run_logged_as_json_at_debug_names_its_pack_everywhere_and_no_secret(
    settings: Settings,
    emulator: EmulatorServer,
    caplog: pytest.LogCaptureFixture,
    recorded: RecordedSpans,
) -> None:
    from sharepack.runtime import build_runtime

    settings = settings.model_copy(
        update={
            "sharepack_log_format": "json",
            "client_id": "sharepack-app",
            "client_secret": SecretStr(CLIENT_SECRET),
            "graph_client_secret": SecretStr(GRAPH_SECRET),
        }
    )
    runtime = build_runtime(settings)
    try:
        with _captured(settings, caplog) as written:
            pack_id, keys = _upload_and_wait(runtime, emulator)
    finally:
        runtime.close()

    events = _events(written)
    recipient = httpx.get(
        f"{emulator.url}/api/2.1/unity-catalog/recipients/sales-analyst",
        headers={"Authorization": f"Bearer {EMULATOR_TOKEN}"},
    ).json()
    activation_url = recipient["tokens"][0]["activation_url"]
    secrets = {
        "activation link": activation_url,
        "activation link's token": activation_url.rsplit("=", 1)[-1],
        "workspace token": EMULATOR_TOKEN,
        **{f"API key {i}": key for i, key in enumerate(keys)},
        **{f"API key {i}'s secret": parse_key(key).secret for i, key in enumerate(keys)},
        "client secret": CLIENT_SECRET,
        "Graph client secret": GRAPH_SECRET,
    }
    text = written.getvalue()
    assert {name for name, secret in secrets.items() if secret in text} == set()
    # The SDK's lines of the run, from the worker's thread and the apply pool's threads,
    # name the pack, the run and its trace.
    run_lines = [e for e in events if e["logger"].startswith("databricks") and "run_id" in e]
    assert {e.get("pack_id") for e in run_lines} == {pack_id}
    assert any("recipients" in e["message"] and "POST" in e["message"] for e in run_lines)
    run = named(recorded.until(lambda spans: bool(named(spans, "sharepack.run"))), "sharepack.run")
    assert run[0].context is not None
    assert {e["trace_id"] for e in run_lines} == {format(run[0].context.trace_id, "032x")}
