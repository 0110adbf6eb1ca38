"""The Databricks SDK's DEBUG log carries no activation link, token or bearer value."""

from __future__ import annotations

import logging

import httpx
import pytest
from databricks.sdk.config import Config

from databricks_emulator.server import EmulatorServer
from sharepack.workspace.log_redaction import MASK, redact
from sharepack.workspace.sdk import SdkWorkspace, make_client
from sharepack.workspace.state import AuthenticationType, RecipientState
from tests.conftest import EMULATOR_TOKEN


def test_a_token_recipient_created_at_debug_leaves_no_activation_link_in_the_log(
    emulator: EmulatorServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK prints headers too when asked: the bearer token must be masked there as well.
    monkeypatch.setattr(Config, "debug_headers", True)
    client = make_client(emulator.url, token=EMULATOR_TOKEN)
    workspace = SdkWorkspace(client)
    with caplog.at_level(logging.DEBUG, logger="databricks.sdk"):
        workspace.create_recipient(
            RecipientState(name="partner_debug", authentication_type=AuthenticationType.TOKEN)
        )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    answer = httpx.get(
        f"{emulator.url}/api/2.1/unity-catalog/recipients/partner_debug",
        headers={"Authorization": f"Bearer {EMULATOR_TOKEN}"},
    ).json()
    activation_url = answer["tokens"][0]["activation_url"]
    assert "partner_debug" in logged  # the SDK did log the round trip
    assert activation_url not in logged
    assert "retrieve_config" not in logged
    assert EMULATOR_TOKEN not in logged
    assert MASK in logged


def test_a_rotation_at_debug_leaves_neither_link_in_the_log(
    emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A rotation's answer lists the new token and the old one, each with its link."""
    workspace = SdkWorkspace(make_client(emulator.url, token=EMULATOR_TOKEN))
    workspace.create_recipient(
        RecipientState(name="partner_rotated", authentication_type=AuthenticationType.TOKEN)
    )
    with caplog.at_level(logging.DEBUG, logger="databricks.sdk"):
        rotated = workspace.rotate_recipient_token("partner_rotated", 600)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    answer = httpx.get(
        f"{emulator.url}/api/2.1/unity-catalog/recipients/partner_rotated",
        headers={"Authorization": f"Bearer {EMULATOR_TOKEN}"},
    ).json()
    links = [token["activation_url"] for token in answer["tokens"]]
    assert rotated.activation_url in links
    assert len(links) == 2
    assert "rotate-token" in logged  # the SDK did log the round trip
    assert [link for link in links if link in logged] == []
    assert "retrieve_config" not in logged


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('{"activation_url": "https://x/delta_sharing/retrieve_config.html?a=b"}', "a=b"),
        ("Authorization: Bearer dapiabc.def", "dapiabc.def"),
        ("token dapi0123456789abcdef0123456789abcdef-2 used", "dapi0123456789abcdef"),
        ('{"bearerToken": "s3cr3t"}', "s3cr3t"),
        ("key spk_0123456789ab_" + "A" * 43, "A" * 43),
        ("grant_type=client_credentials&client_secret=Aq8Q~s3cr3t&scope=all", "Aq8Q~s3cr3t"),
        ('{"client_secret": "Aq8Q~s3cr3t"}', "Aq8Q~s3cr3t"),
        ("AccountName=a;AccountKey=Zm9v/YmFy+==;EndpointSuffix=core", "Zm9v/YmFy+=="),
        ("https://a.queue.core/q?sv=2024&sig=abc%2Fdef%3D&se=1", "abc%2Fdef%3D"),
    ],
)
def test_each_kind_of_secret_is_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)
