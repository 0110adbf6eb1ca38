"""Prune under UPDATE: what the project provisioned before and its pack no longer names.

A share goes in invertible steps (grants, objects, then the empty share); a recipient's
grants on every share are revoked before it is deleted, last; pipelines are only warned
about. Undoing every action, newest first, gives back the workspace as it was.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from sharepack.engine import Plan, PlanOptions, ResourceNames, names_to_read, plan
from sharepack.engine.actions import ActionKind, DeleteShare, PlanAction, UpdateShareGrants
from sharepack.engine.plan import MAX_OBJECT_UPDATES
from sharepack.engine.plan_pipelines import job_name
from sharepack.engine.serialise import (
    action_from_dict,
    action_to_dict,
    state_from_dict,
    state_to_dict,
)
from sharepack.packfile.models import (
    Metadata,
    RecipientSpec,
    RecipientType,
    SharePackConfig,
    ShareSpec,
    Strategy,
)
from sharepack.workspace.memory import DEFAULT_USER
from sharepack.workspace.state import (
    AuthenticationType,
    DataObjectType,
    HistoryDataSharingStatus,
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)
from tests.engine.test_plan_cases import execution_order, state_after

K = ActionKind
TABLE = "prod_catalog.sales.transactions"
OLD_TABLES = tuple(f"bench_catalog.bench.t{i:04d}" for i in range(MAX_OBJECT_UPDATES + 50))
METASTORE = "azure:eastus:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
OWNER = DEFAULT_USER  # the in-memory workspace's user, who made everything here
DISABLED = HistoryDataSharingStatus.DISABLED

ANALYST = RecipientSpec(
    name="analyst", type=RecipientType.D2O, email="a@partner.example.com", allowed_ips=("10.0.0.1",)
)
SALES = ShareSpec(name="sales", recipients=("analyst",), data_objects=(TABLE,))

ANALYST_STATE = RecipientState(
    name="analyst",
    authentication_type=AuthenticationType.TOKEN,
    allowed_ips=("10.0.0.1",),
    contact_email="a@partner.example.com",
    owner=OWNER,
)
OLD_PARTNER = RecipientState(
    name="old_partner",
    authentication_type=AuthenticationType.DATABRICKS,
    comment="Former partner",
    metastore_id=METASTORE,
    contact_email="old@partner.example.com",
    owner=OWNER,
)
OLD_TOKEN = RecipientState(
    name="old_token",
    authentication_type=AuthenticationType.TOKEN,
    allowed_ips=("10.9.0.0/16",),
    owner=OWNER,
)
OLD_SHARE = ShareState(
    name="old_share",
    comment="Old tables",
    objects=(
        *(
            ShareObjectState(
                name=t,
                shared_as=f"bench.{t.rsplit('.', 1)[1]}",
                history_data_sharing_status=DISABLED,
            )
            for t in OLD_TABLES
        ),
        ShareObjectState(
            name="prod_catalog.sales",
            data_object_type=DataObjectType.SCHEMA,
            history_data_sharing_status=DISABLED,
        ),
    ),
    grantees=frozenset({"analyst", "old_partner"}),
)
OLD_FEED = PipelineState(
    name="old_feed",
    source_asset="raw_catalog.sales.transactions",
    target_asset="prod_catalog.sales.old_daily",
    pipeline_id="pipeline-old",
)
OLD_JOB = ScheduleJobState(
    name=job_name("old_feed"),
    pipeline_name="old_feed",
    quartz_cron="0 0 2 * * ?",
    job_id=7,
    pipeline_id="pipeline-old",
)
#: The workspace: the pack's own share and recipient, what the project made before and no
#: longer names, and `elsewhere`, another project's share (granting the pack's analyst);
#: each as a read answers it (owners, aliases and history status filled).
ACTUAL = WorkspaceState(
    recipients={"analyst": ANALYST_STATE, "old_partner": OLD_PARTNER, "old_token": OLD_TOKEN},
    shares={
        "sales": ShareState(
            name="sales",
            objects=(
                ShareObjectState(
                    name=TABLE, shared_as="sales.transactions", history_data_sharing_status=DISABLED
                ),
            ),
            grantees=frozenset({"analyst", "old_partner"}),
        ),
        "old_share": OLD_SHARE,
        "elsewhere": ShareState(name="elsewhere", grantees=frozenset({"analyst"})),
    },
    pipelines={"old_feed": OLD_FEED},
    jobs={OLD_JOB.name: OLD_JOB},
    existing_objects=frozenset({TABLE, *OLD_TABLES, "prod_catalog.sales"}),
    recipient_grants={
        "old_partner": frozenset({"sales", "old_share"}),
        "old_token": frozenset(),
    },
)
RETIRED = ResourceNames(
    recipients=("analyst", "old_partner", "old_token", "never_made"),
    shares=("SALES", "old_share", "never_made_share"),
    pipelines=("old_feed", "never_made_feed"),
)
PIPELINE_WARNING = (
    "Pipeline 'old_feed' is no longer in the pack; sharepack does not delete pipelines "
    "(that would drop the tables they produce): delete it by hand if it is no longer needed."
)


def pack(*, prune: bool = True, strategy: Strategy = Strategy.UPDATE) -> SharePackConfig:
    metadata = Metadata(
        requestor="a@example.com",
        project_name="P",
        business_line="B",
        strategy=strategy,
        prune=prune,
    )
    return SharePackConfig(metadata=metadata, recipients=(ANALYST,), shares=(SALES,))


def planned(
    config: SharePackConfig | None = None,
    actual: WorkspaceState = ACTUAL,
    retired: ResourceNames = RETIRED,
) -> Plan:
    return plan(config or pack(), actual, PlanOptions(retired=retired))


def by_id(the_plan: Plan) -> dict[str, Any]:
    """The plan's actions by id (of any type: each test knows which type it looks up)."""
    return {a.action_id: a for a in the_plan.actions}


