"""Prune against the emulator, through the engine as the CLI and the worker drive it.

Pack A provisions s1 + r1 and s2 + r2; pack B (UPDATE, prune) names only s1 + r1 and is
planned with A's names as retired: s2 and r2 go, s1 and r1 stay. A failure while deleting
r2 is rolled back: s2 comes back with its objects and grants, r2 with its grants on every
share, and verification finds nothing different (a re-created TOKEN recipient has a new
activation link, which verification does not compare).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.engine import (
    InMemoryJournal,
    Plan,
    PlanOptions,
    ResourceNames,
    apply,
    names_of,
    names_to_read,
    plan,
    read_names,
    rollback,
)
from sharepack.engine.actions import ActionKind
from sharepack.packfile.models import (
    Metadata,
    RecipientSpec,
    RecipientType,
    SharePackConfig,
    ShareSpec,
    Strategy,
)
from sharepack.workspace.sdk import SdkWorkspace, make_client
from sharepack.workspace.state import WorkspaceState
from tests.conftest import EMULATOR_TOKEN
from tests.emulator_helpers import emulator_state

S1_TABLES = ("prod_catalog.sales.transactions",)
S2_TABLES = ("prod_catalog.sales.customers", "prod_catalog.sales.orders", "prod_catalog.sales")
R1 = RecipientSpec(
    name="prune-r1",
    type=RecipientType.D2O,
    email="r1@partner.example.com",
    allowed_ips=("10.1.0.0/16",),
)
R2 = RecipientSpec(
    name="prune-r2",
    type=RecipientType.D2O,
    email="r2@partner.example.com",
    allowed_ips=("10.2.0.0/16", "198.51.100.7"),
    comment="Leaving partner",
)
S1 = ShareSpec(name="prune_s1", recipients=("prune-r1",), data_objects=S1_TABLES)
S2 = ShareSpec(
    name="prune_s2",
    comment="Retired share",
    recipients=("prune-r1", "prune-r2"),
    data_objects=S2_TABLES,
)
ELSEWHERE = "prune_elsewhere"  # another project's share, granting r1 (which the pack keeps)


def _pack(shares: tuple[ShareSpec, ...], recipients: tuple[RecipientSpec, ...]) -> SharePackConfig:
    return SharePackConfig(
        metadata=Metadata(
            requestor="a@example.com",
            project_name="Prune",
            business_line="B",
            strategy=Strategy.UPDATE,
            prune=True,
        ),
        recipients=recipients,
        shares=shares,
    )


PACK_A = _pack((S1, S2), (R1, R2))
PACK_B = _pack((S1,), (R1,))
RETIRED = ResourceNames(
    recipients=names_of(PACK_A).recipients,
    shares=names_of(PACK_A).shares,
    pipelines=names_of(PACK_A).pipelines,
)


@pytest.fixture
def workspace(emulator: EmulatorServer) -> SdkWorkspace:
    """Pack A applied, and another project's share granting r1."""
    workspace = SdkWorkspace(make_client(emulator.url, token=EMULATOR_TOKEN))
    result = apply(
        plan(PACK_A, read_names(workspace, names_of(PACK_A))), workspace, InMemoryJournal()
    )
    assert result.ok, result.error
    workspace.create_share(ELSEWHERE, "Not this project's")
    workspace.update_share_grants(ELSEWHERE, ["prune-r1"], [])
    return workspace


def _plan_b(workspace: SdkWorkspace) -> tuple[WorkspaceState, Plan]:
    before = read_names(workspace, names_to_read(PACK_B, RETIRED))
    return before, plan(PACK_B, before, PlanOptions(retired=RETIRED))


def _sharing(emulator: EmulatorServer) -> dict[str, Any]:
    """The emulator's shares (name, comment, objects) and grants; recipients as declared."""
    state = emulator_state(emulator)
    return {
        "shares": {
            s["name"]: (s.get("comment"), sorted(o["name"] for o in s["objects"]))
            for s in state["shares"]
        },
        "grants": state["grants"],
        "recipients": {
            r["name"]: (r.get("comment"), r.get("ip_access_list"), r.get("properties_kvpairs"))
            for r in state["recipients"]
        },
    }


