"""A plan read as Terraform's are: each resource with what happens to it (`+` create, `~`
update, `-` destroy, `-/+` replace, `>` run), an update with its changed fields, and the
count in Terraform's words."""

from __future__ import annotations

from sharepack.engine import Plan, ResourceNames, plan
from sharepack.engine.actions import CreateScheduleJob, DeleteScheduleJob
from sharepack.engine.changes import Change, ResourceChange, summary_line
from sharepack.packfile.models import RecipientSpec, RecipientType, Strategy
from sharepack.workspace.state import ScheduleJobState
from tests.engine.test_plan_cases import (
    ANALYST,
    APPLIED,
    CUSTOMERS,
    EMPTY,
    ORDERS,
    PARTNER,
    TABLE,
    TARGET,
    applied_with,
    pack,
    with_share,
)
from tests.engine.test_plan_prune import planned


def _by_title(the_plan: Plan) -> dict[str, ResourceChange]:
    return {c.title: c for c in the_plan.changes()}


def test_deletions_are_destroyed_not_added() -> None:
    changes = _by_title(planned())

    assert {t: (c.change, c.symbol) for t, c in changes.items()} == {
        "share sales": (Change.UPDATE, "~"),
        "share old_share": (Change.DELETE, "-"),
        "recipient old_partner": (Change.DELETE, "-"),
        "recipient old_token": (Change.DELETE, "-"),
    }
    assert planned().summary() == {"add": 0, "change": 1, "destroy": 3, "run": 0}


def test_an_update_lists_each_changed_field_before_and_after() -> None:
    changed = ANALYST.model_copy(
        update={"comment": "Now internal", "allowed_ips": ("10.0.0.1", "198.51.100.50")}
    )

    (change,) = plan(pack(recipients=(changed, PARTNER)), APPLIED).changes()

    assert (change.symbol, change.title) == ("~", "recipient analyst")
    assert change.details() == [
        'comment: "External analyst" -> "Now internal"',
        "allowed_ips: +198.51.100.50 -10.1.0.0/16",
    ]
    fields = {f.field: (f.before, f.after) for f in change.fields}
    assert fields["allowed_ips"] == (["10.0.0.1", "10.1.0.0/16"], ["10.0.0.1", "198.51.100.50"])


def test_an_ip_list_left_out_shows_as_removed_and_what_that_means() -> None:
    no_ips = RecipientSpec(
        name="analyst", type=RecipientType.D2O, email=ANALYST.email, comment=ANALYST.comment
    )

    (change,) = plan(pack(recipients=(no_ips, PARTNER)), APPLIED).changes()

    assert change.details() == [
        "allowed_ips: removed (anyone holding the link can connect): -10.0.0.1 -10.1.0.0/16"
    ]


def test_objects_and_grants_are_listed_by_name() -> None:
    config = pack(
        prune=True,
        shares=with_share(data_objects=(TABLE, TARGET, ORDERS), recipients=("analyst",)),
    )

    (change,) = plan(config, applied_with(objects=(CUSTOMERS,))).changes()

    assert (change.symbol, change.title) == ("~", "share sales")
    assert change.details() == [f"objects: +{ORDERS} -{CUSTOMERS}", "grants: -partner"]


def test_a_new_pack_is_all_additions_and_its_first_pipeline_update_a_run() -> None:
    the_plan = plan(pack(strategy=Strategy.NEW), EMPTY)

    symbols = [(c.symbol, c.title) for c in the_plan.changes()]

    assert symbols == [
        ("+", "recipient analyst"),
        ("+", "recipient partner"),
        ("+", "pipeline daily_feed"),
        (">", "pipeline daily_feed"),
        ("+", "job daily_feed_schedule"),
        ("+", "share sales"),
    ]
    assert the_plan.summary() == {"add": 5, "change": 0, "destroy": 0, "run": 1}
    share = _by_title(the_plan)["share sales"]
    assert share.details() == [
        'comment: "Sales tables"',
        f"objects: +{TABLE} +{TARGET}",
        "grants: +analyst +partner",
    ]
    (run,) = [c for c in the_plan.changes() if c.change is Change.RUN]
    assert run.details() == [f"run an update until it produces {TARGET}"]


def test_a_resource_deleted_then_created_is_replaced() -> None:
    old = ScheduleJobState(name="feed_schedule", pipeline_name="feed", quartz_cron="0 0 2 * * ?")
    new = ScheduleJobState(name="feed_schedule", pipeline_name="feed", quartz_cron="0 0 3 * * ?")
    delete = DeleteScheduleJob("delete-job:feed_schedule", "feed_schedule", before_job=old)
    create = CreateScheduleJob(
        "create-job:feed_schedule", "feed_schedule", depends_on=(delete.action_id,), job=new
    )
    the_plan = Plan((delete, create), Strategy.UPDATE, ResourceNames())

    (change,) = the_plan.changes()

    assert (change.change, change.symbol) == (Change.REPLACE, "-/+")
    assert change.details() == ['quartz_cron: "0 0 2 * * ?" -> "0 0 3 * * ?"']
    assert the_plan.summary() == {"add": 1, "change": 0, "destroy": 1, "run": 0}


def test_the_summary_is_said_in_terraform_s_words() -> None:
    assert summary_line({"add": 2, "change": 1, "destroy": 1, "run": 0}) == (
        "Plan: 2 to add, 1 to change, 1 to destroy."
    )
    assert summary_line({"add": 1, "change": 0, "destroy": 0, "run": 1}) == (
        "Plan: 1 to add, 0 to change, 0 to destroy, 1 to run."
    )


def test_the_json_plan_keeps_its_keys_and_adds_each_action_s_change_and_the_summary() -> None:
    body = planned().to_dict()

    assert {"strategy", "warnings", "actions", "summary"} <= set(body)
    assert body["summary"] == {"add": 0, "change": 1, "destroy": 3, "run": 0}
    by_id = {a["id"]: a for a in body["actions"]}
    assert {"id", "kind", "resource", "depends_on", "description"} <= set(
        by_id["share-grants:sales"]
    )
    assert by_id["share-grants:sales"]["change"] == "update"
    assert by_id["share-grants:sales"]["fields"] == {
        "grants": {"before": ["analyst", "old_partner"], "after": ["analyst"]}
    }
    # Emptying a share on its way out is part of destroying it.
    assert by_id["retire-share-grants:old_share"]["change"] == "delete"
    assert by_id["delete-recipient:old_token"]["change"] == "delete"
    assert by_id["delete-recipient:old_token"]["fields"]["allowed_ips"] == {
        "before": ["10.9.0.0/16"],
        "after": None,
    }
