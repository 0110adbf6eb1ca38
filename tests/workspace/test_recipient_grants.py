"""Reading which shares grant a recipient, on any share of the metastore, and deleting
and re-creating a recipient from the state read before."""

from __future__ import annotations

import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.engine.actions import DeleteRecipient
from sharepack.engine.apply import execute
from sharepack.workspace.sdk import SdkWorkspace, make_client
from sharepack.workspace.state import AuthenticationType, RecipientState
from tests.conftest import EMULATOR_TOKEN

PARTNER = RecipientState(
    name="grants-partner",
    authentication_type=AuthenticationType.TOKEN,
    comment="Partner",
    allowed_ips=("10.0.0.0/24",),
    contact_email="partner@example.com",
)


@pytest.fixture
def workspace(emulator: EmulatorServer) -> SdkWorkspace:
    return SdkWorkspace(make_client(emulator.url, token=EMULATOR_TOKEN))


def test_the_shares_granting_a_recipient_are_read_whoever_made_them(
    workspace: SdkWorkspace,
) -> None:
    workspace.create_recipient(PARTNER)
    for share in ("grants_a", "grants_b", "grants_c"):
        workspace.create_share(share, "")
    workspace.update_share_grants("grants_a", [PARTNER.name], [])
    workspace.update_share_grants("grants_c", [PARTNER.name], [])

    state = workspace.read_state(recipient_grants=[PARTNER.name])

    assert state.recipient_grants == {PARTNER.name: frozenset({"grants_a", "grants_c"})}


def test_a_recipient_granted_nothing_reads_as_no_shares_and_an_absent_one_is_missing(
    workspace: SdkWorkspace,
) -> None:
    workspace.create_recipient(PARTNER)

    state = workspace.read_state(recipient_grants=[PARTNER.name, "grants-nobody"])

    assert state.recipient_grants == {PARTNER.name: frozenset()}


def test_every_page_of_a_recipients_grants_is_read(workspace: SdkWorkspace) -> None:
    """More shares than one page of the server's default size (50)."""
    workspace.create_recipient(PARTNER)
    shares = {f"grants_page_{i:03d}" for i in range(60)}
    for share in sorted(shares):
        workspace.create_share(share, "")
        workspace.update_share_grants(share, [PARTNER.name], [])

    state = workspace.read_state(recipient_grants=[PARTNER.name])

    assert state.recipient_grants[PARTNER.name] == shares


def test_a_deleted_recipient_is_recreated_from_its_before_state(
    workspace: SdkWorkspace,
) -> None:
    workspace.create_recipient(PARTNER)
    before = workspace.read_state(recipients=[PARTNER.name]).recipients[PARTNER.name]
    delete = DeleteRecipient("delete-recipient:grants-partner", PARTNER.name, before=before)
    execute(delete, workspace)
    assert not workspace.read_state(recipients=[PARTNER.name]).recipients

    execute(delete.inverse(), workspace)

    assert workspace.read_state(recipients=[PARTNER.name]).recipients[PARTNER.name] == before
