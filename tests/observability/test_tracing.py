"""One upload and its run are one trace: upload -> enqueue -> run -> each workspace call,
carried across the queue in the message; nothing is recorded while tracing is off."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from databricks_emulator.server import EmulatorServer
from sharepack.errors import ConfigurationError
from sharepack.observability import tracing
from sharepack.running.provision import make_worker
from sharepack.runtime import Runtime
from sharepack.settings import Settings, load_settings
from sharepack.workspace.transport import WorkspaceCall
from tests.api_server import running_api
from tests.conftest import EMULATOR_TOKEN, REPO_ROOT
from tests.observability.conftest import RecordedSpans, named, stored_example

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"
CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
CALL_ATTRIBUTES = {
    "http.request.method",
    "sharepack.endpoint_family",
    "http.response.status_code",
    "error.type",
}


def _one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = named(spans, name)
    assert len(found) == 1, [span.name for span in spans]
    return found[0]


def _parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def _span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    span_id: int = span.context.span_id
    return span_id


def _upload_and_wait(runtime: Runtime, emulator: EmulatorServer) -> str:
    """Upload the example through the API, in the caller's trace, and wait for its run."""
    with running_api(runtime) as api:
        accepted = httpx.post(
            f"{api}/workflow/sharepack/upload",
            headers={
                **api.headers,
                "X-Workspace-URL": emulator.url,
                "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01",
            },
            files={"file": ("pack.yaml", EXAMPLE.read_bytes())},
            timeout=30,
        )
        assert accepted.status_code == 202, accepted.text
        pack_id: str = accepted.json()["SharePackId"]
        status = api.ended(pack_id)["Status"]
    assert status == "COMPLETED"
    return pack_id


def test_an_upload_and_its_run_are_one_trace_with_parent_links(
    runtime: Runtime, emulator: EmulatorServer, recorded: RecordedSpans
) -> None:
    pack_id = _upload_and_wait(runtime, emulator)

    spans = recorded.until(lambda spans: bool(named(spans, "sharepack.run")))
    upload = _one(spans, "sharepack.upload")
    enqueue = _one(spans, "sharepack.enqueue")
    run = _one(spans, "sharepack.run")
    assert {span.context.trace_id for span in spans if span.context} == {int(CLIENT_TRACE, 16)}
    assert _parent_id(upload) == int(CLIENT_SPAN, 16)  # the caller's traceparent header
    assert _parent_id(enqueue) == _span_id(upload)
    assert _parent_id(run) == _span_id(enqueue)  # across the queue, in the message
    assert (upload.kind, enqueue.kind, run.kind) == (
        SpanKind.SERVER,
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
    )
    assert upload.attributes is not None
    assert upload.attributes["sharepack.pack_id"] == pack_id
    assert run.attributes is not None
    assert run.attributes["sharepack.pack_id"] == pack_id
    assert run.attributes["sharepack.attempt"] == 1
    assert "Step 3/8: Planning changes" in [event.name for event in run.events]

    calls = [span for span in spans if span.kind is SpanKind.CLIENT]
    by_parent = {_parent_id(call) for call in calls}
    # The upload's preview reads; the run's reads and writes, made on pool threads too.
    assert by_parent == {_span_id(upload), _span_id(run)}
    run_calls = {call.name for call in calls if _parent_id(call) == _span_id(run)}
    assert {"GET unity-catalog/recipients", "POST unity-catalog/recipients"} <= run_calls


def test_a_workspace_call_span_says_method_family_and_status_but_no_url(
    runtime: Runtime, emulator: EmulatorServer, recorded: RecordedSpans
) -> None:
    workspace = runtime.workspace_for(emulator.url)
    assert workspace.read_state(shares=["no_such_share"]).shares == {}

    spans = recorded.until(lambda spans: bool(named(spans, "GET unity-catalog/shares")))
    (call,) = named(spans, "GET unity-catalog/shares")
    assert call.attributes is not None
    assert set(call.attributes) <= CALL_ATTRIBUTES
    assert dict(call.attributes) == {
        "http.request.method": "GET",
        "sharepack.endpoint_family": "unity-catalog/shares",
        "http.response.status_code": 404,
        "error.type": "404",
    }
    assert call.status.status_code is StatusCode.ERROR  # a client span's 4xx, as semconv says
    for span in spans:
        for value in (span.attributes or {}).values():
            assert EMULATOR_TOKEN not in str(value)
            assert "://" not in str(value)