def model(the_plan: Plan, actual: WorkspaceState) -> WorkspaceState:
    """`state_after` with the recipients' grants derived from the shares, as a read gives."""
    after = state_after(the_plan, actual)
    grants = {
        r: frozenset(s for s, share in after.shares.items() if r in share.grantees)
        for r in actual.recipient_grants
    }
    return replace(after, recipient_grants=grants)


def comparable(state: WorkspaceState) -> WorkspaceState:
    """What verification compares: a share's objects as a set, not in the order added."""
    shares = {
        n: replace(s, objects=tuple(sorted(s.objects, key=lambda o: o.name)))
        for n, s in state.shares.items()
    }
    return replace(state, shares=shares)


# --- what is planned -----------------------------------------------------------------------


def test_a_retired_share_is_emptied_in_invertible_steps_then_deleted() -> None:
    the_plan = planned()
    steps = [(a.action_id, a.kind) for a in the_plan.actions if a.resource == "old_share"]

    assert steps == [
        ("retire-share-grants:old_share", K.UPDATE_SHARE_GRANTS),
        ("retire-share-objects:old_share:1", K.UPDATE_SHARE_OBJECTS),
        ("retire-share-objects:old_share:2", K.UPDATE_SHARE_OBJECTS),
        ("delete-share:old_share", K.DELETE_SHARE),
    ]
    actions = by_id(the_plan)
    revoke = actions["retire-share-grants:old_share"]
    first, second = (
        actions["retire-share-objects:old_share:1"],
        actions["retire-share-objects:old_share:2"],
    )
    delete = actions["delete-share:old_share"]
    assert revoke.remove_grantees == ("analyst", "old_partner")
    assert not revoke.add_grantees
    assert first.depends_on == (revoke.action_id,)
    assert second.depends_on == (first.action_id,)
    assert delete.depends_on == (second.action_id,)
    assert len(first.remove_objects) == MAX_OBJECT_UPDATES
    assert (*first.removed_states, *second.removed_states) == OLD_SHARE.objects
    assert delete.before_share == ShareState(name="old_share", comment="Old tables")


