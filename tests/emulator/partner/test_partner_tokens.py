"""A partner's credential: retrieved once through the activation link, bounded by the
token's expiry, rotation, the recipient's life and its IP access list.

Paths and fields: databricks-sdk `RecipientActivationAPI` (`retrieve_token`, "you can
download the credential file only once") and `RetrieveTokenResponse`; the link form
`https://<workspace>/delta_sharing/retrieve_config.html?<token>` and the endpoint form
`https://<workspace>/api/2.0/delta-sharing/metastores/<metastore id>` as credential files
and notebooks in public repositories show them (e.g. databricks-industry-solutions notebooks
rewriting `delta_sharing/retrieve_config.html?` to `.../public/data_sharing_activation/`).
The IP access list covers the protocol, the activation URL and the download: Databricks
docs, data-sharing/access-list ("Restrict Delta Sharing recipient access using IP access
lists").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import delta_sharing
import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, PermissionDenied
from databricks.sdk.service import sharing

from databricks_emulator.catalog import now_ms
from databricks_emulator.server import EmulatorServer
from tests.emulator._support import emulator_only
from tests.emulator.partner._provider import Partner, recipient, share, table
from tests.emulator.partner.profile import (
    activation_token,
    partner_client,
    retrieve,
    write_profile,
)

pytestmark = emulator_only("reads the emulator's partner side")

ORDERS = "prod_catalog.sales.orders"
METASTORE_ID = "11111111-2222-3333-4444-555555555555"


def _shared_to(client: WorkspaceClient, name: str = "acme", **fields: Any) -> None:
    recipient(client, name, **fields)
    share(client, "retail", table(ORDERS), to=name)


def _status(partner: Partner) -> int:
    return partner.get("/shares").status_code


def test_the_credential_names_the_metastore_endpoint_and_a_bearer_token(
    client: WorkspaceClient, emulator: EmulatorServer
) -> None:
    _shared_to(client)
    link = client.recipients.get("acme").tokens[0].activation_url  # type: ignore[index]
    assert link is not None
    assert link.startswith(f"{emulator.url}/delta_sharing/retrieve_config.html?")

    credential = retrieve(client, link.split("?", 1)[1])

    assert credential.share_credentials_version == 1
    assert credential.endpoint == f"{emulator.url}/api/2.0/delta-sharing/metastores/{METASTORE_ID}"
    assert credential.bearer_token
    assert credential.expiration_time is None  # a recipient without expiry: a lasting token


def test_the_credential_is_downloaded_once(client: WorkspaceClient, tmp_path: Path) -> None:
    _shared_to(client)
    activation = activation_token(client, "acme")
    partner_client(client).recipient_activation.get_activation_url_info(activation)
    write_profile(retrieve(client, activation), tmp_path / "acme.share")

    # unverified: the real service's text for a used link was not found in public sources
    with pytest.raises(PermissionDenied, match="already been used"):
        retrieve(client, activation)
    partner_client(client).recipient_activation.get_activation_url_info(activation)  # visitable
    token = client.recipients.get("acme").tokens[0]  # type: ignore[index]
    assert token.activation_url is None
    assert client.recipients.get("acme").activated is True
    assert len(delta_sharing.load_as_pandas(f"{tmp_path / 'acme.share'}#retail.sales.orders")) == 30


def test_an_unknown_activation_token_is_not_found(client: WorkspaceClient) -> None:
    # unverified: the real service's text for an unknown link was not found
    with pytest.raises(NotFound, match="activation link does not exist"):
        retrieve(client, "no-such-activation-token")


def test_the_state_snapshot_shows_no_bearer_token(
    client: WorkspaceClient, emulator: EmulatorServer, tmp_path: Path
) -> None:
    _shared_to(client)
    partner = Partner.of(client, "acme", tmp_path)

    state = str(emulator.state())

    assert partner.token not in state
    assert "bearer" not in state.lower()


def test_a_token_past_its_expiration_time_is_refused(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    _shared_to(client)
    partner = Partner.of(client, "acme", tmp_path)
    assert _status(partner) == 200

    client.recipients.update("acme", expiration_time=now_ms() - 1000)

    answer = partner.get("/shares")
    # PROTOCOL.md: 401 "The request is unauthenticated"; the Python client's
    # `_error_on_expired_token` reads 401 as expiry. unverified: the real message text.
    assert answer.status_code == 401
    assert answer.json() == {
        "errorCode": "UNAUTHENTICATED",
        "message": "The bearer token has expired.",
    }
    with pytest.raises(OSError, match="401"):  # the client raises requests.HTTPError
        delta_sharing.SharingClient(str(partner.profile)).list_shares()


def test_a_recipient_created_expired_cannot_retrieve_its_credential(
    client: WorkspaceClient,
) -> None:
    _shared_to(client, expiration_time=now_ms() - 1000)

    # unverified: the real service's text for an expired link
    with pytest.raises(PermissionDenied, match="expired"):
        retrieve(client, activation_token(client, "acme"))


def test_after_rotation_old_and_new_tokens_both_work_until_the_old_one_expires(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    _shared_to(client)
    old = Partner.of(client, "acme", tmp_path)
    client.recipients.rotate_token("acme", existing_token_expire_in_seconds=3600)
    activation = activation_token(client, "acme")

    new = Partner(write_profile(retrieve(client, activation), tmp_path / "new.share"))

    assert old.token != new.token
    assert (_status(old), _status(new)) == (200, 200)


def test_a_token_rotated_away_with_no_grace_stops_working_and_the_new_link_works_once(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    _shared_to(client)
    old = Partner.of(client, "acme", tmp_path)
    client.recipients.rotate_token("acme", existing_token_expire_in_seconds=0)
    activation = activation_token(client, "acme")

    new = Partner(write_profile(retrieve(client, activation), tmp_path / "new.share"))

    assert _status(old) == 401
    assert _status(new) == 200
    with pytest.raises(PermissionDenied):
        retrieve(client, activation)


def test_deleting_the_recipient_kills_its_tokens(client: WorkspaceClient, tmp_path: Path) -> None:
    _shared_to(client)
    partner = Partner.of(client, "acme", tmp_path)

    client.recipients.delete("acme")

    assert _status(partner) == 401


def test_a_partner_outside_the_ip_access_list_is_refused(
    client: WorkspaceClient, tmp_path: Path
) -> None:
    _shared_to(client)
    partner = Partner.of(client, "acme", tmp_path)
    outside = sharing.IpAccessList(allowed_ip_addresses=["10.0.0.0/8"])

    client.recipients.update("acme", ip_access_list=outside)

    answer = partner.get("/shares")
    # PROTOCOL.md: 403 "The request is forbidden from being fulfilled."
    # unverified: the real service's message text
    assert answer.status_code == 403
    assert answer.json()["errorCode"] == "PERMISSION_DENIED"
    assert "127.0.0.1" in answer.json()["message"]
    with pytest.raises(OSError, match="403"):  # the client raises requests.HTTPError
        delta_sharing.load_as_pandas(partner.url("retail.sales.orders"))


def test_a_partner_inside_the_ip_access_list_reads(client: WorkspaceClient, tmp_path: Path) -> None:
    _shared_to(client, ip_access_list=sharing.IpAccessList(allowed_ip_addresses=["127.0.0.1"]))
    partner = Partner.of(client, "acme", tmp_path)

    assert len(delta_sharing.load_as_pandas(partner.url("retail.sales.orders"))) == 30


def test_the_activation_link_is_refused_outside_the_ip_access_list(
    client: WorkspaceClient,
) -> None:
    outside = sharing.IpAccessList(allowed_ip_addresses=["10.0.0.0/8"])
    _shared_to(client, ip_access_list=outside)

    with pytest.raises(PermissionDenied, match="IP access list"):
        retrieve(client, activation_token(client, "acme"))
    assert client.recipients.get("acme").tokens[0].activation_url  # type: ignore[index]


def test_a_missing_or_unknown_bearer_token_is_unauthenticated(
    emulator: EmulatorServer,
) -> None:
    endpoint = f"{emulator.url}/api/2.0/delta-sharing/metastores/{METASTORE_ID}/shares"

    missing = httpx.get(endpoint)
    unknown = httpx.get(endpoint, headers={"Authorization": "Bearer not-a-token"})

    # PROTOCOL.md: 401 "The bearer token is missing or incorrect." (its words, as the text)
    for answer in (missing, unknown):
        assert answer.status_code == 401
        assert answer.json() == {
            "errorCode": "UNAUTHENTICATED",
            "message": "The bearer token is missing or incorrect.",
        }


def test_the_workspace_token_is_no_bearer_token_for_the_protocol(
    emulator: EmulatorServer,
) -> None:
    endpoint = f"{emulator.url}/api/2.0/delta-sharing/metastores/{METASTORE_ID}/shares"

    answer = httpx.get(endpoint, headers={"Authorization": "Bearer dapi-test-token"})

    assert answer.status_code == 401