@pytest.mark.parametrize("traceparent", [None, "not-a-traceparent", 7])
def test_a_message_without_a_usable_trace_context_is_run_as_a_new_trace(
    runtime: Runtime,
    emulator: EmulatorServer,
    recorded: RecordedSpans,
    traceparent: object,
) -> None:
    # Messages queued before tracing (or by a process without it) carry no traceparent.
    body: dict[str, object] = {"share_pack_id": str(uuid.uuid4())}
    if traceparent is not None:
        body["traceparent"] = traceparent
    runtime.queue.enqueue(body)

    assert make_worker(runtime).run_once()

    spans = recorded.until(lambda spans: bool(named(spans, "sharepack.run")))
    run = _one(spans, "sharepack.run")
    assert run.parent is None
    assert runtime.queue.depth() == 0


def test_with_tracing_off_messages_carry_no_trace_and_nothing_is_recorded(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    assert tracing.start_tracing(runtime.settings) is None
    stored_example(runtime)

    claimed = runtime.queue.claim(worker_id="test", lease_seconds=60)

    assert claimed is not None
    assert not set(claimed.body) & set(tracing.TRACE_KEYS)
    with tracing.workspace_call_span(WorkspaceCall("GET", "/api/2.1/x", "x")):
        pass  # no tracer: nothing to record, nothing raised


def test_a_failed_run_attempt_marks_its_span_failed(
    runtime: Runtime, emulator: EmulatorServer, recorded: RecordedSpans
) -> None:
    def failing(_: Runtime, __: uuid.UUID) -> None:
        raise RuntimeError("the database went away")

    runtime.queue.enqueue({"share_pack_id": str(uuid.uuid4())})
    worker = make_worker(runtime)
    worker.processor = failing

    assert worker.run_once()

    spans = recorded.until(lambda spans: bool(named(spans, "sharepack.run")))
    run = _one(spans, "sharepack.run")
    assert run.status.status_code is StatusCode.ERROR
    assert [event.name for event in run.events] == ["exception"]


@pytest.mark.parametrize(
    ("environment", "exporters"),
    [
        ({}, ()),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ("otlp",)),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, ("otlp",)),
        ({"OTEL_TRACES_EXPORTER": "console"}, ("console",)),
        ({"OTEL_TRACES_EXPORTER": "OTLP, console"}, ("otlp", "console")),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, ()),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, ()),
    ],
)
def test_traces_are_off_unless_opentelemetry_variables_ask(
    environment: dict[str, str], exporters: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert Settings(_env_file=None).traces_exporters == exporters


@pytest.mark.parametrize(
    ("environment", "endpoint"),
    [
        ({}, "http://localhost:4318/v1/traces"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"},
            "http://collector:4318/v1/traces",
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example/ingest",
            },
            "https://traces.example/ingest",
        ),
    ],
)
def test_the_otlp_endpoint_is_read_as_opentelemetry_defines_it(
    environment: dict[str, str], endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert Settings(_env_file=None).otlp_traces_endpoint == endpoint


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("OTEL_TRACES_EXPORTER", "zipkin", "zipkin: sharepack sends traces with otlp or console"),
        ("OTEL_TRACES_EXPORTER", "none,otlp", "none turns traces off; name it alone"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_PROTOCOL"),
    ],
)
def test_a_trace_setting_sharepack_cannot_honour_is_refused_when_settings_load(
    name: str, value: str, said: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.chdir(str(tmp_path))  # no .env of the developer's
    monkeypatch.setenv(name, value)

    with pytest.raises(ConfigurationError, match=said):
        load_settings()
