"""What the rotation tests share: the example pack applied (its recipient `sales-analyst`,
a partner with a token, managed by business line "Sales Operations"), the emulator's view
of a recipient's tokens, and the rotations on the audit trail."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import sharing

from databricks_emulator.server import EmulatorServer
from sharepack.runtime import Runtime
from sharepack.store.logs import AuditEntry
from sharepack.usecases.audit import Act, search
from sharepack.usecases.plan_apply import apply_file, read_file
from tests.api_server import TEST_OPERATOR
from tests.conftest import EMULATOR_TOKEN, REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"
PARTNER = "sales-analyst"
BUSINESS_LINE = "Sales Operations"
METASTORE = "aws:us-west-2:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def provisioned(runtime: Runtime, emulator: EmulatorServer) -> EmulatorServer:
    """The example pack applied to the emulator and recorded in the database."""
    loaded = read_file(runtime, EXAMPLE.read_bytes(), EXAMPLE.name)
    record = apply_file(
        runtime, loaded, filename=EXAMPLE.name, workspace_url=emulator.url, caller=TEST_OPERATOR
    )
    assert record.share_pack_status == "COMPLETED", record.error_message
    return emulator


def tokens_of(emulator: EmulatorServer, name: str) -> list[dict[str, Any]]:
    """The recipient's tokens as the workspace lists them (links included)."""
    answer = httpx.get(
        f"{emulator.url}/api/2.1/unity-catalog/recipients/{name}",
        headers={"Authorization": f"Bearer {EMULATOR_TOKEN}"},
        timeout=30,
    )
    answer.raise_for_status()
    tokens: list[dict[str, Any]] = answer.json().get("tokens", [])
    return tokens


def create_outside_sharepack(
    emulator: EmulatorServer, name: str, *, d2d: bool = False, expiration_time: int | None = None
) -> None:
    """A recipient made in the workspace directly: no pack manages it. `expiration_time`:
    when its tokens expire (epoch milliseconds)."""
    client = WorkspaceClient(host=emulator.url, token=EMULATOR_TOKEN, auth_type="pat")
    if d2d:
        client.recipients.create(
            name,
            sharing.AuthenticationType.DATABRICKS,
            data_recipient_global_metastore_id=METASTORE,
        )
    else:
        client.recipients.create(
            name, sharing.AuthenticationType.TOKEN, expiration_time=expiration_time
        )


def rotations(runtime: Runtime) -> list[AuditEntry]:
    """The audit trail's rotation rows, newest first."""
    return [e for e in search(runtime, limit=1000) if e.action == Act.ROTATE_TOKEN]
