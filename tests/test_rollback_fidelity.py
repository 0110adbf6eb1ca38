"""A rolled-back prune puts back every field it destroyed, and verification checks every one.

The first pack provisions `keeper` + `kept_share` and `leaver` + `gone_share`; then, outside
sharepack, `leaver` gets properties of its own and an expiry, and `gone_share`'s objects get
comments, change data feed, history sharing, a start version, partitions and an alias. The
pruning pack names only `keeper` + `kept_share`: it empties and deletes `gone_share`, then
deletes `leaver`, which the workspace does and answers 500. The rollback re-creates both;
what the client set must read back as it was, less what the server fills (timestamps, ids,
tokens), and a re-creation that loses a field must be reported, not called restored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import sharing
from typer.testing import CliRunner

from databricks_emulator.server import EmulatorServer
from sharepack.cli.main import app
from sharepack.engine import (
    InMemoryJournal,
    PlanOptions,
    ResourceNames,
    apply,
    names_of,
    names_to_read,
    plan,
    read_names,
    rollback,
)
from sharepack.packfile.models import (
    Metadata,
    RecipientSpec,
    RecipientType,
    SharePackConfig,
    ShareSpec,
    Strategy,
)
from sharepack.workspace.sdk import SdkWorkspace, make_client
from sharepack.workspace.sdk_sharing import CONTACT_EMAIL_PROPERTY
from sharepack.workspace.state import RecipientState, ShareObjectState
from tests.conftest import EMULATOR_TOKEN

ORDERS = "prod_catalog.sales.orders"
CUSTOMERS = "prod_catalog.sales.customers"
FINANCE = "prod_catalog.finance"
EXPIRES = 1_900_000_000_000
HEADER = "metadata: {requestor: ana@example.com, project_name: Partners, business_line: Sales"
FIRST = f"""{HEADER}}}
recipient:
  - {{name: keeper, type: D2O, email: k@partner.example.com}}
  - {{name: leaver, type: D2O, email: l@partner.example.com, comment: Leaving partner}}
share:
  - {{name: kept_share, recipients: [keeper], data_objects: [prod_catalog.sales.transactions]}}
  - {{name: gone_share, recipients: [leaver], data_objects: [{ORDERS}]}}
"""
PRUNED = f"""{HEADER}, strategy: UPDATE, prune: true}}
recipient:
  - {{name: keeper, type: D2O, email: k@partner.example.com}}
share:
  - {{name: kept_share, recipients: [keeper], data_objects: [prod_catalog.sales.transactions]}}
"""
#: What the server fills in a recipient or a shared object: not the client's to restore.
SERVER_FILLED = frozenset(
    {
        "id",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "tokens",
        "activated",
        "activation_url",
        "added_at",
        "added_by",
        "status",
    }
)


def _client(emulator: EmulatorServer) -> WorkspaceClient:
    return WorkspaceClient(host=emulator.url, token=EMULATOR_TOKEN, auth_type="pat")


def _object_update(
    action: sharing.SharedDataObjectUpdateAction, obj: sharing.SharedDataObject
) -> sharing.SharedDataObjectUpdate:
    return sharing.SharedDataObjectUpdate(action=action, data_object=obj)


def _enrich(client: WorkspaceClient) -> None:
    """Outside sharepack: what a person might have set on the leaver and its share."""
    properties = {CONTACT_EMAIL_PROPERTY: "l@partner.example.com", "partner.tier": "gold"}
    client.recipients.update(
        "leaver",
        expiration_time=EXPIRES,
        properties_kvpairs=sharing.SecurablePropertiesKvPairs(properties=properties),
    )
    enabled = sharing.SharedDataObjectHistoryDataSharingStatus.ENABLED
    by_region = sharing.Partition(
        values=[
            sharing.PartitionValue(name="region", op=sharing.PartitionValueOp.EQUAL, value="eu")
        ]
    )
    by_tier = sharing.Partition(
        values=[
            sharing.PartitionValue(
                name="tier", op=sharing.PartitionValueOp.LIKE, recipient_property_key="partner.tier"
            )
        ]
    )
    client.shares.update(
        "gone_share",
        updates=[
            _object_update(
                sharing.SharedDataObjectUpdateAction.UPDATE,
                sharing.SharedDataObject(
                    name=ORDERS,
                    comment="orders for the partner",
                    cdf_enabled=True,
                    history_data_sharing_status=enabled,
                ),
            ),
            _object_update(
                sharing.SharedDataObjectUpdateAction.ADD,
                sharing.SharedDataObject(
                    name=CUSTOMERS,
                    comment="customers, EU only",
                    cdf_enabled=False,
                    history_data_sharing_status=enabled,
                    start_version=2,
                    shared_as="partner.customers",
                    partitions=[by_region, by_tier],
                ),
            ),
            _object_update(
                sharing.SharedDataObjectUpdateAction.ADD,
                sharing.SharedDataObject(
                    name=FINANCE,
                    data_object_type=sharing.SharedDataObjectDataObjectType.SCHEMA,
                    comment="all of finance",
                ),
            ),
        ],
    )


def _client_fields(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k not in SERVER_FILLED}


def _as_set(client: WorkspaceClient) -> dict[str, Any]:
    """The leaver and gone_share's objects as their client set them."""
    share = client.shares.get("gone_share", include_shared_data=True)
    return {
        "recipient": _client_fields(client.recipients.get("leaver").as_dict()),
        "objects": {o.name: _client_fields(o.as_dict()) for o in share.objects or ()},
    }