def test_share_deletes_come_after_the_packs_own_share_work() -> None:
    ids = [a.action_id for a in planned().actions]

    assert ids.index("share-grants:sales") < ids.index("retire-share-grants:old_share")


def test_a_retired_recipient_is_revoked_on_every_share_granting_it_then_deleted_last() -> None:
    the_plan = planned()
    actions = by_id(the_plan)

    # sales: the pack's own prune revokes it; old_share: its deletion revokes everyone.
    assert "old_partner" in actions["share-grants:sales"].remove_grantees
    assert "old_partner" in actions["retire-share-grants:old_share"].remove_grantees
    deletes = [a for a in the_plan.actions if a.kind is K.DELETE_RECIPIENT]
    assert [a.resource for a in deletes] == ["old_partner", "old_token"]
    assert list(the_plan.actions[-2:]) == deletes
    for delete in deletes:
        others = {a.action_id for a in the_plan.actions if a.kind is not K.DELETE_RECIPIENT}
        assert set(delete.depends_on) == others, "a recipient goes only once all else is done"
    assert actions["delete-recipient:old_partner"].before == OLD_PARTNER
    assert actions["delete-recipient:old_token"].before == OLD_TOKEN


def test_a_retired_recipient_another_projects_share_grants_is_kept_with_a_warning() -> None:
    elsewhere = ShareState(name="elsewhere", grantees=frozenset({"analyst", "old_partner"}))
    actual = replace(
        ACTUAL,
        shares={**ACTUAL.shares, "elsewhere": elsewhere},
        recipient_grants={
            **ACTUAL.recipient_grants,
            "old_partner": frozenset({"sales", "old_share", "elsewhere"}),
        },
    )

    the_plan = planned(actual=actual)

    assert "delete-recipient:old_partner" not in by_id(the_plan)
    assert "delete-recipient:old_token" in by_id(the_plan)
    assert not [a for a in the_plan.actions if a.resource == "elsewhere"]
    assert any(
        w.startswith("Recipient 'old_partner' is no longer in the pack, but share(s) 'elsewhere'")
        for w in the_plan.warnings
    ), the_plan.warnings


def test_a_retired_recipient_a_share_of_the_pack_still_lists_is_kept() -> None:
    listed = SALES.model_copy(update={"recipients": ("analyst", "old_partner")})
    listing = pack().model_copy(update={"shares": (listed,)})

    the_plan = planned(config=listing)

    assert "delete-recipient:old_partner" not in by_id(the_plan)
    # Its grant goes only with the retired share that is deleted whole.
    revoking = [
        a.action_id
        for a in the_plan.actions
        if isinstance(a, UpdateShareGrants) and "old_partner" in a.remove_grantees
    ]
    assert revoking == ["retire-share-grants:old_share"]


def test_a_recipient_granted_only_on_a_retired_share_needs_no_revocation_of_its_own() -> None:
    actual = replace(
        ACTUAL,
        recipient_grants={**ACTUAL.recipient_grants, "old_partner": frozenset({"old_share"})},
    )
    actual = replace(actual, shares={k: v for k, v in actual.shares.items() if k != "elsewhere"})

    the_plan = planned(actual=actual)

    assert not [a for a in the_plan.actions if a.action_id.startswith("retire-grants:")]
    assert "delete-recipient:old_partner" in by_id(the_plan)


@pytest.mark.parametrize(
    "config",
    [pack(prune=False), pack(prune=False, strategy=Strategy.NEW)],
    ids=["update-without-prune", "new-without-prune"],
)
def test_without_prune_retired_resources_are_left_alone_without_a_warning(
    config: SharePackConfig,
) -> None:
    the_plan = planned(config)

    assert {a.resource for a in the_plan.actions} <= {"sales"}
    assert not [w for w in the_plan.warnings if "no longer" in w]
    assert the_plan.names.recipients == ("analyst",)
    assert the_plan.names.shares == ("sales",)
    assert the_plan.names.recipient_grants == ()


