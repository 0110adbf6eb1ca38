"""The API's tests: a client of the app served on a free port, with no worker, sending an
admin's API key."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sharepack.runtime import Runtime
from tests.api_server import running_api


@pytest.fixture
def client(runtime: Runtime) -> Iterator[httpx.Client]:
    with running_api(runtime, with_worker=False) as api, api.client() as client:
        yield client
