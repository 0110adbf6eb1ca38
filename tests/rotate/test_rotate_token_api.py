"""`POST /workflow/recipients/{name}/rotate-token` over HTTP against the emulator: who may
rotate a partner's token, what the answer carries, and what is refused (and audited)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.identity.principal import Role
from sharepack.runtime import Runtime
from tests.api_server import ServedApi, make_key, running_api
from tests.rotate.conftest import (
    BUSINESS_LINE,
    PARTNER,
    create_outside_sharepack,
    rotations,
    tokens_of,
)

HOUR_MS = 3_600_000


@pytest.fixture
def api(runtime: Runtime) -> Iterator[ServedApi]:
    with running_api(runtime, with_worker=False) as served:
        yield served


def _rotate(
    api: ServedApi,
    workspace_url: str,
    name: str = PARTNER,
    *,
    key: str | None = None,
    body: dict[str, object] | None = None,
) -> httpx.Response:
    with api.client(key=key) as client:
        return client.post(
            f"/workflow/recipients/{name}/rotate-token",
            headers={"X-Workspace-URL": workspace_url},
            json=body,
        )


def _ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso).timestamp() * 1000)


def test_an_admin_gets_the_new_link_once_and_the_old_token_expires_as_chosen(
    runtime: Runtime, provisioned: EmulatorServer, api: ServedApi
) -> None:
    (old,) = tokens_of(provisioned, PARTNER)

    before = time.time_ns() // 1_000_000
    answer = _rotate(api, provisioned.url, body={"ExistingTokenExpireInSeconds": 600})
    after = time.time_ns() // 1_000_000

    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert set(body) == {
        "RecipientName",
        "ActivationUrl",
        "TokenExpirationTime",
        "ExistingTokensExpireAt",
        "Message",
    }
    assert body["RecipientName"] == PARTNER
    assert "shown only now" in body["Message"]
    assert "secure channel" in body["Message"]
    listed = {t["id"]: t for t in tokens_of(provisioned, PARTNER)}
    new = next(t for token_id, t in listed.items() if token_id != old["id"])
    assert body["ActivationUrl"] == new["activation_url"] != old["activation_url"]
    kept = listed[old["id"]]["expiration_time"]
    assert before + 600_000 <= kept <= after + 600_000
    assert _ms(body["ExistingTokensExpireAt"]) == kept
    assert body["TokenExpirationTime"] is None  # the recipient's tokens never expire


def test_without_a_body_the_old_token_keeps_working_an_hour(
    provisioned: EmulatorServer, api: ServedApi
) -> None:
    (old,) = tokens_of(provisioned, PARTNER)

    before = time.time_ns() // 1_000_000
    answer = _rotate(api, provisioned.url)
    after = time.time_ns() // 1_000_000

    assert answer.status_code == 200, answer.text
    kept = next(t for t in tokens_of(provisioned, PARTNER) if t["id"] == old["id"])
    assert before + HOUR_MS <= kept["expiration_time"] <= after + HOUR_MS


def test_zero_seconds_ends_the_old_token_now(provisioned: EmulatorServer, api: ServedApi) -> None:
    (old,) = tokens_of(provisioned, PARTNER)

    answer = _rotate(api, provisioned.url, body={"ExistingTokenExpireInSeconds": 0})

    assert answer.status_code == 200, answer.text
    assert answer.json()["ExistingTokensExpireAt"] is None
    assert "stopped working now" in answer.json()["Message"]
    assert old["id"] not in {t["id"] for t in tokens_of(provisioned, PARTNER)}


def test_an_old_token_that_expires_sooner_keeps_its_expiry_and_the_answer_says_so(
    emulator: EmulatorServer, api: ServedApi
) -> None:
    soon = time.time_ns() // 1_000_000 + 600_000  # ten minutes, under the hour asked
    create_outside_sharepack(emulator, "short-lived", expiration_time=soon)

    answer = _rotate(api, emulator.url, "short-lived")

    assert answer.status_code == 200, answer.text
    # Asked in whole seconds no longer than the token has left, so up to one second sooner.
    assert soon - 1000 <= _ms(answer.json()["ExistingTokensExpireAt"]) <= soon
    assert "a rotation never lengthens a token" in answer.json()["Message"]


def test_the_rotation_is_on_the_audit_trail_without_the_link(
    runtime: Runtime, provisioned: EmulatorServer, api: ServedApi
) -> None:
    answer = _rotate(api, provisioned.url, body={"ExistingTokenExpireInSeconds": 600})

    (entry,) = rotations(runtime)
    assert entry.outcome == "ok"
    assert entry.performed_by.startswith("key:")
    assert entry.business_line == BUSINESS_LINE
    assert entry.entity_type == "recipient"
    assert entry.details is not None
    assert entry.details["recipient"] == PARTNER
    assert entry.details["workspace_url"] == provisioned.url
    assert entry.details["existing_token_expire_in_seconds"] == 600
    assert entry.details["existing_tokens_expire_at"] == answer.json()["ExistingTokensExpireAt"]
    assert answer.json()["ActivationUrl"] not in str(entry)


def test_a_requestor_of_the_pack_s_business_line_may_rotate(
    runtime: Runtime, provisioned: EmulatorServer, api: ServedApi
) -> None:
    key = make_key(runtime, Role.REQUESTOR, (BUSINESS_LINE,))

    answer = _rotate(api, provisioned.url, key=key)

    assert answer.status_code == 200, answer.text
    assert len(tokens_of(provisioned, PARTNER)) == 2


def test_a_requestor_of_another_business_line_is_refused_and_it_is_audited(
    runtime: Runtime, provisioned: EmulatorServer, api: ServedApi
) -> None:
    (old,) = tokens_of(provisioned, PARTNER)
    key = make_key(runtime, Role.REQUESTOR, ("Marketing",), name="marketing")

    answer = _rotate(api, provisioned.url, key=key)

    assert answer.status_code == 403
    assert answer.json()["ErrorCode"] == "FORBIDDEN"
    assert f"business line '{BUSINESS_LINE}'" in answer.json()["Message"]
    assert tokens_of(provisioned, PARTNER) == [old]  # nothing rotated
    (entry,) = rotations(runtime)
    assert (entry.outcome, entry.performed_by) == ("refused", "key:marketing")
    assert entry.details is not None
    assert PARTNER in entry.details["reason"]


def test_a_recipient_no_pack_manages_is_for_admins_only(
    runtime: Runtime, emulator: EmulatorServer, api: ServedApi
) -> None:
    create_outside_sharepack(emulator, "walk-in")
    requestor = make_key(runtime, Role.REQUESTOR, ("*",))

    refused = _rotate(api, emulator.url, "walk-in", key=requestor)
    allowed = _rotate(api, emulator.url, "walk-in")

    assert refused.status_code == 403
    assert "only an admin" in refused.json()["Message"]
    assert allowed.status_code == 200, allowed.text


def test_a_d2d_recipient_is_refused_with_a_clear_message(
    runtime: Runtime, emulator: EmulatorServer, api: ServedApi
) -> None:
    create_outside_sharepack(emulator, "partner-metastore", d2d=True)

    answer = _rotate(api, emulator.url, "partner-metastore")

    assert answer.status_code == 400
    assert answer.json()["ErrorCode"] == "INVALID_REQUEST"
    assert "Databricks-to-Databricks (D2D)" in answer.json()["Message"]
    assert "no bearer token" in answer.json()["Message"]
    (entry,) = rotations(runtime)
    assert entry.outcome == "refused"


def test_an_unknown_recipient_is_404(
    runtime: Runtime, emulator: EmulatorServer, api: ServedApi
) -> None:
    answer = _rotate(api, emulator.url, "nobody")

    assert answer.status_code == 404
    assert answer.json()["ErrorCode"] == "NOT_FOUND"
    assert "nobody" in answer.json()["Message"]
    assert rotations(runtime)[0].outcome == "refused"


def test_a_negative_expiry_or_an_unknown_field_is_a_bad_request(
    provisioned: EmulatorServer, api: ServedApi
) -> None:
    negative = _rotate(api, provisioned.url, body={"ExistingTokenExpireInSeconds": -1})
    unknown = _rotate(api, provisioned.url, body={"ExpireInSeconds": 10})

    assert (negative.status_code, negative.json()["ErrorCode"]) == (400, "BAD_REQUEST")
    assert (unknown.status_code, unknown.json()["ErrorCode"]) == (400, "BAD_REQUEST")
    assert len(tokens_of(provisioned, PARTNER)) == 1


def test_a_missing_workspace_header_is_a_bad_request(runtime: Runtime, api: ServedApi) -> None:
    with api.client() as client:
        answer = client.post(f"/workflow/recipients/{PARTNER}/rotate-token")

    assert answer.status_code == 400
    assert "X-Workspace-URL" in answer.json()["Message"]
    assert rotations(runtime)[0].outcome == "refused"


class _Listener:
    """A host that accepts connections into its backlog and answers none: whatever
    connected to it is counted afterwards, with no thread racing the count."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def connections(self) -> int:
        """How many connections were made so far (each is taken off the backlog)."""
        self._socket.setblocking(False)
        count = 0
        while True:
            try:
                connection, _ = self._socket.accept()
            except BlockingIOError:
                return count
            count += 1
            connection.close()

    def close(self) -> None:
        self._socket.close()