def _fail_deleting_the_leaver_after_it_is_gone(emulator: EmulatorServer) -> None:
    emulator.add_fault(method="DELETE", path_regex="/recipients/leaver$", status=500, applied=True)


# --- through the CLI: the run ends ROLLED_BACK with every field back --------------------------


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


@pytest.fixture
def enriched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, emulator: EmulatorServer, database_url: str
) -> Path:
    """The first pack applied and then enriched by hand; returns the pruning pack's file."""
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", database_url)
    monkeypatch.setenv("DATABRICKS_TOKEN", EMULATOR_TOKEN)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "first.yaml").write_text(FIRST)
    (tmp_path / "pruned.yaml").write_text(PRUNED)
    code, out = _run("apply", "first.yaml", "--workspace", emulator.url, "--json")
    assert code == 0, out
    _enrich(_client(emulator))
    return tmp_path / "pruned.yaml"


def test_a_rolled_back_prune_restores_every_field_of_the_recipient_and_the_objects(
    enriched: Path, emulator: EmulatorServer
) -> None:
    client = _client(emulator)
    before = _as_set(client)
    assert before["recipient"]["expiration_time"] == EXPIRES
    assert before["objects"][CUSTOMERS]["partitions"]
    _fail_deleting_the_leaver_after_it_is_gone(emulator)

    code, out = _run("apply", str(enriched), "--workspace", emulator.url, "--json")

    body = json.loads(out)
    assert code == 1, out
    assert body["rollback_status"] == "ROLLED_BACK", body
    assert _as_set(client) == before


# --- through the engine: a re-creation that loses a field is reported -------------------------


def _pack(
    *, prune: bool, shares: Sequence[ShareSpec], recipients: Sequence[RecipientSpec]
) -> SharePackConfig:
    return SharePackConfig(
        metadata=Metadata(
            requestor="ana@example.com",
            project_name="Partners",
            business_line="Sales",
            strategy=Strategy.UPDATE,
            prune=prune,
        ),
        recipients=tuple(recipients),
        shares=tuple(shares),
    )


KEEPER = RecipientSpec(name="keeper", type=RecipientType.D2O, email="k@partner.example.com")
LEAVER = RecipientSpec(
    name="leaver", type=RecipientType.D2O, email="l@partner.example.com", comment="Leaving partner"
)
KEPT = ShareSpec(
    name="kept_share", recipients=("keeper",), data_objects=("prod_catalog.sales.transactions",)
)
GONE = ShareSpec(name="gone_share", recipients=("leaver",), data_objects=(ORDERS,))
FIRST_PACK = _pack(prune=False, shares=(KEPT, GONE), recipients=(KEEPER, LEAVER))
PRUNED_PACK = _pack(prune=True, shares=(KEPT,), recipients=(KEEPER,))


class LossyWorkspace(SdkWorkspace):
    """Re-creates as the old adapter did: objects without change data feed, recipients
    without their expiry."""

    def update_share_objects(
        self,
        name: str,
        add: Sequence[ShareObjectState],
        remove: Sequence[str],
        update: Sequence[ShareObjectState] = (),
    ) -> None:
        lossy = [replace(o, cdf_enabled=None) for o in add]
        super().update_share_objects(name, lossy, remove, update)

    def create_recipient(self, recipient: RecipientState) -> RecipientState:
        return super().create_recipient(replace(recipient, expiration_time=None))


def test_verification_names_each_field_a_rollback_failed_to_restore(
    emulator: EmulatorServer,
) -> None:
    workspace = LossyWorkspace(make_client(emulator.url, token=EMULATOR_TOKEN))
    first = plan(FIRST_PACK, read_names(workspace, names_of(FIRST_PACK)))
    assert apply(first, workspace, InMemoryJournal()).ok
    _enrich(_client(emulator))
    retired = ResourceNames(recipients=("keeper", "leaver"), shares=("kept_share", "gone_share"))
    before = read_names(workspace, names_to_read(PRUNED_PACK, retired))
    the_plan = plan(PRUNED_PACK, before, PlanOptions(retired=retired))
    _fail_deleting_the_leaver_after_it_is_gone(emulator)
    journal = InMemoryJournal()

    result = apply(the_plan, workspace, journal)
    assert result.failed is not None, "deleting the leaver should fail"
    assert result.failed.resource == "leaver", result.error
    undone = rollback(
        result.done, workspace, journal, before=before, names=the_plan.names, failed=result.failures
    )

    assert not undone.restored
    assert undone.failures == ()
    assert sorted(undone.differences) == [
        f"recipient 'leaver': expiration_time is None (was {EXPIRES})",
        # Compared as the service fills them: unset change data feed is off, so only the
        # object that had it on lost something.
        f"share 'gone_share': object '{ORDERS}' cdf_enabled is False (was True)",
    ]