def test_under_new_retired_resources_are_left_alone_without_a_warning() -> None:
    """NEW that stays NEW (nothing of the pack exists yet): prune does not apply."""
    actual = replace(
        ACTUAL,
        recipients={k: v for k, v in ACTUAL.recipients.items() if k != "analyst"},
        shares={k: v for k, v in ACTUAL.shares.items() if k != "sales"},
    )

    the_plan = planned(pack(strategy=Strategy.NEW), actual)

    assert the_plan.strategy is Strategy.NEW
    assert {a.kind for a in the_plan.actions} <= {
        K.CREATE_RECIPIENT,
        K.CREATE_SHARE,
        K.UPDATE_SHARE_OBJECTS,
        K.UPDATE_SHARE_GRANTS,
    }
    assert {a.resource for a in the_plan.actions} == {"analyst", "sales"}
    assert not [w for w in the_plan.warnings if "no longer" in w]


def test_new_switched_to_update_prunes_like_update() -> None:
    the_plan = planned(pack(strategy=Strategy.NEW))

    assert the_plan.strategy is Strategy.UPDATE
    assert "delete-share:old_share" in by_id(the_plan)


def test_retired_names_that_do_not_exist_plan_nothing() -> None:
    retired = ResourceNames(
        recipients=("never_made",), shares=("never_made_share",), pipelines=("never_made_feed",)
    )

    the_plan = planned(retired=retired)

    assert not [a for a in the_plan.actions if "never_made" in a.resource]
    assert not [w for w in the_plan.warnings if "no longer" in w]
    assert "never_made" not in the_plan.names.recipients
    assert "never_made_share" not in the_plan.names.shares


def test_a_retired_pipeline_is_warned_about_and_never_deleted() -> None:
    the_plan = planned()

    assert PIPELINE_WARNING in the_plan.warnings
    assert not [a for a in the_plan.actions if a.resource in ("old_feed", OLD_JOB.name)]
    assert "old_feed" not in the_plan.names.pipelines


@pytest.mark.parametrize(
    ("share", "recipient"), [("sales", "analyst"), ("SALES", "ANALYST"), ("Sales", "Analyst")]
)
def test_a_retired_name_the_pack_still_names_is_kept_whatever_its_case(
    share: str, recipient: str
) -> None:
    retired = ResourceNames(recipients=(recipient,), shares=(share,))

    the_plan = planned(retired=retired)

    assert not [a for a in the_plan.actions if a.kind in (K.DELETE_SHARE, K.DELETE_RECIPIENT)]
    assert the_plan.names.shares == ("sales",)


def test_plan_names_hold_the_retired_resources_it_acts_on() -> None:
    names = planned().names

    assert names.recipients == ("analyst", "old_partner", "old_token")
    assert names.shares == ("sales", "old_share")
    assert names.recipient_grants == ("old_partner", "old_token")


def test_names_to_read_add_the_retired_names_the_pack_no_longer_names() -> None:
    names = names_to_read(pack(), RETIRED)

    assert names.recipients == ("analyst", "old_partner", "old_token", "never_made")
    assert names.shares == ("sales", "old_share", "never_made_share")
    assert names.pipelines == ("old_feed", "never_made_feed")
    assert names.recipient_grants == ("old_partner", "old_token", "never_made")
    assert names.objects == (TABLE,)


def test_names_to_read_without_prune_are_the_packs_own() -> None:
    names = names_to_read(pack(prune=False), RETIRED)

    assert names == names_to_read(pack(prune=False), ResourceNames())
    assert names.recipients == ("analyst",)


# --- applying and undoing -----------------------------------------------------------------


