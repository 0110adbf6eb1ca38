"""The Graph stand-in, started per test on 127.0.0.1, and a `GraphDirectory` signed in to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sharepack.directory.graph import GraphDirectory, GraphSettings
from tests.directory.graph_standin import GraphStandin


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[GraphStandin]:
    server = GraphStandin(tmp_path, page_size=100)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def graph_settings(standin: GraphStandin) -> GraphSettings:
    return GraphSettings(
        tenant_id=standin.tenant,
        client_id=standin.client_id,
        client_secret=standin.client_secret,
        graph_url=standin.graph_url,
        authority_host=standin.url,
        timeout_seconds=10,
        ca_bundle=str(standin.ca_bundle),
    )


@pytest.fixture
def graph(graph_settings: GraphSettings) -> Iterator[GraphDirectory]:
    with GraphDirectory(graph_settings) as directory:
        yield directory
