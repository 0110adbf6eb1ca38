"""What the approval, schedule and cancel tests share: a policy file, the people who
request and approve, and the example pack submitted as its requestor."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from sharepack.identity.principal import AuthMethod, Caller, Grant, Principal, Role
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.store import SharePackRecord
from tests.conftest import EMULATOR_TOKEN, REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"
BUSINESS_LINE = "Sales Operations"
DATA_OWNERS = "3f2c9a4e-0b6d-4c1e-9f7a-2d5e8b1c0a93"
SECURITY = "8e1d7c6b-5a49-4382-9716-a5b4c3d2e1f0"

POLICY = f"""\
groups:
  data-owners:
    id: {DATA_OWNERS}
    notify: [data-owners@example.com]
  security:
    id: {SECURITY}
rules:
  - name: partners need data owners and security
    when:
      creates_token_recipient: true
    require:
      - {{level: 1, group: data-owners, count: 2}}
      - {{level: 2, group: security}}
  - name: deletions need security
    when:
      deletes: true
    require:
      - {{level: 1, group: security}}
"""


def person(
    email: str, *groups: str, role: Role = Role.APPROVER, lines: tuple[str, ...] = ("*",)
) -> Caller:
    """Someone signed in through the identity provider, in `groups` (object ids)."""
    principal = Principal(
        name=email,
        method=AuthMethod.OIDC,
        grants=(Grant(role, lines),),
        email=email,
        groups=groups,
    )
    return Caller(principal, client_address="127.0.0.1", user_agent="tests")


REQUESTOR = person("john.doe@example.com", DATA_OWNERS, role=Role.REQUESTOR, lines=(BUSINESS_LINE,))
OWNER_1 = person("olivia@example.com", DATA_OWNERS)
OWNER_2 = person("omar@example.com", DATA_OWNERS)
GUARD = person("sam@example.com", SECURITY)


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "approval-policy.yaml"
    path.write_text(POLICY)
    return path


@pytest.fixture
def governed(settings: Settings, policy_file: Path) -> Iterator[Runtime]:
    """A runtime under the approval policy above."""
    runtime = build_runtime(
        settings.model_copy(update={"sharepack_approval_policy_file": policy_file})
    )
    yield runtime
    runtime.close()


def with_settings(runtime: Runtime, **changes: object) -> Runtime:
    return dataclasses.replace(runtime, settings=runtime.settings.model_copy(update=changes))


def submit_example(
    runtime: Runtime, emulator: EmulatorServer, *, text: str | None = None, **options: object
) -> uuid.UUID:
    from sharepack.usecases.submit import submit_share_pack

    submitted = submit_share_pack(
        runtime,
        content=(text or EXAMPLE.read_text()).encode(),
        filename="sharepack.yaml",
        workspace_url=emulator.url,
        caller=REQUESTOR,
        **options,  # type: ignore[arg-type]
    )
    return submitted.share_pack_id


def current(runtime: Runtime, pack_id: uuid.UUID) -> SharePackRecord:
    with runtime.database.unit_of_work() as uow:
        return uow.share_packs.get_current(pack_id)


def work_all(runtime: Runtime) -> int:
    """Run the worker until the queue has nothing claimable; how many messages it took."""
    from sharepack.running.provision import make_worker

    worker, taken = make_worker(runtime), 0
    while worker.run_once():
        taken += 1
    return taken


def sdk(emulator: EmulatorServer) -> WorkspaceClient:
    return WorkspaceClient(host=emulator.url, token=EMULATOR_TOKEN, auth_type="pat")


def recipient_names(emulator: EmulatorServer) -> set[str]:
    return {r.name for r in sdk(emulator).recipients.list() if r.name}
