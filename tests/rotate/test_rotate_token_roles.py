"""Who may rotate a managed partner's token: every role, for the recipient's own business
line and another, against the recipient of a pack of 'Sales Operations'. Every refusal
rotates nothing and is on the audit trail."""

from __future__ import annotations

import httpx
import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.identity.principal import ALL_BUSINESS_LINES, Role
from sharepack.runtime import Runtime
from tests.api_server import make_key, running_api
from tests.rotate.conftest import BUSINESS_LINE, PARTNER, rotations, tokens_of

OTHER = "Finance"
EXPECTED = {
    (None, BUSINESS_LINE): 401,
    (Role.REQUESTOR, BUSINESS_LINE): 200,
    (Role.REQUESTOR, OTHER): 403,
    (Role.APPROVER, BUSINESS_LINE): 403,
    (Role.AUDITOR, BUSINESS_LINE): 403,
    (Role.AUDITOR, ALL_BUSINESS_LINES): 403,
    (Role.ADMIN, ALL_BUSINESS_LINES): 200,
}


@pytest.mark.parametrize(
    ("role", "line"), sorted(EXPECTED, key=str), ids=lambda value: str(value or "no key")
)
def test_who_may_rotate(
    runtime: Runtime, provisioned: EmulatorServer, role: Role | None, line: str
) -> None:
    (old,) = tokens_of(provisioned, PARTNER)
    key = make_key(runtime, role, (line,), name="caller") if role is not None else None
    headers = {"X-Workspace-URL": provisioned.url}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"

    with running_api(runtime, with_worker=False) as api:
        answer = httpx.post(
            f"{api}/workflow/recipients/{PARTNER}/rotate-token", headers=headers, timeout=30
        )

    assert answer.status_code == EXPECTED[(role, line)], answer.text
    if answer.status_code == 200:
        assert len(tokens_of(provisioned, PARTNER)) == 2
        assert [e.outcome for e in rotations(runtime)] == ["ok"]
    else:
        assert tokens_of(provisioned, PARTNER) == [old]
        if role is not None:  # (an unauthenticated request is audited as `authenticate`)
            assert [(e.outcome, e.performed_by) for e in rotations(runtime)] == [
                ("refused", "key:caller")
            ]
