"""How the SDK reacts to throttling and server errors: what it retries and what it raises."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.clock import RealClock
from databricks.sdk.errors import InternalError, NotFound, ResourceAlreadyExists
from databricks.sdk.service import sharing

from databricks_emulator.server import EmulatorServer
from tests.emulator._support import api_calls, emulator_only

pytestmark = emulator_only("injects faults through the emulator's control API")
CREATE = r"^/api/2\.1/unity-catalog/recipients$"


@pytest.mark.parametrize("status", [429, 503])
def test_throttled_create_is_retried_and_succeeds(
    emulator: EmulatorServer, client: WorkspaceClient, name: str, status: int
) -> None:
    emulator.add_fault(method="POST", path_regex=CREATE, status=status, retry_after=0)

    created = client.recipients.create(name, sharing.AuthenticationType.TOKEN)

    assert created.name == name
    assert api_calls(emulator, CREATE) == [("POST", status), ("POST", 200)]
    assert [r.name for r in client.recipients.list()] == [name]


@pytest.mark.parametrize(("retry_after", "waited"), [(None, 1), (7, 7)])
def test_sdk_waits_as_long_as_retry_after_says(
    emulator: EmulatorServer,
    client: WorkspaceClient,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    retry_after: int | None,
    waited: int,
) -> None:
    """The fault's Retry-After (1 s unless given) is what the SDK sleeps, plus < 1 s jitter."""
    sleeps: list[float] = []
    monkeypatch.setattr(RealClock, "sleep", lambda _clock, seconds: sleeps.append(seconds))
    fault: dict[str, object] = {"method": "POST", "path_regex": CREATE, "status": 429}
    if retry_after is not None:
        fault["retry_after"] = retry_after
    emulator.add_fault(**fault)

    client.recipients.create(name, sharing.AuthenticationType.TOKEN)

    assert len(sleeps) == 1
    assert waited <= sleeps[0] < waited + 1


def test_internal_error_is_raised_and_not_retried(
    emulator: EmulatorServer, client: WorkspaceClient, name: str
) -> None:
    emulator.add_fault(method="POST", path_regex=CREATE, status=500)

    with pytest.raises(InternalError, match="Injected fault"):
        client.recipients.create(name, sharing.AuthenticationType.TOKEN)

    assert api_calls(emulator, CREATE) == [("POST", 500)]
    with pytest.raises(NotFound, match=f"Recipient '{name}' does not exist"):
        client.recipients.get(name)


def test_retried_create_that_was_applied_finds_its_own_recipient(
    emulator: EmulatorServer, client: WorkspaceClient, name: str
) -> None:
    emulator.add_fault(method="POST", path_regex=CREATE, status=503, retry_after=0, applied=True)

    with pytest.raises(ResourceAlreadyExists, match=f"Recipient '{name}' already exists"):
        client.recipients.create(name, sharing.AuthenticationType.TOKEN)

    assert api_calls(emulator, CREATE) == [("POST", 503), ("POST", 409)]
    assert client.recipients.get(name).name == name
