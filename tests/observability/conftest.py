"""Traces recorded in memory, through the same batching processor sharepack exports with."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from sharepack.observability.tracing import Tracing, start
from sharepack.runtime import Runtime
from sharepack.usecases.plan_apply import read_file
from sharepack.usecases.submit import store_share_pack
from tests.api_server import TEST_OPERATOR
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"


@dataclass
class RecordedSpans:
    tracing: Tracing
    exporter: InMemorySpanExporter

    def until(
        self, done: Callable[[Sequence[ReadableSpan]], bool], seconds: float = 30
    ) -> list[ReadableSpan]:
        """The spans ended so far, once `done` says they are all there (polled, flushed)."""
        deadline = time.monotonic() + seconds
        while True:
            self.tracing.flush()
            spans = list(self.exporter.get_finished_spans())
            if done(spans):
                return spans
            assert time.monotonic() < deadline, [span.name for span in spans]
            time.sleep(0.02)


@pytest.fixture
def recorded() -> Iterator[RecordedSpans]:
    exporter = InMemorySpanExporter()
    tracing = start([exporter])
    yield RecordedSpans(tracing, exporter)
    tracing.close()


def named(spans: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def stored_example(runtime: Runtime) -> uuid.UUID:
    """The example pack stored and queued as an upload stores it; its id."""
    loaded = read_file(runtime, EXAMPLE.read_bytes(), "sharepack.yaml")
    submitted = store_share_pack(
        runtime,
        loaded,
        loaded.config.metadata.strategy,
        (),
        filename="sharepack.yaml",
        workspace_url=runtime.settings.sharepack_workspace_urls[0],
        caller=TEST_OPERATOR,
    )
    return submitted.share_pack_id