def test_pruning_deletes_what_the_pack_no_longer_names_and_keeps_the_rest(
    emulator: EmulatorServer, workspace: SdkWorkspace
) -> None:
    _, the_plan = _plan_b(workspace)

    result = apply(the_plan, workspace, InMemoryJournal())

    assert result.ok, result.error
    after = _sharing(emulator)
    assert "prune_s2" not in after["shares"]
    assert "prune-r2" not in after["recipients"]
    assert after["shares"]["prune_s1"] == (None, list(S1_TABLES))
    assert after["grants"]["prune_s1"] == {"prune-r1": ["SELECT"]}
    assert after["grants"][ELSEWHERE] == {"prune-r1": ["SELECT"]}
    assert "prune-r1" in after["recipients"]
    _, again = _plan_b(workspace)
    assert again.actions == ()


@pytest.mark.parametrize("applied", [False, True], ids=["refused", "deleted-then-500"])
def test_a_failed_recipient_delete_is_rolled_back_to_the_state_before(
    emulator: EmulatorServer, workspace: SdkWorkspace, applied: bool
) -> None:
    """`applied`: the workspace deletes r2 and then answers 500; rollback re-creates it."""
    before, the_plan = _plan_b(workspace)
    assert the_plan.actions[-1].kind is ActionKind.DELETE_RECIPIENT
    sharing_before = _sharing(emulator)
    httpx.post(
        f"{emulator.url}/_emulator/faults",
        json={
            "method": "DELETE",
            "path_regex": "/recipients/prune-r2$",
            "status": 500,
            "applied": applied,
        },
    ).raise_for_status()
    journal = InMemoryJournal()

    result = apply(the_plan, workspace, journal)
    assert result.failed is not None, "the delete of prune-r2 should fail"
    assert result.failed.resource == "prune-r2", result.error
    undone = rollback(
        result.done,
        workspace,
        journal,
        before=before,
        names=the_plan.names,
        failed=result.failures,
    )

    assert undone.restored, (undone.failures, undone.differences)
    assert _sharing(emulator) == sharing_before
    restored = read_names(workspace, the_plan.names)
    assert restored.recipient_grants["prune-r2"] == {"prune_s2"}
    assert restored.shares["prune_s2"].grantees == {"prune-r1", "prune-r2"}


def test_a_recipient_another_projects_share_grants_is_kept_with_a_warning(
    emulator: EmulatorServer, workspace: SdkWorkspace
) -> None:
    workspace.update_share_grants(ELSEWHERE, ["prune-r2"], [])

    _, the_plan = _plan_b(workspace)
    result = apply(the_plan, workspace, InMemoryJournal())

    assert result.ok, result.error
    after = _sharing(emulator)
    assert "prune-r2" in after["recipients"]
    assert "prune_s2" not in after["shares"]
    assert after["grants"][ELSEWHERE] == {"prune-r1": ["SELECT"], "prune-r2": ["SELECT"]}
    assert any("Recipient 'prune-r2'" in w and ELSEWHERE in w for w in the_plan.warnings)


def test_a_share_delete_answered_not_found_after_it_took_effect_counts_as_done(
    emulator: EmulatorServer, workspace: SdkWorkspace
) -> None:
    _, the_plan = _plan_b(workspace)
    httpx.post(
        f"{emulator.url}/_emulator/faults",
        json={
            "method": "DELETE",
            "path_regex": "/shares/prune_s2$",
            "status": 404,
            "error_code": "RESOURCE_DOES_NOT_EXIST",
            "applied": True,
        },
    ).raise_for_status()

    result = apply(the_plan, workspace, InMemoryJournal())

    assert result.ok, result.error
