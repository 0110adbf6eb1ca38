"""Reading a scrape: Prometheus' text format as {(sample name, sorted labels): value}."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of the scrape, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: Samples, name: str, **labels: str) -> float:
    """The sample's value; 0.0 when the scrape has none (a counter not yet incremented)."""
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def total(scraped: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(v for (n, found), v in scraped.items() if n == name and _has(found, labels))


def _has(found: tuple[tuple[str, str], ...], labels: Mapping[str, str]) -> bool:
    present = dict(found)
    return all(present.get(key) == wanted for key, wanted in labels.items())


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much the samples of `name` with `labels` grew between two scrapes."""
    return total(after, name, **labels) - total(before, name, **labels)
