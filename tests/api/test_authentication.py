"""Authentication at the API: API keys, OIDC tokens from a local issuer the test starts
(each refusal, a key rotation in the middle), the failure throttle, and the audit rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from databricks_emulator.server import EmulatorServer
from sharepack.identity.principal import Role
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.store import tables
from tests.api_server import ServedApi, make_key, running_api
from tests.conftest import REPO_ROOT
from tests.identity.issuer import LocalIssuer

EXAMPLE = (REPO_ROOT / "examples" / "sharepack.yaml").read_text(encoding="utf-8")
REQUESTORS = "6f1c3a52-1111-4c3e-9a7b-1234567890ab"
AUDITORS = "0b9d7e41-2222-4f6a-8c1d-abcdef012345"
ROLE_MAPPING = f"""groups:
  - id: {REQUESTORS}
    name: Sales data requestors
    role: requestor
    business_lines: ["Sales Operations"]
  - id: {AUDITORS}
    name: Auditors
    role: auditor
    business_lines: "*"
"""


def _pack(requestor: str = "alice@example.com") -> bytes:
    return EXAMPLE.replace("requestor: john.doe@example.com", f"requestor: {requestor}").encode()


def _upload(client: httpx.Client, workspace_url: str, content: bytes) -> httpx.Response:
    return client.post(
        "/workflow/sharepack/upload",
        headers={"X-Workspace-URL": workspace_url},
        files={"file": ("pack.yaml", content, "application/x-yaml")},
    )


def _bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def _audit(runtime: Runtime) -> list[tuple[str, str, str | None, str | None]]:
    table = tables.audit_trail
    with runtime.database.unit_of_work() as uow:
        rows = uow.session.execute(
            select(table.c.action, table.c.outcome, table.c.performed_by, table.c.details).order_by(
                table.c.created_at
            )
        ).all()
    return [(r.action, r.outcome, r.performed_by, (r.details or {}).get("reason")) for r in rows]


# --- API keys -------------------------------------------------------------------------


@pytest.fixture
def api(runtime: Runtime) -> Iterator[ServedApi]:
    with running_api(runtime, with_worker=False) as served:
        yield served


@pytest.mark.parametrize(
    ("authorization", "says"),
    [
        (None, "Missing Authorization header"),
        ("Basic dXNlcjpwYXNz", "must read 'Bearer"),
        ("Bearer\tx", "must read 'Bearer"),
        ("Bearer spk_short", "malformed"),
        ("Bearer spk_0123456789ab_" + "A" * 43, "not valid"),
        ("Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig", "no identity provider is configured"),
    ],
)
def test_a_request_without_a_valid_credential_is_401_and_audited(
    api: ServedApi, runtime: Runtime, authorization: str | None, says: str
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = httpx.get(f"{api}/workflow/sharepack/{'0' * 32}", headers=headers, timeout=30)

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="sharepack"'
    assert answer.json()["ErrorCode"] == "UNAUTHENTICATED"
    assert says in answer.json()["Message"]
    action, outcome, principal, reason = _audit(runtime)[-1]
    assert (action, outcome, principal) == ("authenticate", "refused", "anonymous")
    assert reason is not None
    assert says in reason


def test_a_key_with_a_wrong_secret_is_refused(api: ServedApi) -> None:
    forged = api.key[:-6] + ("AAAAAA" if not api.key.endswith("AAAAAA") else "BBBBBB")
    answer = httpx.get(f"{api}/workflow/health", headers=_bearer(forged), timeout=30)
    assert answer.status_code == 200  # health is open to all
    refused = httpx.get(f"{api}/workflow/sharepack/{'0' * 32}", headers=_bearer(forged))
    assert refused.status_code == 401
    assert refused.json()["Message"] == "The API key is not valid"


def test_repeated_failures_from_one_client_are_slowed_with_429(
    settings: Settings, emulator: EmulatorServer
) -> None:
    strict = settings.model_copy(update={"sharepack_auth_max_failures": 3})
    runtime = build_runtime(strict)
    try:
        with running_api(runtime, with_worker=False) as api:
            wrong = _bearer("spk_0123456789ab_" + "A" * 43)
            statuses = [
                httpx.get(f"{api}/workflow/sharepack/x", headers=wrong).status_code
                for _ in range(3)
            ]
            slowed = httpx.get(f"{api}/workflow/sharepack/x", headers=api.headers)
    finally:
        runtime.close()

    assert statuses == [401, 401, 401]
    # Even a valid key waits: a client cannot use one key to keep guessing others.
    assert slowed.status_code == 429
    assert slowed.json()["ErrorCode"] == "TOO_MANY_FAILURES"
    assert 1 <= int(slowed.headers["Retry-After"]) <= 60


# --- OIDC -----------------------------------------------------------------------------


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer() as local:
        yield local


@pytest.fixture
def oidc_runtime(settings: Settings, issuer: LocalIssuer, tmp_path: Path) -> Iterator[Runtime]:
    mapping = tmp_path / "roles.yaml"
    mapping.write_text(ROLE_MAPPING, encoding="utf-8")
    runtime = build_runtime(
        settings.model_copy(
            update={
                "sharepack_oidc_issuer": issuer.issuer,
                "sharepack_oidc_audience": issuer.audience,
                "sharepack_role_mapping_file": mapping,
                "sharepack_oidc_jwks_min_refresh_seconds": 0,
                "sharepack_auth_max_failures": 100,
            }
        )
    )
    yield runtime
    runtime.close()


@pytest.fixture
def oidc_api(oidc_runtime: Runtime) -> Iterator[ServedApi]:
    with running_api(oidc_runtime, with_worker=False) as served:
        yield served


def test_a_token_of_a_mapped_group_uploads_for_its_business_line(
    oidc_api: ServedApi, oidc_runtime: Runtime, issuer: LocalIssuer, emulator: EmulatorServer
) -> None:
    token = issuer.mint({"groups": [REQUESTORS]})
    with oidc_api.client(key=token) as client:
        accepted = _upload(client, emulator.url, _pack())
        assert accepted.status_code == 202, accepted.text
        status = client.get(f"/workflow/sharepack/{accepted.json()['SharePackId']}").json()
        as_someone_else = _upload(client, emulator.url, _pack("bob@example.com"))
        other_line = _upload(
            client,
            emulator.url,
            _pack().replace(b"Sales Operations", b"Finance"),
        )

    assert status["RequestedBy"] == "alice@example.com"
    assert status["SubmittedBy"] == "alice@example.com"
    assert as_someone_else.status_code == 403
    assert (
        "'bob@example.com' (metadata.requestor) is not alice@example.com"
        in (as_someone_else.json()["Message"])
    )
    assert other_line.status_code == 403
    assert "business line 'Finance'" in other_line.json()["Message"]
    rows = [(a, o, p) for a, o, p, _ in _audit(oidc_runtime)]
    assert ("upload", "ok", "alice@example.com") in rows
    assert rows.count(("upload", "refused", "alice@example.com")) == 2


def test_a_token_of_no_mapped_group_may_do_nothing(
    oidc_api: ServedApi, issuer: LocalIssuer, emulator: EmulatorServer
) -> None:
    with oidc_api.client(key=issuer.mint({"groups": ["not-a-mapped-group"]})) as client:
        refused = _upload(client, emulator.url, _pack())
    assert refused.status_code == 403
    assert "no requestor role" in refused.json()["Message"]


def test_each_kind_of_bad_token_is_refused_with_401_saying_why(
    oidc_api: ServedApi, oidc_runtime: Runtime, issuer: LocalIssuer
) -> None:
    public = issuer.key.public_key()
    from cryptography.hazmat.primitives import serialization

    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    groups = {"groups": [AUDITORS]}
    cases = {
        "alg none": issuer.forge({"alg": "none", "typ": "JWT", "kid": issuer.kid}, groups),
        "HS256 with the public key": issuer.forge(
            {"alg": "HS256", "typ": "JWT", "kid": issuer.kid}, groups, hmac_secret=pem
        ),
        "no kid": issuer.mint(groups, kid=None),
        "unknown kid": issuer.mint(groups, kid="not-published"),
        "expired": issuer.mint({**groups, "exp": 1_000_000_000, "iat": 999_999_000}),
        "not yet valid": issuer.mint({**groups, "nbf": 4_000_000_000}),
        "another audience": issuer.mint({**groups, "aud": "someone-else"}),
        "another issuer": issuer.mint({**groups, "iss": "https://evil.example/v2.0"}),
        "bad signature": issuer.mint(groups)[:-8] + "AAAAAAAA",
    }
    answers = {}
    for name, token in cases.items():
        answer = httpx.get(
            f"{oidc_api}/workflow/sharepack/{'0' * 32}", headers=_bearer(token), timeout=30
        )
        answers[name] = (answer.status_code, answer.json()["ErrorCode"], answer.json()["Message"])

    assert {name: a[:2] for name, a in answers.items()} == {
        name: (401, "UNAUTHENTICATED") for name in cases
    }
    messages = {name: a[2] for name, a in answers.items()}
    assert len(set(messages.values())) >= 7, messages  # each says what is wrong
    for message in messages.values():
        assert "eyJ" not in message  # never the token itself
    refusals = [r for r in _audit(oidc_runtime) if r[1] == "refused"]
    assert len(refusals) == len(cases)


def test_a_key_rotation_in_the_middle_is_followed(oidc_api: ServedApi, issuer: LocalIssuer) -> None:
    def read(token: str) -> int:
        url = f"{oidc_api}/workflow/sharepack/{'0' * 32}"
        return httpx.get(url, headers=_bearer(token), timeout=30).status_code

    before = issuer.mint({"groups": [AUDITORS]})
    assert read(before) == 404  # authenticated; no such pack
    fetches = issuer.jwks_fetches

    issuer.rotate()
    after = issuer.mint({"groups": [AUDITORS]})
    assert read(after) == 404  # the new key is fetched on its first use
    assert issuer.jwks_fetches == fetches + 1
    assert read(after) == 404
    assert issuer.jwks_fetches == fetches + 1  # and cached
    assert read(before) == 401  # the retired key is no longer trusted


def test_an_unreachable_identity_provider_is_503_never_accepted(
    oidc_api: ServedApi, issuer: LocalIssuer
) -> None:
    issuer.fail(503, endpoint="jwks")
    answer = httpx.get(
        f"{oidc_api}/workflow/sharepack/{'0' * 32}",
        headers=_bearer(issuer.mint({"groups": [AUDITORS]})),
        timeout=30,
    )
    assert answer.status_code == 503
    assert answer.json()["ErrorCode"] == "IDENTITY_PROVIDER_UNAVAILABLE"
    assert answer.headers["Retry-After"]


def test_api_keys_work_beside_tokens(
    oidc_api: ServedApi, oidc_runtime: Runtime, emulator: EmulatorServer
) -> None:
    key = make_key(oidc_runtime, Role.REQUESTOR, ("Sales Operations",), acts_for_others=True)
    with oidc_api.client(key=key) as client:
        accepted = _upload(client, emulator.url, _pack("bob@example.com"))
    assert accepted.status_code == 202, accepted.text
