"""The plan is a value: tested without any I/O."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sharepack.engine import Plan, PlanOptions, plan
from sharepack.engine.actions import (
    ActionKind,
    UpdateRecipient,
    UpdateShareGrants,
    UpdateShareObjects,
)
from sharepack.engine.desired import desired_recipient
from sharepack.engine.serialise import (
    action_from_dict,
    action_to_dict,
    pipeline_from_dict,
    pipeline_to_dict,
)
from sharepack.errors import PlanError
from sharepack.packfile.models import (
    Metadata,
    PipelineSpec,
    RecipientSpec,
    RecipientType,
    ScheduleSpec,
    SharePackConfig,
    ShareSpec,
    Strategy,
)
from sharepack.workspace.state import (
    AuthenticationType,
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)

TABLE = "prod_catalog.sales.transactions"
ANALYST = RecipientSpec(name="analyst", type=RecipientType.D2O, allowed_ips=("10.0.0.1",))


def _pack(
    *,
    strategy: Strategy = Strategy.NEW,
    objects: tuple[str, ...] = (TABLE,),
    recipients: tuple[RecipientSpec, ...] = (ANALYST,),
) -> SharePackConfig:
    return SharePackConfig(
        metadata=Metadata(
            requestor="a@example.com", project_name="P", business_line="B", strategy=strategy
        ),
        recipients=recipients,
        shares=(
            ShareSpec(
                name="sales",
                recipients=tuple(r.name for r in recipients),
                data_objects=objects,
            ),
        ),
    )


def _empty(objects: tuple[str, ...] = (TABLE,)) -> WorkspaceState:
    return WorkspaceState(existing_objects=frozenset(objects))


def _applied(objects: tuple[str, ...] = (TABLE,)) -> WorkspaceState:
    return WorkspaceState(
        recipients={"analyst": desired_recipient(ANALYST)},
        shares={
            "sales": ShareState(
                name="sales",
                objects=tuple(ShareObjectState(name=o, shared_as="x.y") for o in objects),
                grantees=frozenset({"analyst"}),
            )
        },
        existing_objects=frozenset(objects),
    )


def test_new_pack_plans_recipient_share_objects_then_grants() -> None:
    the_plan = plan(_pack(), _empty())

    kinds = [a.kind for a in the_plan.actions]
    assert kinds == [
        ActionKind.CREATE_RECIPIENT,
        ActionKind.CREATE_SHARE,
        ActionKind.UPDATE_SHARE_OBJECTS,
        ActionKind.UPDATE_SHARE_GRANTS,
    ]
    grants = the_plan.actions[-1]
    assert set(grants.depends_on) == {"create-recipient:analyst", "share-objects:sales:1"}


def test_reapplying_an_applied_pack_plans_nothing_despite_server_filled_fields() -> None:
    the_plan = plan(_pack(strategy=Strategy.UPDATE), _applied())

    assert the_plan.is_empty


def test_new_strategy_switches_to_update_when_share_exists() -> None:
    the_plan = plan(_pack(), _applied())

    assert the_plan.strategy is Strategy.UPDATE
    assert the_plan.warnings == (
        "Auto-switched from NEW to UPDATE: 1 recipient(s) and 1 share(s) already exist. "
        "Existing resources will be updated, new ones will be created.",
    )


def test_new_strategy_with_existing_resources_can_be_refused() -> None:
    with pytest.raises(PlanError, match="1 recipient\\(s\\) and 1 share\\(s\\) already exist"):
        plan(_pack(), _applied(), PlanOptions(fail_on_existing_with_new=True))


def test_objects_are_batched_at_most_100_per_call_each_once() -> None:
    tables = tuple(f"bench_catalog.bench.t{i:04d}" for i in range(250))

    the_plan = plan(_pack(objects=tables), _empty(tables))

    batches = [a for a in the_plan.actions if a.kind is ActionKind.UPDATE_SHARE_OBJECTS]
    assert [len(b.add_objects) for b in batches] == [100, 100, 50]
    names = [o.name for b in batches for o in b.add_objects]
    assert sorted(names) == sorted(tables)
    assert batches[1].depends_on == (batches[0].action_id,)


def test_under_update_objects_the_pack_does_not_name_are_left_alone() -> None:
    extra = "prod_catalog.sales.customers"
    actual = _applied((TABLE, extra))

    the_plan = plan(_pack(strategy=Strategy.UPDATE), actual)

    assert the_plan.is_empty


def test_missing_table_fails_preflight_naming_it() -> None:
    with pytest.raises(PlanError, match=re.escape(f"'{TABLE}' does not exist")):
        plan(_pack(), _empty(objects=()))


def test_recipient_of_another_type_is_a_conflict() -> None:
    existing = RecipientState(
        name="analyst",
        authentication_type=AuthenticationType.DATABRICKS,
        metastore_id="azure:eastus:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
    )
    actual = WorkspaceState(recipients={"analyst": existing}, existing_objects=frozenset({TABLE}))

    with pytest.raises(PlanError, match="exists with DATABRICKS authentication"):
        plan(_pack(strategy=Strategy.UPDATE), actual)


def test_changed_ip_list_plans_an_update_whose_inverse_restores_it() -> None:
    changed = RecipientSpec(name="analyst", type=RecipientType.D2O, allowed_ips=("10.9.9.9",))

    the_plan = plan(_pack(strategy=Strategy.UPDATE, recipients=(changed,)), _applied())

    (update,) = the_plan.actions
    assert update.kind is ActionKind.UPDATE_RECIPIENT
    undo = update.inverse()
    assert undo is not None
    assert undo.recipient == desired_recipient(ANALYST)


def _with_undeclared_fields() -> WorkspaceState:
    """`_applied()` with a recipient holding what the pack does not declare."""
    existing = replace(
        desired_recipient(ANALYST),
        properties=(("partner.tier", "gold"),),
        expiration_time=1_900_000_000_000,
        owner="data-team",
    )
    return replace(_applied(), recipients={"analyst": existing})


def test_properties_expiry_and_owner_the_pack_does_not_declare_plan_nothing() -> None:
    assert plan(_pack(strategy=Strategy.UPDATE), _with_undeclared_fields()).actions == ()


def test_an_update_keeps_what_the_pack_does_not_declare_and_its_inverse_restores_all() -> None:
    actual = _with_undeclared_fields()
    changed = RecipientSpec(name="analyst", type=RecipientType.D2O, allowed_ips=("10.9.9.9",))

    (update,) = plan(_pack(strategy=Strategy.UPDATE, recipients=(changed,)), actual).actions

    assert isinstance(update, UpdateRecipient)
    before = actual.recipients["analyst"]
    assert update.recipient == replace(before, allowed_ips=("10.9.9.9",))
    assert update.inverse().recipient == before


def test_every_planned_action_survives_the_journal_round_trip() -> None:
    the_plan = plan(_pack(), _empty())

    for action in the_plan.actions:
        assert action_from_dict(action_to_dict(action)) == action


def test_a_pipeline_that_is_not_sharepacks_stays_so_through_the_journal() -> None:
    foreign = PipelineState(
        name="feed", source_asset="a.b.c", target_asset="a.b.d", runs_sharepack_notebook=False
    )

    assert pipeline_from_dict(pipeline_to_dict(foreign)) == foreign


def _pipeline_pack(target: str = "prod_catalog.sales.daily") -> SharePackConfig:
    from sharepack.packfile.models import PipelineSpec, ScheduleSpec

    pipeline = PipelineSpec(
        name="daily_feed",
        source_asset="raw_catalog.sales.transactions",
        target_asset=target,
        key_columns=("transaction_id",),
        schedule=ScheduleSpec(cron="0 0 2 * * ?", timezone="UTC"),
        tags={"cost_center": "123"},
    )
    return SharePackConfig(
        metadata=Metadata(requestor="a@example.com", project_name="P", business_line="B"),
        recipients=(ANALYST,),
        shares=(
            ShareSpec(
                name="sales",
                recipients=("analyst",),
                data_objects=(target,),
                pipelines=(pipeline,),
            ),
        ),
    )


def test_table_produced_by_the_pack_is_shared_after_the_first_update() -> None:
    actual = WorkspaceState(existing_objects=frozenset({"raw_catalog.sales.transactions"}))

    the_plan = plan(_pipeline_pack(), actual)

    by_id: dict[str, Any] = {a.action_id: a for a in the_plan.actions}
    run = by_id["run-pipeline:daily_feed"]
    assert run.depends_on == ("create-pipeline:daily_feed",)
    assert by_id["create-job:daily_feed_schedule"].job is not None
    assert by_id["create-job:daily_feed_schedule"].depends_on == ("create-pipeline:daily_feed",)
    assert "run-pipeline:daily_feed" in by_id["share-objects:sales:1"].depends_on


def test_missing_pipeline_source_fails_preflight() -> None:
    with pytest.raises(
        PlanError, match=r"source 'raw_catalog\.sales\.transactions' does not exist"
    ):
        plan(_pipeline_pack(), WorkspaceState())


def test_reapplying_a_pack_with_a_pipeline_plans_nothing() -> None:
    from sharepack.engine.plan_pipelines import desired_job, desired_pipeline

    config = _pipeline_pack()
    spec = config.shares[0].pipelines[0]
    job = desired_job(spec)
    assert job is not None
    target = spec.target_asset
    actual = WorkspaceState(
        recipients={"analyst": desired_recipient(ANALYST)},
        shares={
            "sales": ShareState(
                name="sales",
                objects=(ShareObjectState(name=target),),
                grantees=frozenset({"analyst"}),
            )
        },
        pipelines={"daily_feed": replace(desired_pipeline(spec), pipeline_id="p-1")},
        jobs={job.name: replace(job, job_id=7, pipeline_id="p-1")},
        existing_objects=frozenset({target, spec.source_asset}),
    )

    assert plan(config, actual).is_empty


@pytest.mark.parametrize("schedule", ["CONTINUOUS", None], ids=["continuous", "no-schedule"])
def test_pipeline_no_longer_on_a_cron_loses_its_schedule_job(schedule: str | None) -> None:
    from sharepack.engine.plan import names_of
    from sharepack.engine.plan_pipelines import desired_job, desired_pipeline
    from sharepack.packfile.models import ScheduleSpec

    scheduled = _pipeline_pack()
    spec = scheduled.shares[0].pipelines[0]
    job = desired_job(spec)
    assert job is not None
    actual = WorkspaceState(
        recipients={"analyst": desired_recipient(ANALYST)},
        shares={
            "sales": ShareState(
                name="sales",
                objects=(ShareObjectState(name=spec.target_asset),),
                grantees=frozenset({"analyst"}),
            )
        },
        pipelines={"daily_feed": replace(desired_pipeline(spec), pipeline_id="p-1")},
        jobs={job.name: replace(job, job_id=7, pipeline_id="p-1")},
        existing_objects=frozenset({spec.target_asset, spec.source_asset}),
    )
    changed = spec.model_copy(
        update={"schedule": ScheduleSpec(continuous=True) if schedule else None}
    )
    share = scheduled.shares[0].model_copy(update={"pipelines": (changed,)})
    config = scheduled.model_copy(update={"shares": (share,)})

    the_plan = plan(config, actual)

    assert job.name in names_of(config).jobs
    kinds = {a.kind: a for a in the_plan.actions}
    deletion = kinds[ActionKind.DELETE_SCHEDULE_JOB]
    assert deletion.resource == "daily_feed_schedule"
    assert set(kinds) == (
        {ActionKind.UPDATE_PIPELINE, ActionKind.DELETE_SCHEDULE_JOB}
        if schedule
        else {ActionKind.DELETE_SCHEDULE_JOB}
    )
    undo = deletion.inverse()
    assert undo is not None
    assert undo.kind is ActionKind.CREATE_SCHEDULE_JOB
    assert undo.job == actual.jobs[job.name]


def test_prune_removes_objects_and_grants_the_pack_no_longer_names() -> None:
    extra = ShareObjectState(name="prod_catalog.sales.customers", shared_as="sales.customers")
    actual = _applied()
    share = actual.shares["sales"]
    actual = replace(
        actual,
        shares={
            "sales": replace(
                share, objects=(*share.objects, extra), grantees=frozenset({"analyst", "old"})
            )
        },
    )
    config = _pack(strategy=Strategy.UPDATE)
    config = config.model_copy(
        update={"metadata": config.metadata.model_copy(update={"prune": True})}
    )

    the_plan = plan(config, actual)

    objects, grants = the_plan.actions
    assert isinstance(objects, UpdateShareObjects)
    assert isinstance(grants, UpdateShareGrants)
    assert objects.remove_objects == ("prod_catalog.sales.customers",)
    assert grants.remove_grantees == ("old",)
    assert objects.inverse().add_objects == (extra,)


# --- properties over random packs and random workspaces -------------------------------------

TABLES = tuple(f"prop_catalog.sales.t{i:03d}" for i in range(260))
SOURCES = tuple(f"raw_catalog.sales.s{i}" for i in range(3))
RECIPIENT_NAMES = ("r0", "r1", "r2", "r3")
SHARE_NAMES = ("s0", "s1", "s2")
#: Two metastores for each recipient name: a workspace holds one recipient per metastore.
METASTORES = {
    name: (
        f"azure:eastus:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a{index:02d}",
        f"aws:us-west-2:11111111-2222-3333-4444-5555555555{index:02d}",
    )
    for index, name in enumerate(RECIPIENT_NAMES)
}
COMMENTS = st.sampled_from(["", "one", "two"])
EMAILS = st.sampled_from([None, "a@example.com", "b@example.com"])
IP_LISTS = st.sampled_from([(), ("10.0.0.1",), ("10.0.0.1", "10.1.0.0/16")])
TAGS = st.sampled_from([{}, {"cost_center": "1"}, {"cost_center": "2", "team": "x"}])
NOTIFICATIONS = st.sampled_from([(), ("ops@example.com",)])
SCHEDULES = st.sampled_from(
    [
        None,
        ScheduleSpec(continuous=True),
        ScheduleSpec(cron="0 0 2 * * ?"),
        ScheduleSpec(cron="0 0 2 * * ?", timezone="Europe/Paris"),
        ScheduleSpec(cron="0 30 3 * * ?"),
    ]
)


def _slice(draw: st.DrawFn, pool: tuple[str, ...], most: int) -> tuple[str, ...]:
    start = draw(st.integers(0, len(pool) - 1))
    return pool[start : start + draw(st.integers(0, most))]


@st.composite
def recipient_specs(draw: st.DrawFn, name: str) -> RecipientSpec:
    if draw(st.booleans()):
        return RecipientSpec(
            name=name, type=RecipientType.D2O, email=draw(EMAILS), allowed_ips=draw(IP_LISTS)
        )
    metastore = draw(st.sampled_from(METASTORES[name]))
    return RecipientSpec(name=name, type=RecipientType.D2D, metastore_id=metastore)


@st.composite
def pipeline_specs(draw: st.DrawFn, share: str, number: int) -> PipelineSpec:
    scd_type = draw(st.sampled_from(["1", "2"]))
    return PipelineSpec(
        name=f"{share}_p{number}",
        source_asset=draw(st.sampled_from(SOURCES)),
        # Each target is its own share's: a table shared by two shares is covered apart.
        target_asset=f"prop_catalog.feeds.{share}_p{number}",
        scd_type=scd_type,
        key_columns=("id",) if scd_type == "2" else draw(st.sampled_from([(), ("id",)])),
        schedule=draw(SCHEDULES),
        serverless=draw(st.booleans()),
        tags=draw(TAGS),
        notification=draw(NOTIFICATIONS),
    )


@st.composite
def random_packs(draw: st.DrawFn) -> SharePackConfig:
    names = draw(st.lists(st.sampled_from(RECIPIENT_NAMES), unique=True, max_size=3))
    shares = []
    for share in draw(st.lists(st.sampled_from(SHARE_NAMES), unique=True, max_size=2)):
        pipelines = tuple(draw(pipeline_specs(share, n)) for n in range(draw(st.integers(0, 2))))
        objects = (*_slice(draw, TABLES, 230), *(p.target_asset for p in pipelines))
        shares.append(
            ShareSpec(
                name=share,
                comment=draw(COMMENTS),
                recipients=tuple(draw(st.lists(st.sampled_from(names), unique=True)))
                if names
                else (),
                data_objects=objects,
                pipelines=pipelines,
            )
        )
    return SharePackConfig(
        metadata=Metadata(
            requestor="a@example.com",
            project_name="P",
            business_line="B",
            strategy=draw(st.sampled_from(list(Strategy))),
            prune=draw(st.booleans()),
        ),
        recipients=tuple(draw(recipient_specs(n)) for n in names),
        shares=tuple(shares),
    )


@st.composite
def random_states(draw: st.DrawFn, config: SharePackConfig) -> WorkspaceState:
    """A workspace holding some of what `config` names, each as it was or with a difference."""
    from sharepack.engine.plan_pipelines import desired_job, desired_pipeline, job_name

    declared = {r.name: r for r in config.recipients}
    recipients = {}
    for name in RECIPIENT_NAMES:
        if draw(st.integers(0, 2)) == 0:
            continue
        # Mostly the declared recipient, perhaps changed; now and then one of another type.
        known = declared.get(name) if draw(st.integers(0, 3)) else None
        recipient = desired_recipient(known or draw(recipient_specs(name)))
        if draw(st.booleans()):
            recipient = replace(recipient, comment=draw(COMMENTS), contact_email=draw(EMAILS))
            if recipient.authentication_type is AuthenticationType.TOKEN:
                recipient = replace(recipient, allowed_ips=draw(IP_LISTS))
        recipients[name] = recipient
    shares = {}
    for name in SHARE_NAMES:
        if draw(st.booleans()):
            objects = tuple(ShareObjectState(name=o) for o in _slice(draw, TABLES, 150))
            grantees = draw(st.lists(st.sampled_from((*RECIPIENT_NAMES, "old")), unique=True))
            shares[name] = ShareState(name, draw(COMMENTS), objects, frozenset(grantees))
    pipelines: dict[str, PipelineState] = {}
    jobs: dict[str, ScheduleJobState] = {}
    targets = set()
    for share in config.shares:
        for feed in share.pipelines:
            if draw(st.booleans()):
                other = draw(pipeline_specs(share.name, int(feed.name[-1])))
                pipeline = desired_pipeline(feed if draw(st.booleans()) else other)
                pipelines[feed.name] = replace(pipeline, pipeline_id=f"id-{feed.name}")
                if draw(st.booleans()):
                    targets.add(feed.target_asset)
            job = desired_job(feed.model_copy(update={"schedule": draw(SCHEDULES)}))
            if job is not None and draw(st.booleans()):
                job_id = len(jobs) + 1  # each job its own id, as in a workspace
                jobs[job_name(feed.name)] = replace(
                    job, job_id=job_id, pipeline_id=f"id-{feed.name}"
                )
    return WorkspaceState(
        recipients, shares, pipelines, jobs, frozenset({*TABLES, *SOURCES, *targets})
    )


@st.composite
def packs_and_states(draw: st.DrawFn) -> tuple[SharePackConfig, WorkspaceState]:
    config = draw(random_packs())
    return config, draw(random_states(config))


def _plan_or_error(config: SharePackConfig, actual: WorkspaceState) -> Plan | str:
    try:
        return plan(config, actual)
    except PlanError as exc:
        return str(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packs_and_states())
def test_any_plan_is_deterministic_ordered_batched_and_complete(
    case: tuple[SharePackConfig, WorkspaceState],
) -> None:
    from tests.engine.test_plan_cases import assert_well_formed, state_after

    config, actual = case

    first, second = _plan_or_error(config, actual), _plan_or_error(config, actual)

    assert first == second
    if isinstance(first, str):
        return  # a conflict: refused the same way each time
    assert_well_formed(first)
    after = state_after(first, actual)  # in the order that strays furthest from the plan's
    assert plan(config, after).actions == ()
