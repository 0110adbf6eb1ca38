"""The activation link a rotation hands out is in the answer and nowhere else: not in any
column of any table (the audit trail included), any log line (as records, and as the JSON
lines SHAREPACK_LOG_FORMAT=json writes, the SDK's own DEBUG lines included), any span, or
the metrics. Rotated once through the API and once through the CLI, with a refusal too."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from typer.testing import CliRunner

from databricks_emulator.server import EmulatorServer
from sharepack.cli.main import app
from sharepack.identity.principal import Role
from sharepack.observability.logs import formatter_for
from sharepack.observability.tracing import start
from sharepack.runtime import Runtime
from sharepack.settings import Settings
from tests.api_server import make_key, running_api
from tests.rotate.conftest import PARTNER, rotations
from tests.test_no_secrets_on_record import _every_value as every_value


@contextmanager
def _json_log(settings: Settings) -> Iterator[io.StringIO]:
    """Every line the root logger sees, written as SHAREPACK_LOG_FORMAT=json writes it."""
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    as_json = settings.model_copy(update={"sharepack_log_format": "json"})
    handler.setFormatter(formatter_for(as_json))
    logging.getLogger().addHandler(handler)
    try:
        yield written
    finally:
        logging.getLogger().removeHandler(handler)


def _span_texts(spans: list[ReadableSpan]) -> list[str]:
    texts: list[str] = []
    for span in spans:
        texts.append(span.name)
        texts.extend(str(value) for value in (span.attributes or {}).values())
        for event in span.events:
            texts.extend(str(value) for value in (event.attributes or {}).values())
    return texts


@pytest.mark.usefixtures("operator_environment")
def test_a_rotated_link_is_only_in_the_answer(
    settings: Settings,
    runtime: Runtime,
    provisioned: EmulatorServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    exporter = InMemorySpanExporter()
    tracing = start([exporter])
    try:
        with _json_log(settings) as json_lines, running_api(runtime, with_worker=False) as api:
            outsider = make_key(runtime, Role.REQUESTOR, ("Marketing",))
            with api.client(key=outsider) as client:
                refused = client.post(
                    f"/workflow/recipients/{PARTNER}/rotate-token",
                    headers={"X-Workspace-URL": provisioned.url},
                )
            with api.client() as client:
                answer = client.post(
                    f"/workflow/recipients/{PARTNER}/rotate-token",
                    headers={"X-Workspace-URL": provisioned.url},
                    json={"ExistingTokenExpireInSeconds": 0},
                )
            by_cli = CliRunner().invoke(
                app, ["rotate-token", PARTNER, "--workspace", provisioned.url, "--json"]
            )
            metrics = httpx.get(f"{api}/metrics", timeout=30).text
        tracing.flush()
        spans = list(exporter.get_finished_spans())
        stored = every_value(runtime)
        audit = [str(entry) for entry in rotations(runtime)]
    finally:
        tracing.close()

    assert refused.status_code == 403
    assert answer.status_code == 200, answer.text
    assert by_cli.exit_code == 0, by_cli.output
    links = [answer.json()["ActivationUrl"], json.loads(by_cli.stdout)["activation_url"]]
    secrets = {secret for link in links for secret in (link, link.rsplit("?", 1)[-1])}
    records = [record.getMessage() for record in caplog.records]
    # The searches see what they search: the rotations' rows, calls and lines are there.
    assert len(audit) == 3
    assert any("rotate_token" in value for value in stored)
    assert any("rotate-token" in line for line in records)  # the SDK's DEBUG line of the call
    assert "rotate-token" in json_lines.getvalue()
    assert any(span.name.startswith("POST") or "rotate" in span.name for span in spans)
    assert "sharepack_" in metrics
    places = {
        "database": stored,
        "audit trail": audit,
        "log records": records,
        "JSON log": [json_lines.getvalue()],
        "spans": _span_texts(spans),
        "metrics": [metrics],
    }
    found = {
        where: [text for text in texts if any(secret in text for secret in secrets)]
        for where, texts in places.items()
    }
    assert {where: hits for where, hits in found.items() if hits} == {}
