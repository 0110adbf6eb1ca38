"""The text a scrape of `/metrics` gets: the metrics sharepack's processes record, and
whatever collectors the caller adds (the API adds the shared state it reads at scrape time).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from sharepack.observability.metrics import instruments
from sharepack.observability.processes import forget_dead_processes, joined_metrics_dir

#: What `generate_latest` writes: Prometheus' text format, version 0.0.4.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ProcessMetrics(Collector):
    """The metrics of `observability.metrics`: summed over every process of `directory`
    (by default the metrics directory this process joined), else this process's own."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    def collect(self) -> Iterable[Metric]:
        instruments()  # every family is in the scrape, even before its first sample
        directory = self._directory or joined_metrics_dir()
        if directory is None:
            return REGISTRY.collect()
        forget_dead_processes(directory)
        summed = MultiProcessCollector(None, path=str(directory))  # type: ignore[no-untyped-call]
        metrics: Iterable[Metric] = summed.collect()  # type: ignore[no-untyped-call]
        return metrics


class Exposition:
    """A registry of its own (a process may serve more than one app) with the process
    metrics (of `directory`, see `ProcessMetrics`) and `collectors`."""

    def __init__(self, *collectors: Collector, directory: Path | None = None) -> None:
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(ProcessMetrics(directory))
        for collector in collectors:
            self._registry.register(collector)

    def render(self) -> bytes:
        """The scrape's body, in `CONTENT_TYPE`."""
        return generate_latest(self._registry)