def test_applied_the_plan_leaves_only_what_the_pack_names_and_replans_to_nothing() -> None:
    the_plan = planned()
    after = model(the_plan, ACTUAL)

    assert set(after.recipients) == {"analyst"}
    assert set(after.shares) == {"sales", "elsewhere"}
    assert after.shares["elsewhere"].grantees == {"analyst"}
    assert after.shares["sales"].grantees == {"analyst"}
    assert after.pipelines == ACTUAL.pipelines
    assert after.jobs == ACTUAL.jobs
    again = planned(actual=after)
    assert again.actions == ()


def test_a_share_and_a_recipient_are_deleted_only_once_nothing_holds_them() -> None:
    the_plan = planned()
    order = execution_order(the_plan)

    for index, action in enumerate(order):
        if action.kind not in (K.DELETE_SHARE, K.DELETE_RECIPIENT):
            continue
        prefix = Plan(tuple(order[:index]), the_plan.strategy, the_plan.names)
        state = state_after(prefix, ACTUAL)
        if action.kind is K.DELETE_SHARE:
            share = state.shares[action.resource]
            assert not share.objects, action.action_id
            assert not share.grantees, action.action_id
        else:
            holding = [s for s, share in state.shares.items() if action.resource in share.grantees]
            assert not holding, f"{action.action_id} while {holding} grant it"


def test_undoing_every_action_newest_first_restores_the_workspace() -> None:
    the_plan = planned()
    order = execution_order(the_plan)
    after = model(the_plan, ACTUAL)
    undos: list[PlanAction] = []
    for action in reversed(order):
        undo = action.inverse()
        assert undo is not None, f"{action.action_id} has no inverse"
        depends = (undos[-1].action_id,) if undos else ()
        undos.append(replace(undo, depends_on=depends))

    restored = model(Plan(tuple(undos), the_plan.strategy, the_plan.names), after)

    assert comparable(restored) == comparable(ACTUAL)


def test_the_inverse_of_a_delete_recreates_from_the_recorded_before_state() -> None:
    actions = by_id(planned())

    share = actions["delete-share:old_share"].inverse()
    recipient = actions["delete-recipient:old_partner"].inverse()

    assert share is not None
    assert (share.kind, share.comment) == (K.CREATE_SHARE, "Old tables")
    assert recipient is not None
    assert (recipient.kind, recipient.recipient) == (K.CREATE_RECIPIENT, OLD_PARTNER)


def test_a_journaled_delete_without_its_before_state_is_refused() -> None:
    deletion = action_to_dict(by_id(planned())["delete-recipient:old_partner"])
    deletion["before"] = None

    with pytest.raises(ValueError, match="has no before"):
        action_from_dict(deletion)


# --- the journal ----------------------------------------------------------------------------


def test_every_retiring_action_and_its_inverse_survive_the_journal() -> None:
    the_plan = planned()
    retiring = [a for a in the_plan.actions if a.resource not in ("sales", "analyst")]
    assert {a.kind for a in retiring} == {
        K.UPDATE_SHARE_GRANTS,
        K.UPDATE_SHARE_OBJECTS,
        K.DELETE_SHARE,
        K.DELETE_RECIPIENT,
    }

    for action in retiring:
        undo = action.inverse()
        assert undo is not None
        for value in (action, undo):
            assert action_from_dict(action_to_dict(value)) == value


def test_a_journal_entry_written_before_before_share_existed_still_reads() -> None:
    entry = action_to_dict(DeleteShare("delete-share:s", "s", before_share=ShareState("s", "c")))
    del entry["before_share"]

    # The share had been emptied before its deletion; its comment was not kept then.
    assert action_from_dict(entry) == DeleteShare(
        "delete-share:s", "s", before_share=ShareState("s")
    )


def test_a_snapshot_keeps_the_recipients_grants() -> None:
    assert state_from_dict(state_to_dict(ACTUAL)) == replace(ACTUAL, views=frozenset())
    older = state_to_dict(ACTUAL)
    del older["recipient_grants"]
    assert state_from_dict(older).recipient_grants == {}
