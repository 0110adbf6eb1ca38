"""OpenTelemetry traces of a share pack's way through sharepack: the upload, its message
on the queue, the worker's run, and each HTTP call to the workspace.

Off by default: until `start_tracing` is given settings that ask for traces (see
`Settings.traces_exporters`), every span helper here does nothing at all. The trace
crosses the queue in the message itself: the enqueue writes its W3C `traceparent` into
the body, and the run that claims the message continues from it. Spans carry no secret:
no URL, query or body; a workspace call says its method, endpoint family and status.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from sharepack import __version__
from sharepack.observability.logs import log_context
from sharepack.settings import Settings
from sharepack.workspace.transport import WorkspaceCall

if TYPE_CHECKING:  # the SDK is imported when tracing starts: a process without pays nothing
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

log = logging.getLogger(__name__)

#: The keys of the W3C trace context a queue message carries (absent from older messages).
TRACE_KEYS = ("traceparent", "tracestate")
_PROPAGATOR = TraceContextTextMapPropagator()


@dataclass
class _Current:
    """The tracer sharepack's spans go to; None while tracing is off."""

    tracer: trace.Tracer | None = None
    provider: TracerProvider | None = None


_current = _Current()


class Tracing:
    """Traces being recorded and exported, from `start` until `close`."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider

    def flush(self, timeout_millis: int = 30_000) -> bool:
        """Export every span ended so far; whether it was done in time."""
        return self.provider.force_flush(timeout_millis)

    def close(self) -> None:
        """Export what is left and stop recording (tracing is off again)."""
        if _current.provider is self.provider:
            _current.tracer = _current.provider = None
        self.provider.shutdown()


def start(exporters: Iterable[SpanExporter], *, service_name: str = "sharepack") -> Tracing:
    """Record sharepack's spans from now on, sent in batches to each of `exporters`, under
    the resource `service_name` (OTEL_RESOURCE_ATTRIBUTES adds to it). It replaces tracing
    started before."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": service_name, "service.version": __version__})
    # Closed by its `Tracing`, not at interpreter exit: a test's provider ends with the test.
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    _current.provider = provider
    _current.tracer = provider.get_tracer("sharepack", __version__)
    return Tracing(provider)


def start_tracing(settings: Settings) -> Tracing | None:
    """Start the tracing `settings` ask for (`Settings.traces_exporters`); None when off."""
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    exporters: list[SpanExporter] = []
    for name in settings.traces_exporters:
        if name == "console":
            exporters.append(ConsoleSpanExporter(service_name=settings.otel_service_name))
        else:
            exporters.append(otlp_exporter(settings))
    if not exporters:
        return None
    return start(exporters, service_name=settings.otel_service_name)


def otlp_exporter(settings: Settings) -> SpanExporter:
    """OTLP over HTTP/protobuf to the settings' endpoint, with their headers."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.util.re import parse_env_headers

    secret = settings.otel_exporter_otlp_headers
    headers = parse_env_headers(secret.get_secret_value(), liberal=True) if secret else None
    endpoint = settings.otlp_traces_endpoint
    parts = urlsplit(endpoint)  # said without any user:password or query it may carry
    shown = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"
    log.info("Traces are sent over OTLP (%s) to %s", settings.otel_exporter_otlp_protocol, shown)
    return OTLPSpanExporter(endpoint=endpoint, headers=headers)


@contextmanager
def _span(
    name: str,
    kind: SpanKind,
    attributes: Mapping[str, str | int],
    *,
    parent: Mapping[str, object] | None = None,
    errors_recorded: bool = True,
) -> Iterator[Span]:
    """A span made current for the block, continuing the W3C context in `parent` when it
    carries one; `INVALID_SPAN`, and nothing done, while tracing is off."""
    tracer = _current.tracer
    if tracer is None:
        yield INVALID_SPAN
        return
    context = None
    if parent is not None:
        carrier = {key: value for key in TRACE_KEYS if isinstance(value := parent.get(key), str)}
        context = _PROPAGATOR.extract(carrier)
    with tracer.start_as_current_span(
        name,
        context=context,
        kind=kind,
        attributes=attributes,
        record_exception=errors_recorded,
        set_status_on_exception=errors_recorded,
    ) as span:
        yield span


@contextmanager
def upload_span(headers: Mapping[str, str]) -> Iterator[Span]:
    """`sharepack.upload`: the upload request, in the caller's trace when its `headers`
    carry one (`traceparent`)."""
    with _span("sharepack.upload", SpanKind.SERVER, {}, parent=headers) as span:
        yield span


@contextmanager
def enqueue_span(body: dict[str, Any], *, share_pack_id: str) -> Iterator[None]:
    """`sharepack.enqueue`: sending `body`, into which it writes its own context (keys
    `TRACE_KEYS`, only while tracing is on) for the run to continue from."""
    attributes = {"sharepack.pack_id": share_pack_id, "messaging.operation.type": "send"}
    with _span("sharepack.enqueue", SpanKind.PRODUCER, attributes):
        _PROPAGATOR.inject(body)
        yield


@contextmanager
def run_span(body: Mapping[str, Any], *, message_id: str, attempt: int) -> Iterator[None]:
    """`sharepack.run`: a worker's attempt at the message `body`, a child of the enqueue
    that sent it (a root for a message that carries no trace). Log lines within it name the
    pack and the run (`<message id>:<attempt>`), traced or not."""
    pack_id = body.get("share_pack_id")
    pack = pack_id if isinstance(pack_id, str) else None
    attributes: dict[str, str | int] = {
        "messaging.message.id": message_id,
        "sharepack.attempt": attempt,
        "messaging.operation.type": "process",
    }
    if pack is not None:
        attributes["sharepack.pack_id"] = pack
    with (
        log_context(pack_id=pack, run_id=f"{message_id}:{attempt}"),
        _span("sharepack.run", SpanKind.CONSUMER, attributes, parent=body),
    ):
        yield


def record_failure(error: BaseException) -> None:
    """Mark the current span failed by `error` (its type and message, as an event)."""
    span = trace.get_current_span()
    if span.is_recording():
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))


def mark_phase(name: str) -> None:
    """Note on the current span that a phase of the run begins (`Step 3/8: Planning`)."""
    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(name)


@contextmanager
def workspace_call_span(call: WorkspaceCall) -> Iterator[None]:
    """A `workspace.transport` listener: each HTTP exchange with a workspace is a client
    span named `<method> <endpoint family>` with its status; a 4xx, 5xx or no answer is an
    error (the exception itself is not recorded: its text names the URL)."""
    attributes = {"http.request.method": call.method, "sharepack.endpoint_family": call.family}
    name = f"{call.method} {call.family}"
    with _span(name, SpanKind.CLIENT, attributes, errors_recorded=False) as span:
        try:
            yield
        finally:
            _describe_answer(span, call)


def _describe_answer(span: Span, call: WorkspaceCall) -> None:
    if call.status is not None:
        span.set_attribute("http.response.status_code", call.status)
    failure = call.error or (str(call.status) if call.status and call.status >= 400 else None)
    if failure is not None:
        span.set_attribute("error.type", failure)
        span.set_status(Status(StatusCode.ERROR))
