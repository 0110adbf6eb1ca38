"""The `Workspace` contract for rotating a recipient's bearer token, on both workspaces.

Part of `test_workspace_contract` (its `subject` fixture: `SdkWorkspace` against the
emulator over HTTP, and `InMemoryWorkspace`), kept apart to keep each file short.

What the rotation does is the API's documentation of `existing_token_expire_in_seconds`
(databricks/databricks-sdk-py, `databricks/sdk/service/sharing.py`,
`RecipientsAPI.rotate_token`): "This will set the expiration_time of existing token only
to a smaller timestamp, it cannot extend the expiration_time. Use 0 to expire the
existing token immediately, negative number will return an error."
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from sharepack.workspace.errors import (
    InvalidRequestError,
    ResourceNotFoundError,
    WorkspacePermissionError,
)
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.state import AuthenticationType, RecipientState
from tests.workspace import test_workspace_contract as contract

#: The contract's fixture: each test runs on the SDK adapter and on the in-memory workspace.
subject = contract.subject
HOUR = 3600


@pytest.fixture
def workspace(subject: contract.Subject) -> Workspace:
    return subject.workspace


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _partner(name: str = "analyst", **changes: object) -> RecipientState:
    partner = RecipientState(name=name, authentication_type=AuthenticationType.TOKEN)
    return replace(partner, **changes)  # type: ignore[arg-type]


def test_a_rotation_hands_over_a_new_link_and_leaves_the_old_token_an_hour(
    workspace: Workspace,
) -> None:
    workspace.create_recipient(_partner("Analyst"))

    before = _now_ms()
    rotated = workspace.rotate_recipient_token("analyst", HOUR)
    after = _now_ms()

    assert rotated.recipient == "analyst"
    assert rotated.token_id
    assert "retrieve_config.html" in rotated.activation_url
    assert rotated.existing_tokens_expire_at is not None
    assert before + HOUR * 1000 <= rotated.existing_tokens_expire_at <= after + HOUR * 1000
    assert rotated.expiration_time is None  # the recipient's tokens never expire


def test_each_rotation_issues_a_link_of_its_own(workspace: Workspace) -> None:
    workspace.create_recipient(_partner())

    first = workspace.rotate_recipient_token("analyst", 0)
    second = workspace.rotate_recipient_token("analyst", 0)

    assert first.activation_url != second.activation_url
    assert first.token_id != second.token_id


def test_zero_seconds_ends_the_existing_tokens_at_once(workspace: Workspace) -> None:
    workspace.create_recipient(_partner())

    rotated = workspace.rotate_recipient_token("analyst", 0)

    assert rotated.existing_tokens_expire_at is None  # no earlier token is left


def test_a_rotation_never_lengthens_an_existing_token(workspace: Workspace) -> None:
    soon = _now_ms() + 600_000  # the recipient's tokens expire in ten minutes
    workspace.create_recipient(_partner(expiration_time=soon))

    rotated = workspace.rotate_recipient_token("analyst", HOUR)

    # Asked in whole seconds no longer than the token has left, so up to one second sooner.
    assert rotated.existing_tokens_expire_at is not None
    assert soon - 1000 <= rotated.existing_tokens_expire_at <= soon
    assert rotated.expiration_time == soon  # the new token has the recipient's lifetime


def test_the_link_is_not_in_the_value_s_repr(workspace: Workspace) -> None:
    workspace.create_recipient(_partner())

    rotated = workspace.rotate_recipient_token("analyst", 0)

    assert rotated.activation_url not in repr(rotated)
    assert rotated.token_id in repr(rotated)


def test_a_d2d_recipient_has_no_token_to_rotate(workspace: Workspace) -> None:
    workspace.create_recipient(
        RecipientState(
            name="partner_metastore",
            authentication_type=AuthenticationType.DATABRICKS,
            metastore_id=contract.METASTORE,
        )
    )

    with pytest.raises(InvalidRequestError, match=r"'partner_metastore' is a .*\(D2D\)"):
        workspace.rotate_recipient_token("partner_metastore", HOUR)


def test_rotating_an_absent_recipient_raises_not_found(workspace: Workspace) -> None:
    with pytest.raises(ResourceNotFoundError, match="nobody"):
        workspace.rotate_recipient_token("nobody", HOUR)


def test_a_negative_expiry_is_refused_before_any_change(workspace: Workspace) -> None:
    workspace.create_recipient(_partner())

    with pytest.raises(InvalidRequestError, match="0 seconds"):
        workspace.rotate_recipient_token("analyst", -1)

    assert workspace.rotate_recipient_token("analyst", HOUR).existing_tokens_expire_at


def test_a_third_active_token_is_refused(workspace: Workspace) -> None:
    """Two tokens alive (the new one and the old one, for an hour): the workspace will
    not rotate again until one expires."""
    workspace.create_recipient(_partner())
    workspace.rotate_recipient_token("analyst", HOUR)

    # The text: tests/emulator/test_real_messages.py (a public client matches its prefix).
    with pytest.raises(InvalidRequestError, match="There are already two activated tokens"):
        workspace.rotate_recipient_token("analyst", HOUR)


def test_only_the_owner_may_rotate(workspace: Workspace) -> None:
    """The API's documentation: "The caller must be the owner of the recipient"."""
    theirs = _partner(owner="someone-else@example.com")
    workspace.create_recipient(theirs)

    with pytest.raises(WorkspacePermissionError, match="analyst"):
        workspace.rotate_recipient_token("analyst", HOUR)
