"""The API's tests: a client of the app served on a free port, with no worker."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sharepack.runtime import Runtime
from tests.api_server import running_api


@pytest.fixture
def client(runtime: Runtime) -> Iterator[httpx.Client]:
    with (
        running_api(runtime, with_worker=False) as base_url,
        httpx.Client(base_url=base_url, timeout=30) as client,
    ):
        yield client
