"""Queue fixtures: every contract test runs on the table queue, the in-memory queue and the
Azure Storage Queue (on Azurite, see `tests.queue.azurite`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import suppress

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient

from sharepack.queue.azure import AzureStorageQueue
from sharepack.queue.memory import InMemoryQueue
from sharepack.queue.protocol import Queue
from sharepack.queue.table import TableQueue
from sharepack.store import Database
from tests.queue.azurite import azurite_connection_string  # noqa: F401 - a fixture


@pytest.fixture
def azure_queue(azurite_connection_string: str) -> Iterator[AzureStorageQueue]:  # noqa: F811
    """An Azure Storage Queue of a name of its own on Azurite, deleted afterwards."""
    name = f"sp-test-{uuid.uuid4().hex[:12]}"
    queue = AzureStorageQueue(azurite_connection_string, name)
    try:
        yield queue
    finally:
        queue.close()
        client = QueueClient.from_connection_string(azurite_connection_string, name)
        with client, suppress(ResourceNotFoundError):
            client.delete_queue()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `transactional_enqueue` are not made for the Azure queue at all: it
    cannot join a database transaction, its messages are sent at once (rather than
    skipped there, so that a skip in CI always means something is missing)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_azure = callspec is not None and callspec.params.get("queue") == "azure"
        if on_azure and item.get_closest_marker("transactional_enqueue"):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=["table", "memory", "azure"])
def queue(request: pytest.FixtureRequest, database: Database) -> Queue:
    """A queue named `sharepack-processing` (the Azure one has a name of its own);
    `database` also backs the Units of Work. Tests marked `transactional_enqueue` run on
    the backends whose enqueue joins the Unit of Work's transaction only."""
    if request.param == "table":
        return TableQueue(database, "sharepack-processing")
    if request.param == "memory":
        return InMemoryQueue()
    azure: AzureStorageQueue = request.getfixturevalue("azure_queue")
    return azure
