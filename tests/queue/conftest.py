"""Queue fixtures: every contract test runs on the table queue and the in-memory queue."""

from __future__ import annotations

import pytest

from sharepack.queue.memory import InMemoryQueue
from sharepack.queue.protocol import Queue
from sharepack.queue.table import TableQueue
from sharepack.store import Database


@pytest.fixture(params=["table", "memory"])
def queue(request: pytest.FixtureRequest, database: Database) -> Queue:
    """A queue named `sharepack-processing`; `database` also backs the Units of Work."""
    if request.param == "table":
        return TableQueue(database, "sharepack-processing")
    return InMemoryQueue()
