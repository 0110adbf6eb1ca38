"""Every role x every endpoint x own / other business line -> the expected status; on
every refusal nothing is stored (rows counted before and after) and an audit row is written.

One API for the module (on its own SQLite database, no worker: nothing is applied), with
one API key per role for the business line 'Sales Operations'. A pack of each business
line is stored up front for the reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from databricks_emulator.server import EmulatorServer
from sharepack.identity.principal import ALL_BUSINESS_LINES, Role
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.store import tables
from tests.api_server import ServedApi, make_key, running_api
from tests.conftest import EMULATOR_TOKEN, REPO_ROOT

OWN = "Sales Operations"
OTHER = "Finance"
EXAMPLE = (REPO_ROOT / "examples" / "sharepack.yaml").read_text(encoding="utf-8")
REQUESTOR_EMAIL = "john.doe@example.com"
COUNTED = (tables.share_packs, tables.requests, tables.projects, tables.tenants)


def _pack(business_line: str) -> bytes:
    return EXAMPLE.replace(f"business_line: {OWN}", f"business_line: {business_line}").encode()


@dataclass
class Matrix:
    runtime: Runtime
    api: ServedApi
    keys: dict[str, str | None]
    packs: dict[str, str]  # business line -> a stored pack's id

    def counts(self) -> dict[str, int]:
        with self.runtime.database.unit_of_work() as uow:
            return {
                t.name: uow.session.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (*COUNTED, tables.audit_trail)
            }

    def refusals(self) -> list[tuple[str, str, str | None]]:
        with self.runtime.database.unit_of_work() as uow:
            table = tables.audit_trail
            rows = uow.session.execute(
                select(table.c.action, table.c.outcome, table.c.performed_by).order_by(
                    table.c.created_at
                )
            ).all()
        return [(r.action, r.outcome, r.performed_by) for r in rows if r.outcome != "ok"]


@pytest.fixture(scope="module")
def matrix(
    tmp_path_factory: pytest.TempPathFactory, emulator_server: EmulatorServer
) -> Iterator[Matrix]:
    data = Path(tmp_path_factory.mktemp("matrix"))
    settings = Settings(
        _env_file=None,
        sharepack_data_dir=data,
        sharepack_workspace_urls=[emulator_server.url],
        databricks_token=SecretStr(EMULATOR_TOKEN),
    )
    runtime = build_runtime(settings)
    keys: dict[str, str | None] = {"none": None}
    for role in (Role.REQUESTOR, Role.APPROVER, Role.AUDITOR):
        keys[str(role)] = make_key(runtime, role, (OWN,), owner_email=REQUESTOR_EMAIL)
    keys["auditor of all"] = make_key(runtime, Role.AUDITOR, (ALL_BUSINESS_LINES,))
    keys["admin"] = make_key(runtime, Role.ADMIN)
    try:
        with running_api(runtime, with_worker=False, key=keys["admin"]) as api:
            packs = {}
            with api.client() as client:
                for line in (OWN, OTHER):
                    answer = _upload(client, emulator_server.url, line)
                    assert answer.status_code == 202, answer.text
                    packs[line] = answer.json()["SharePackId"]
            yield Matrix(runtime, api, keys, packs)
    finally:
        runtime.close()


def _upload(client: httpx.Client, workspace_url: str, business_line: str) -> httpx.Response:
    return client.post(
        "/workflow/sharepack/upload",
        headers={"X-Workspace-URL": workspace_url},
        files={"file": ("pack.yaml", _pack(business_line), "application/x-yaml")},
    )


def _client(matrix: Matrix, who: str) -> httpx.Client:
    key = matrix.keys[who]
    if key is None:
        return httpx.Client(base_url=matrix.api.url, timeout=30)
    return matrix.api.client(key=key)


UPLOAD_EXPECTED = {
    ("none", OWN): 401,
    ("requestor", OWN): 202,
    ("requestor", OTHER): 403,
    ("approver", OWN): 403,
    ("approver", OTHER): 403,
    ("auditor", OWN): 403,
    ("auditor of all", OWN): 403,
    ("admin", OWN): 202,
    ("admin", OTHER): 202,
}


@pytest.mark.parametrize(("who", "line"), sorted(UPLOAD_EXPECTED))
def test_upload(matrix: Matrix, emulator_server: EmulatorServer, who: str, line: str) -> None:
    before = matrix.counts()
    with _client(matrix, who) as client:
        answer = _upload(client, emulator_server.url, line)
    after = matrix.counts()

    expected = UPLOAD_EXPECTED[(who, line)]
    assert answer.status_code == expected, answer.text
    if expected == 202:
        assert after["share_packs"] == before["share_packs"] + 1
        assert after["requests"] == before["requests"] + 1
        assert after["audit_trail"] == before["audit_trail"] + 1
        return
    assert {t: after[t] for t in after if t != "audit_trail"} == {
        t: before[t] for t in before if t != "audit_trail"
    }
    assert after["audit_trail"] == before["audit_trail"] + 1
    action, outcome, who_recorded = matrix.refusals()[-1]
    assert outcome == "refused"
    if who == "none":
        assert (action, who_recorded) == ("authenticate", "anonymous")
    else:
        assert action == "upload"
        assert (who_recorded or "").startswith("key:test-")
    assert answer.json()["ErrorCode"] == {401: "UNAUTHENTICATED", 403: "FORBIDDEN"}[expected]


READ_EXPECTED = {
    ("none", OWN): 401,
    ("requestor", OWN): 200,
    ("requestor", OTHER): 404,
    ("approver", OWN): 200,
    ("approver", OTHER): 404,
    ("auditor", OWN): 200,
    ("auditor", OTHER): 404,
    ("auditor of all", OTHER): 200,
    ("admin", OWN): 200,
    ("admin", OTHER): 200,
}


@pytest.mark.parametrize(("who", "line"), sorted(READ_EXPECTED))
def test_status(matrix: Matrix, who: str, line: str) -> None:
    before = matrix.counts()
    with _client(matrix, who) as client:
        answer = client.get(f"/workflow/sharepack/{matrix.packs[line]}")
    after = matrix.counts()

    expected = READ_EXPECTED[(who, line)]
    assert answer.status_code == expected, answer.text
    if expected == 200:
        assert answer.json()["SubmittedBy"] == "key:" + _admin_name(matrix)
        assert after == before
        return
    assert after["audit_trail"] == before["audit_trail"] + 1
    assert {t: after[t] for t in after if t != "audit_trail"} == {
        t: before[t] for t in before if t != "audit_trail"
    }
    if expected == 404:
        # Not told apart from a pack that does not exist.
        unknown = client_get_unknown(matrix, who)
        assert answer.json() == {
            **unknown,
            "Message": unknown["Message"].replace(UNKNOWN_ID, matrix.packs[line]),
        }


UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def client_get_unknown(matrix: Matrix, who: str) -> dict[str, str]:
    with _client(matrix, who) as client:
        answer: dict[str, str] = client.get(f"/workflow/sharepack/{UNKNOWN_ID}").json()
        return answer


def _admin_name(matrix: Matrix) -> str:
    with matrix.runtime.database.unit_of_work() as uow:
        (key,) = [k for k in uow.api_keys.all() if k.role == "admin"]
        return key.name


@pytest.mark.parametrize("who", ["none", "requestor", "approver", "auditor", "admin"])
def test_health_stays_open(matrix: Matrix, who: str) -> None:
    with _client(matrix, who) as client:
        assert client.get("/workflow/health").status_code == 200