def test_a_workspace_not_allow_listed_is_refused_before_any_request_is_sent(
    runtime: Runtime, api: ServedApi
) -> None:
    elsewhere = _Listener()
    try:
        answer = _rotate(api, elsewhere.url)
        connections = elsewhere.connections()
    finally:
        elsewhere.close()

    assert answer.status_code == 400
    assert answer.json()["ErrorCode"] == "WORKSPACE_NOT_ALLOWED"
    assert connections == 0  # not even a connection: no request could carry credentials
    assert rotations(runtime)[0].outcome == "refused"


def test_the_openapi_document_describes_the_rotation(api: ServedApi) -> None:
    document = httpx.get(f"{api}/openapi.json", timeout=30).json()

    operation = document["paths"]["/workflow/recipients/{name}/rotate-token"]["post"]
    assert {"200", "400", "403", "404"} <= set(operation["responses"])
    schema = document["components"]["schemas"]["RotateTokenResponse"]
    assert set(schema["required"]) == {
        "RecipientName",
        "ActivationUrl",
        "TokenExpirationTime",
        "ExistingTokensExpireAt",
        "Message",
    }
    request = document["components"]["schemas"]["RotateTokenRequest"]
    assert set(request["properties"]) == {"ExistingTokenExpireInSeconds"}
