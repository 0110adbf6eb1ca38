"""Traces leave over OTLP/HTTP when OpenTelemetry's variables name an endpoint: a local
receiver, started by the test, gets the run's spans with the configured headers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from pydantic import SecretStr

from databricks_emulator.server import EmulatorServer
from sharepack.observability.tracing import start_tracing
from sharepack.running.provision import make_worker
from sharepack.runtime import Runtime
from tests.observability.conftest import stored_example


@dataclass
class Received:
    """What the receiver was sent: each POST's path, headers and body."""

    #: Header names lowercased.
    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    """An OTLP/HTTP receiver on a free loopback port: its base URL and what it got."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with received.lock:
                received.posts.append(
                    (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads what was received, not the server's log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_a_run_s_spans_are_exported_over_otlp_http_with_the_configured_headers(
    runtime: Runtime, emulator: EmulatorServer, receiver: tuple[str, Received]
) -> None:
    url, received = receiver
    settings = runtime.settings.model_copy(
        update={
            "otel_exporter_otlp_endpoint": url,
            "otel_exporter_otlp_headers": SecretStr("x-api-key=collector-key-123,x-team=data"),
            "otel_service_name": "sharepack-test",
        }
    )
    tracing = start_tracing(settings)
    assert tracing is not None
    try:
        pack_id = stored_example(runtime)
        assert make_worker(runtime).run_once()
    finally:
        tracing.close()  # exports what is left

    assert received.posts
    spans = {}
    for path, headers, body in received.posts:
        assert path == "/v1/traces"
        assert headers["content-type"] == "application/x-protobuf"
        assert (headers["x-api-key"], headers["x-team"]) == ("collector-key-123", "data")
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            assert resource["service.name"] == "sharepack-test"
            for scope_spans in resource_spans.scope_spans:
                spans.update({span.name: span for span in scope_spans.spans})
    assert {"sharepack.enqueue", "sharepack.run", "POST unity-catalog/recipients"} <= set(spans)
    run = spans["sharepack.run"]
    assert run.parent_span_id == spans["sharepack.enqueue"].span_id
    attributes = {a.key: a.value.string_value for a in run.attributes}
    assert attributes["sharepack.pack_id"] == str(pack_id)
