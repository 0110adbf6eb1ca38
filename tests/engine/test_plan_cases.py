"""The plan, case by case: each change to a pack plans exactly its actions, and nothing more.

Every case is also re-planned against the workspace its plan leaves when applied to an
`InMemoryWorkspace` holding the case's state (`state_after`): that plan must be empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import pytest

from sharepack.engine import Plan, PlanOptions, ResourceNames, plan
from sharepack.engine.actions import (
    Action,
    ActionKind,
    CreatePipeline,
    PlanAction,
    RunPipelineUpdate,
    UpdatePipeline,
    UpdateShareGrants,
    UpdateShareObjects,
)
from sharepack.engine.apply import execute
from sharepack.engine.desired import as_declared, desired_recipient
from sharepack.engine.plan import MAX_OBJECT_UPDATES
from sharepack.engine.plan_pipelines import desired_job, desired_pipeline, job_name
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
from sharepack.workspace.memory import InMemoryWorkspace
from sharepack.workspace.state import (
    AuthenticationType,
    DataObjectType,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)

K = ActionKind
A = TypeVar("A", bound=Action)
WITH_PIPELINE = (CreatePipeline, UpdatePipeline, RunPipelineUpdate)
TABLE = "prod_catalog.sales.transactions"
CUSTOMERS = "prod_catalog.sales.customers"
ORDERS = "prod_catalog.sales.orders"
SOURCE = "raw_catalog.sales.transactions"
OTHER_SOURCE = "raw_catalog.sales.orders"
TARGET = "prod_catalog.sales.daily"
LIVE_TARGET = "prod_catalog.sales.live"
METASTORE = "azure:eastus:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
OTHER_METASTORE = "aws:us-west-2:11111111-2222-3333-4444-555555555555"
BENCH = tuple(f"bench_catalog.bench.t{i:04d}" for i in range(300))
#: The tables the catalog holds before any pack runs; pipeline targets are not among them.
CATALOG = frozenset({TABLE, CUSTOMERS, ORDERS, SOURCE, OTHER_SOURCE, *BENCH})

ANALYST = RecipientSpec(
    name="analyst",
    type=RecipientType.D2O,
    email="analyst@partner.example.com",
    allowed_ips=("10.0.0.1", "10.1.0.0/16"),
    comment="External analyst",
)
PARTNER = RecipientSpec(
    name="partner",
    type=RecipientType.D2D,
    email="data@partner.example.com",
    metastore_id=METASTORE,
    comment="Partner workspace",
)
NEWBIE = RecipientSpec(name="newbie", type=RecipientType.D2O, email="new@partner.example.com")
FEED = PipelineSpec(
    name="daily_feed",
    source_asset=SOURCE,
    target_asset=TARGET,
    key_columns=("transaction_id",),
    schedule=ScheduleSpec(cron="0 0 2 * * ?", timezone="UTC"),
    tags={"cost_center": "123"},
    notification=("ops@example.com",),
)
SALES = ShareSpec(
    name="sales",
    comment="Sales tables",
    recipients=("analyst", "partner"),
    data_objects=(TABLE, TARGET),
    pipelines=(FEED,),
)


# --- the workspace a plan leaves -------------------------------------------------------------


def execution_order(the_plan: Plan) -> list[PlanAction]:
    """The order the dependencies allow that strays furthest from the plan's own: always the
    latest ready action first, so a dependency the plan forgot to state shows."""
    waiting = list(the_plan.actions)
    done: set[str] = set()
    order: list[PlanAction] = []
    while waiting:
        ready = [a for a in waiting if set(a.depends_on) <= done]
        assert ready, f"unsatisfiable dependencies: {[a.action_id for a in waiting]}"
        action = ready[-1]
        waiting.remove(action)
        done.add(action.action_id)
        order.append(action)
    return order


def _server_shared_as(obj: ShareObjectState) -> ShareObjectState:
    if obj.shared_as or obj.data_object_type is not DataObjectType.TABLE:
        return obj
    return replace(obj, shared_as=obj.name.split(".", 1)[1])  # the server's default


def state_after(the_plan: Plan, actual: WorkspaceState) -> WorkspaceState:
    """The workspace left by applying `the_plan`, action by action in `execution_order`, to
    an `InMemoryWorkspace` holding `actual` (and the schemas its pipelines write to), as
    read back; a call the workspace refuses raises its `WorkspaceError`."""
    targets = {a.pipeline.target_asset for a in the_plan.actions if isinstance(a, WITH_PIPELINE)}
    workspace = InMemoryWorkspace(tables=CATALOG, schemas={t.rsplit(".", 1)[0] for t in targets})
    workspace.seed(actual)
    for action in execution_order(the_plan):
        execute(action, workspace)
    return workspace.read_state(
        recipients={*actual.recipients, *(a.resource for a in the_plan.actions)},
        shares={*actual.shares, *(a.resource for a in the_plan.actions)},
        pipelines={*actual.pipelines, *(a.resource for a in the_plan.actions)},
        jobs={*actual.jobs, *(a.resource for a in the_plan.actions)},
        objects={*actual.existing_objects, *targets},
        recipient_grants=actual.recipient_grants,
    )


def as_read(state: WorkspaceState) -> WorkspaceState:
    """`state` as a workspace holding it answers a read of it."""
    return state_after(Plan((), Strategy.UPDATE, ResourceNames()), state)


def assert_well_formed(the_plan: Plan) -> None:
    """Ids unique, each dependency earlier in the plan, object batches within the limit."""
    seen: set[str] = set()
    for action in the_plan.actions:
        assert action.action_id not in seen, f"duplicate id {action.action_id}"
        missing = set(action.depends_on) - seen
        assert not missing, f"{action.action_id} depends on later or unknown {missing}"
        seen.add(action.action_id)
        if action.kind is K.UPDATE_SHARE_OBJECTS:
            touched = [o.name for o in action.add_objects] + list(action.remove_objects)
            assert 0 < len(touched) <= MAX_OBJECT_UPDATES, action.action_id
            assert len(set(touched)) == len(touched), f"an object twice in {action.action_id}"


# --- building packs and states --------------------------------------------------------------


def pack(
    *,
    strategy: Strategy = Strategy.UPDATE,
    prune: bool = False,
    recipients: tuple[RecipientSpec, ...] = (ANALYST, PARTNER),
    shares: tuple[ShareSpec, ...] = (SALES,),
) -> SharePackConfig:
    metadata = Metadata(
        requestor="a@example.com",
        project_name="P",
        business_line="B",
        strategy=strategy,
        prune=prune,
    )
    return SharePackConfig(metadata=metadata, recipients=recipients, shares=shares)


def with_share(**changes: object) -> tuple[ShareSpec, ...]:
    return (SALES.model_copy(update=changes),)


def with_feed(**changes: object) -> tuple[ShareSpec, ...]:
    return with_share(pipelines=(FEED.model_copy(update=changes),))


EMPTY = WorkspaceState(existing_objects=CATALOG)
#: The workspace once the base pack is applied: the starting point of the UPDATE cases.
APPLIED = state_after(plan(pack(strategy=Strategy.NEW), EMPTY), EMPTY)


def applied_with(
    *, objects: Iterable[str] = (), grantees: Iterable[str] = (), **state: object
) -> WorkspaceState:
    """APPLIED, with extra objects and grantees on share `sales` nobody in the pack names."""
    share = APPLIED.shares["sales"]
    extra = tuple(_server_shared_as(ShareObjectState(name=o)) for o in objects)
    sales = replace(
        share, objects=(*share.objects, *extra), grantees=share.grantees | set(grantees)
    )
    return replace(APPLIED, shares={"sales": sales}, **state)  # type: ignore[arg-type]


def bench_share(objects: Iterable[str]) -> tuple[ShareSpec, ...]:
    return (ShareSpec(name="bench", data_objects=tuple(objects)),)


def bench_applied(objects: Iterable[str]) -> WorkspaceState:
    share = ShareState(name="bench", objects=tuple(ShareObjectState(name=o) for o in objects))
    return WorkspaceState(shares={"bench": share}, existing_objects=CATALOG)


# --- the cases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    config: SharePackConfig
    expected: tuple[tuple[ActionKind, str], ...]
    actual: WorkspaceState = APPLIED
    options: PlanOptions = field(default_factory=PlanOptions)


def _recipient(spec: RecipientSpec, **changes: object) -> RecipientSpec:
    return spec.model_copy(update=changes)


UPDATE_ANALYST = ((K.UPDATE_RECIPIENT, "analyst"),)
UPDATE_FEED = ((K.UPDATE_PIPELINE, "daily_feed"),)
SCHEDULE = job_name("daily_feed")
LIVE = PipelineSpec(
    name="live_feed",
    source_asset=OTHER_SOURCE,
    target_asset=LIVE_TARGET,
    scd_type="1",
    schedule=ScheduleSpec(continuous=True),
)
ORDERS_FEED = PipelineSpec(
    name="orders_feed", source_asset=OTHER_SOURCE, target_asset=ORDERS, scd_type="1"
)

CASES = [
    Case("unchanged", pack(), ()),
    Case(
        "new-pack-from-nothing",
        pack(strategy=Strategy.NEW),
        (
            (K.CREATE_RECIPIENT, "analyst"),
            (K.CREATE_RECIPIENT, "partner"),
            (K.CREATE_PIPELINE, "daily_feed"),
            (K.RUN_PIPELINE_UPDATE, "daily_feed"),
            (K.CREATE_SCHEDULE_JOB, SCHEDULE),
            (K.CREATE_SHARE, "sales"),
            (K.UPDATE_SHARE_OBJECTS, "sales"),
            (K.UPDATE_SHARE_GRANTS, "sales"),
        ),
        actual=EMPTY,
    ),
    Case("new-with-existing-switches-to-update", pack(strategy=Strategy.NEW), ()),
    Case(
        "recipient-comment",
        pack(recipients=(_recipient(ANALYST, comment="Now internal"), PARTNER)),
        UPDATE_ANALYST,
    ),
    Case(
        "recipient-contact-email",
        pack(recipients=(_recipient(ANALYST, email="other@partner.example.com"), PARTNER)),
        UPDATE_ANALYST,
    ),
    Case(
        "d2d-recipient-comment",
        pack(recipients=(ANALYST, _recipient(PARTNER, comment="Renamed team"))),
        ((K.UPDATE_RECIPIENT, "partner"),),
    ),
    Case(
        "ip-list-add",
        pack(
            recipients=(
                _recipient(ANALYST, allowed_ips=(*ANALYST.allowed_ips, "192.168.1.0/24")),
                PARTNER,
            )
        ),
        UPDATE_ANALYST,
    ),
    Case(
        "ip-list-remove",
        pack(recipients=(_recipient(ANALYST, allowed_ips=("10.0.0.1",)), PARTNER)),
        UPDATE_ANALYST,
    ),
    Case(
        "ip-list-clear",
        pack(recipients=(_recipient(ANALYST, allowed_ips=()), PARTNER)),
        UPDATE_ANALYST,
    ),
    Case(
        "share-comment",
        pack(shares=with_share(comment="Sales, curated")),
        ((K.UPDATE_SHARE_COMMENT, "sales"),),
    ),
    # A descriptive field the pack omits is not managed: the workspace's value stays.
    Case(
        "recipient-comment-omitted-is-kept",
        pack(recipients=(_recipient(ANALYST, comment=None), PARTNER)),
        (),
    ),
    Case(
        "recipient-comment-omitted-with-an-ip-change-is-kept",
        pack(recipients=(_recipient(ANALYST, comment=None, allowed_ips=("10.0.0.1",)), PARTNER)),
        UPDATE_ANALYST,
    ),
    Case(
        "recipient-comment-emptied-is-cleared",
        pack(recipients=(_recipient(ANALYST, comment=""), PARTNER)),
        UPDATE_ANALYST,
    ),
    Case("share-comment-omitted-is-kept", pack(shares=with_share(comment=None)), ()),
    Case(
        "share-comment-emptied-is-cleared",
        pack(shares=with_share(comment="")),
        ((K.UPDATE_SHARE_COMMENT, "sales"),),
    ),
    Case("pipeline-tags-omitted-are-kept", pack(shares=with_feed(tags=None)), ()),
    # A field that governs access, or what a pipeline does, is declared whole: omitted is none.
    Case(
        "recipient-email-omitted-is-removed",
        pack(recipients=(_recipient(ANALYST, email=None), PARTNER)),
        UPDATE_ANALYST,
    ),
    Case(
        "recipient-ips-omitted-are-removed",
        pack(
            recipients=(
                RecipientSpec(
                    name="analyst",
                    type=RecipientType.D2O,
                    email=ANALYST.email,
                    comment=ANALYST.comment,
                ),
                PARTNER,
            )
        ),
        UPDATE_ANALYST,
    ),
    Case(
        "pipeline-notification-omitted-is-removed",
        pack(shares=with_feed(notification=())),
        UPDATE_FEED,
    ),
    Case(
        "new-recipient-and-share-without-comments-are-created-without",
        pack(
            strategy=Strategy.NEW,
            recipients=(_recipient(ANALYST, comment=None), _recipient(PARTNER, comment=None)),
            shares=(
                SALES.model_copy(
                    update={"comment": None, "pipelines": (FEED.model_copy(update={"tags": None}),)}
                ),
            ),
        ),
        (
            (K.CREATE_RECIPIENT, "analyst"),
            (K.CREATE_RECIPIENT, "partner"),
            (K.CREATE_PIPELINE, "daily_feed"),
            (K.RUN_PIPELINE_UPDATE, "daily_feed"),
            (K.CREATE_SCHEDULE_JOB, SCHEDULE),
            (K.CREATE_SHARE, "sales"),
            (K.UPDATE_SHARE_OBJECTS, "sales"),
            (K.UPDATE_SHARE_GRANTS, "sales"),
        ),
        actual=EMPTY,
    ),
    Case(
        "objects-add-keeps-unnamed-without-prune",
        pack(shares=with_share(data_objects=(TABLE, TARGET, ORDERS))),
        ((K.UPDATE_SHARE_OBJECTS, "sales"),),
        actual=applied_with(objects=(CUSTOMERS,)),
    ),
    Case(
        "objects-add-removes-unnamed-with-prune",
        pack(prune=True, shares=with_share(data_objects=(TABLE, TARGET, ORDERS))),
        ((K.UPDATE_SHARE_OBJECTS, "sales"),),
        actual=applied_with(objects=(CUSTOMERS,)),
    ),
    Case(
        "objects-unnamed-alone-without-prune",
        pack(),
        (),
        actual=applied_with(objects=(CUSTOMERS, ORDERS)),
    ),
    Case(
        "grants-add-without-prune",
        pack(
            recipients=(ANALYST, PARTNER, NEWBIE),
            shares=with_share(recipients=("analyst", "partner", "newbie")),
        ),
        ((K.CREATE_RECIPIENT, "newbie"), (K.UPDATE_SHARE_GRANTS, "sales")),
        actual=applied_with(grantees=("old",)),
    ),
    Case(
        "grants-add-with-prune",
        pack(
            prune=True,
            recipients=(ANALYST, PARTNER, NEWBIE),
            shares=with_share(recipients=("analyst", "partner", "newbie")),
        ),
        ((K.CREATE_RECIPIENT, "newbie"), (K.UPDATE_SHARE_GRANTS, "sales")),
        actual=applied_with(grantees=("old",)),
    ),
    Case("grants-remove-without-prune", pack(shares=with_share(recipients=("analyst",))), ()),
    Case(
        "grants-remove-with-prune",
        pack(prune=True, shares=with_share(recipients=("analyst",))),
        ((K.UPDATE_SHARE_GRANTS, "sales"),),
    ),
    Case(
        "batches-250-new-objects",
        pack(strategy=Strategy.NEW, recipients=(), shares=bench_share(BENCH[:250])),
        ((K.CREATE_SHARE, "bench"), *[(K.UPDATE_SHARE_OBJECTS, "bench")] * 3),
        actual=EMPTY,
    ),
    Case(
        "batches-prune-removals-mixed-with-additions",
        pack(prune=True, recipients=(), shares=bench_share(BENCH[100:260])),
        ((K.UPDATE_SHARE_OBJECTS, "bench"),) * 3,
        actual=bench_applied(BENCH[:120]),
    ),
    Case("pipeline-scd-type", pack(shares=with_feed(scd_type="1")), UPDATE_FEED),
    Case(
        "pipeline-key-columns",
        pack(shares=with_feed(key_columns=("transaction_id", "line"))),
        UPDATE_FEED,
    ),
    Case("pipeline-serverless", pack(shares=with_feed(serverless=False)), UPDATE_FEED),
    Case("pipeline-tags", pack(shares=with_feed(tags={"cost_center": "456"})), UPDATE_FEED),
    Case("pipeline-tags-cleared", pack(shares=with_feed(tags={})), UPDATE_FEED),
    Case(
        "pipeline-notifications",
        pack(shares=with_feed(notification=("ops@example.com", "oncall@example.com"))),
        UPDATE_FEED,
    ),
    Case("pipeline-source", pack(shares=with_feed(source_asset=OTHER_SOURCE)), UPDATE_FEED),
    Case(
        "job-cron",
        pack(shares=with_feed(schedule=ScheduleSpec(cron="0 30 3 * * ?", timezone="UTC"))),
        ((K.UPDATE_SCHEDULE_JOB, SCHEDULE),),
    ),
    Case(
        "job-timezone",
        pack(shares=with_feed(schedule=ScheduleSpec(cron="0 0 2 * * ?", timezone="Europe/Paris"))),
        ((K.UPDATE_SCHEDULE_JOB, SCHEDULE),),
    ),
    Case(
        "cron-to-continuous-deletes-the-job",
        pack(shares=with_feed(schedule=ScheduleSpec(continuous=True))),
        ((K.UPDATE_PIPELINE, "daily_feed"), (K.DELETE_SCHEDULE_JOB, SCHEDULE)),
    ),
    Case(
        "new-continuous-pipeline-has-no-job",
        pack(shares=with_share(data_objects=(TABLE, TARGET, LIVE_TARGET), pipelines=(FEED, LIVE))),
        (
            (K.CREATE_PIPELINE, "live_feed"),
            (K.RUN_PIPELINE_UPDATE, "live_feed"),
            (K.UPDATE_SHARE_OBJECTS, "sales"),
        ),
    ),
    Case(
        "new-pipeline-whose-target-exists-is-not-waited-for",
        pack(
            shares=with_share(data_objects=(TABLE, TARGET, ORDERS), pipelines=(FEED, ORDERS_FEED))
        ),
        ((K.CREATE_PIPELINE, "orders_feed"), (K.UPDATE_SHARE_OBJECTS, "sales")),
    ),
]


def _plan(case: Case) -> Plan:
    return plan(case.config, case.actual, case.options)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_each_change_plans_exactly_its_actions(case: Case) -> None:
    the_plan = _plan(case)

    assert [(a.kind, a.resource) for a in the_plan.actions] == list(case.expected)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_reapplying_after_the_plan_is_applied_plans_nothing(case: Case) -> None:
    the_plan = _plan(case)

    after = state_after(the_plan, case.actual)

    assert plan(case.config, after, case.options).actions == ()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_plan_is_well_formed(case: Case) -> None:
    assert_well_formed(_plan(case))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_update_carries_the_desired_value_and_the_before_state(case: Case) -> None:
    the_plan = _plan(case)
    declared = {r.name: r for r in case.config.recipients}
    feeds = {p.name: p for s in case.config.shares for p in s.pipelines}

    for action in the_plan.actions:
        if action.kind is K.UPDATE_RECIPIENT:
            before = case.actual.recipients[action.resource]
            # What the pack declares; its owner, expiry and other properties kept as read.
            assert action.recipient == as_declared(
                desired_recipient(declared[action.resource], before), before
            )
            assert action.before == before
        elif action.kind is K.UPDATE_PIPELINE:
            was = case.actual.pipelines[action.resource]
            assert action.pipeline == desired_pipeline(feeds[action.resource], was)
            assert action.before_pipeline == case.actual.pipelines[action.resource]
        elif action.kind is K.UPDATE_SCHEDULE_JOB:
            owner = feeds[action.job.pipeline_name if action.job else ""]
            assert action.job == desired_job(owner)
            assert action.before_job == case.actual.jobs[action.resource]
        elif action.kind is K.UPDATE_SHARE_COMMENT:
            assert action.before_comment == case.actual.shares[action.resource].comment


# --- what the actions of some cases hold ----------------------------------------------------


def _only(the_plan: Plan, kind: type[A]) -> A:
    (action,) = [a for a in the_plan.actions if isinstance(a, kind)]
    return action


def _case(case_id: str) -> Case:
    (case,) = [c for c in CASES if c.id == case_id]
    return case


@pytest.mark.parametrize(
    ("case_id", "added", "removed"),
    [
        ("objects-add-keeps-unnamed-without-prune", (ORDERS,), ()),
        ("objects-add-removes-unnamed-with-prune", (ORDERS,), (CUSTOMERS,)),
    ],
)
def test_object_changes_under_update(
    case_id: str, added: tuple[str, ...], removed: tuple[str, ...]
) -> None:
    objects = _only(_plan(_case(case_id)), UpdateShareObjects)

    assert tuple(o.name for o in objects.add_objects) == added
    assert objects.remove_objects == removed


@pytest.mark.parametrize(
    ("case_id", "added", "removed"),
    [
        ("grants-add-without-prune", ("newbie",), ()),
        ("grants-add-with-prune", ("newbie",), ("old",)),
        ("grants-remove-with-prune", (), ("partner",)),
    ],
)
def test_grant_changes_under_update(
    case_id: str, added: tuple[str, ...], removed: tuple[str, ...]
) -> None:
    the_plan = _plan(_case(case_id))

    grants = _only(the_plan, UpdateShareGrants)

    assert grants.add_grantees == added
    assert grants.remove_grantees == removed
    created = {a.action_id for a in the_plan.actions if a.kind is K.CREATE_RECIPIENT}
    assert created <= set(grants.depends_on)


def test_250_new_objects_take_three_chained_calls_each_object_once() -> None:
    the_plan = _plan(_case("batches-250-new-objects"))

    batches = [a for a in the_plan.actions if a.kind is K.UPDATE_SHARE_OBJECTS]
    assert [len(b.add_objects) for b in batches] == [100, 100, 50]
    names = [o.name for b in batches for o in b.add_objects]
    assert sorted(names) == list(BENCH[:250])
    assert batches[0].depends_on == ("create-share:bench",)
    assert [b.depends_on for b in batches[1:]] == [(a.action_id,) for a in batches[:-1]]


def test_prune_removals_mixed_with_additions_stay_within_100_per_call() -> None:
    the_plan = _plan(_case("batches-prune-removals-mixed-with-additions"))

    batches = [a for a in the_plan.actions if a.kind is K.UPDATE_SHARE_OBJECTS]
    sizes = [len(b.add_objects) + len(b.remove_objects) for b in batches]
    assert sizes == [100, 100, 40]
    added = [o.name for b in batches for o in b.add_objects]
    removed = [n for b in batches for n in b.remove_objects]
    assert sorted(added) == list(BENCH[120:260])
    assert sorted(removed) == list(BENCH[:100])


def test_a_target_produced_by_the_pack_is_shared_after_create_and_first_update() -> None:
    the_plan = _plan(_case("new-pack-from-nothing"))

    by_id: dict[str, Any] = {a.action_id: a for a in the_plan.actions}
    assert by_id["run-pipeline:daily_feed"].depends_on == ("create-pipeline:daily_feed",)
    assert by_id["run-pipeline:daily_feed"].wait_seconds == PlanOptions().pipeline_wait_seconds
    assert set(by_id["share-objects:sales:1"].depends_on) == {
        "create-share:sales",
        "run-pipeline:daily_feed",
    }
    assert by_id["create-job:daily_feed_schedule"].depends_on == ("create-pipeline:daily_feed",)


def test_a_new_continuous_pipeline_is_run_before_its_target_is_shared() -> None:
    the_plan = _plan(_case("new-continuous-pipeline-has-no-job"))

    run = _only(the_plan, RunPipelineUpdate)
    assert run.pipeline is not None
    assert run.pipeline.continuous
    objects = _only(the_plan, UpdateShareObjects)
    assert objects.depends_on == (run.action_id,)
    assert [o.name for o in objects.add_objects] == [LIVE_TARGET]


def test_a_pipeline_whose_target_exists_does_not_hold_up_the_share() -> None:
    the_plan = _plan(_case("new-pipeline-whose-target-exists-is-not-waited-for"))

    objects = _only(the_plan, UpdateShareObjects)
    assert objects.depends_on == ()
    assert [o.name for o in objects.add_objects] == [ORDERS]


#: Seed 002's situation: a pack of recipients and a share, all already there.
SEED_002_PACK = pack(strategy=Strategy.NEW, shares=with_share(data_objects=(TABLE,), pipelines=()))
SEED_002_STATE = state_after(plan(SEED_002_PACK, EMPTY), EMPTY)


def test_new_strategy_with_existing_resources_switches_with_the_seed_002_warning() -> None:
    the_plan = plan(SEED_002_PACK, SEED_002_STATE)

    assert the_plan.strategy is Strategy.UPDATE
    assert the_plan.actions == ()
    assert the_plan.warnings == (
        "Auto-switched from NEW to UPDATE: 2 recipient(s) and 1 share(s) already exist. "
        "Existing resources will be updated, new ones will be created.",
    )


def test_new_strategy_with_existing_pipelines_too_switches_with_a_warning() -> None:
    the_plan = _plan(_case("new-with-existing-switches-to-update"))

    assert the_plan.strategy is Strategy.UPDATE
    (warning,) = the_plan.warnings
    assert warning.startswith("Auto-switched from NEW to UPDATE: 2 recipient(s)")
    assert warning.endswith(
        "already exist. Existing resources will be updated, new ones will be created."
    )


def test_new_strategy_on_an_empty_workspace_stays_new_without_warning() -> None:
    the_plan = _plan(_case("new-pack-from-nothing"))

    assert the_plan.strategy is Strategy.NEW
    assert the_plan.warnings == ()


# --- what may not be planned ----------------------------------------------------------------


def _existing(spec: RecipientSpec, **changes: object) -> WorkspaceState:
    recipient = replace(desired_recipient(spec), **changes)  # type: ignore[arg-type]
    return replace(APPLIED, recipients={**APPLIED.recipients, spec.name: recipient})


TOKEN_ANALYST = _existing(
    ANALYST, authentication_type=AuthenticationType.DATABRICKS, metastore_id=METASTORE
)
ERRORS = [
    pytest.param(
        pack(),
        _existing(PARTNER, metastore_id=OTHER_METASTORE),
        PlanOptions(),
        f"Recipient 'partner' exists for metastore '{OTHER_METASTORE}', not '{METASTORE}'; "
        "a recipient's metastore cannot change.",
        id="d2d-metastore-conflict",
    ),
    pytest.param(
        pack(),
        TOKEN_ANALYST,
        PlanOptions(),
        "Recipient 'analyst' exists with DATABRICKS authentication; the pack declares D2O "
        "(TOKEN). Rename it or delete the existing one.",
        id="d2o-declared-databricks-exists",
    ),
    pytest.param(
        pack(),
        _existing(PARTNER, authentication_type=AuthenticationType.TOKEN, metastore_id=None),
        PlanOptions(),
        "Recipient 'partner' exists with TOKEN authentication; the pack declares D2D (DATABRICKS).",
        id="d2d-declared-token-exists",
    ),
    pytest.param(
        SEED_002_PACK,
        SEED_002_STATE,
        PlanOptions(fail_on_existing_with_new=True),
        "Strategy NEW, but 2 recipient(s) and 1 share(s) already exist. "
        "Use strategy UPDATE to change them.",
        id="new-fails-on-existing-by-option",
    ),
    pytest.param(
        pack(shares=with_share(data_objects=(TABLE, TARGET, "prod_catalog.sales.missing"))),
        APPLIED,
        PlanOptions(),
        "Share 'sales': 'prod_catalog.sales.missing' does not exist in the workspace.",
        id="missing-table",
    ),
]


@pytest.mark.parametrize(("config", "actual", "options", "message"), ERRORS)
def test_conflicts_are_refused_with_a_clear_message(
    config: SharePackConfig, actual: WorkspaceState, options: PlanOptions, message: str
) -> None:
    with pytest.raises(PlanError, match=re.escape(message)):
        plan(config, actual, options)


def test_all_conflicts_are_reported_at_once() -> None:
    actual = replace(
        TOKEN_ANALYST,
        recipients={
            **TOKEN_ANALYST.recipients,
            "partner": replace(APPLIED.recipients["partner"], metastore_id=OTHER_METASTORE),
        },
    )

    with pytest.raises(PlanError) as raised:
        plan(pack(), actual)

    assert "'analyst' exists with DATABRICKS" in str(raised.value)
    assert "'partner' exists for metastore" in str(raised.value)


# --- a table one share's pipeline produces, shared by another share -------------------------


def test_a_table_produced_for_one_share_is_added_to_another_after_it_is_produced() -> None:
    partners = ShareSpec(name="partners", recipients=("partner",), data_objects=(TARGET,))
    config = pack(strategy=Strategy.NEW, shares=(SALES, partners))

    the_plan = plan(config, EMPTY)

    waits_for = _transitive_dependencies(the_plan, "share-objects:partners:1")
    assert "run-pipeline:daily_feed" in waits_for


def _transitive_dependencies(the_plan: Plan, action_id: str) -> set[str]:
    by_id: dict[str, Any] = {a.action_id: a for a in the_plan.actions}
    found: set[str] = set()
    todo = list(by_id[action_id].depends_on)
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(by_id[current].depends_on)
    return found


def test_grants_on_a_produced_table_wait_until_it_is_shared() -> None:
    the_plan = _plan(_case("new-pack-from-nothing"))

    waits_for = _transitive_dependencies(the_plan, "share-grants:sales")

    assert {"run-pipeline:daily_feed", "share-objects:sales:1"} <= waits_for
