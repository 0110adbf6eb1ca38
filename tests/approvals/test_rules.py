"""`requirements(policy, plan, business_line)`: which rules match a plan, and the merged
approvals they ask for."""

from __future__ import annotations

from sharepack.approvals.policy_types import (
    ApprovalPolicy,
    CreatesTokenRecipient,
    Deletes,
    GrantsShare,
    RequiredApproval,
    SharesObjects,
)
from sharepack.approvals.rules import Requirement, requirements
from sharepack.engine import PlanOptions, ResourceNames, plan
from sharepack.engine.actions import (
    CreateShare,
    DeletePipeline,
    DeleteRecipient,
    DeleteScheduleJob,
    DeleteShare,
    UpdateShareComment,
)
from sharepack.packfile.models import (
    Metadata,
    RecipientSpec,
    RecipientType,
    SharePackConfig,
    ShareSpec,
    Strategy,
)
from sharepack.workspace.state import (
    AuthenticationType,
    RecipientState,
    ScheduleJobState,
    ShareState,
    WorkspaceState,
)
from tests.approvals.builders import (
    OWNERS,
    SECURITY,
    d2d_recipient,
    grants,
    objects,
    options,
    plan_of,
    policy_of,
    rule,
    token_recipient,
)

OWNERS_1 = RequiredApproval(level=1, group=OWNERS)
SECURITY_2 = RequiredApproval(level=2, group=SECURITY)


def reasons(policy: ApprovalPolicy, *actions: object, line: str = "Sales") -> list[str]:
    """Every reason of every requirement the plan of `actions` needs."""
    found = requirements(policy, plan_of(*actions), line)  # type: ignore[arg-type]
    return [reason for requirement in found for reason in requirement.reasons]


def test_a_token_recipient_created_matches_creates_token_recipient() -> None:
    policy = policy_of(rule("partners", CreatesTokenRecipient(), OWNERS_1))

    found = requirements(policy, plan_of(token_recipient("acme")), "Sales")

    assert found == (
        Requirement(
            level=1, group=OWNERS, count=1, reasons=("partners: creates TOKEN recipient acme",)
        ),
    )


def test_a_databricks_recipient_created_does_not_match_creates_token_recipient() -> None:
    policy = policy_of(rule("partners", CreatesTokenRecipient(), OWNERS_1))

    assert requirements(policy, plan_of(d2d_recipient("sister_org")), "Sales") == ()


def test_a_plan_matching_no_rule_needs_no_approval() -> None:
    policy = policy_of(rule("partners", CreatesTokenRecipient(), OWNERS_1))
    comment = UpdateShareComment("c", "sales", comment="new", before_comment="old")

    assert requirements(policy, plan_of(CreateShare("s", "sales", comment=""), comment), "S") == ()


def test_an_empty_policy_asks_nothing_of_any_plan() -> None:
    assert requirements(ApprovalPolicy(), plan_of(token_recipient("acme")), "Sales") == ()


def test_a_rule_of_other_business_lines_does_not_apply() -> None:
    policy = policy_of(
        rule("partners", CreatesTokenRecipient(), OWNERS_1, business_lines=("Finance",))
    )

    assert requirements(policy, plan_of(token_recipient("acme")), "Sales") == ()
    assert requirements(policy, plan_of(token_recipient("acme")), None) == ()


def test_a_rule_of_the_packs_business_line_applies_whatever_its_case() -> None:
    policy = policy_of(
        rule("partners", CreatesTokenRecipient(), OWNERS_1, business_lines=("Sales Operations",))
    )

    found = requirements(policy, plan_of(token_recipient("acme")), " sales operations ")

    assert [r.group for r in found] == [OWNERS]


def test_grants_share_matches_a_grant_added_on_a_share_and_recipient_of_its_globs() -> None:
    policy = policy_of(rule("sales", GrantsShare(("SALES_*",), ("acme*",)), OWNERS_1))

    found = reasons(policy, grants("sales_eu", add=("acme", "beta")), grants("hr", add=("acme",)))

    assert found == ["sales: grants share sales_eu to acme"]


def test_grants_share_does_not_match_a_revoked_grant() -> None:
    policy = policy_of(rule("sales", GrantsShare(), OWNERS_1))

    assert reasons(policy, grants("sales_eu", remove=("acme",))) == []


def test_shares_objects_matches_objects_added_of_a_catalog_and_a_name_pattern() -> None:
    policy = policy_of(rule("hr", SharesObjects(("prod_*",), ("*.HR.*",)), SECURITY_2))
    added = objects(
        "people",
        add=("prod_catalog.hr.salaries", "dev_catalog.hr.salaries", "prod_catalog.sales.orders"),
    )

    assert reasons(policy, added) == ["hr: shares prod_catalog.hr.salaries in share people"]


def test_shares_objects_by_catalog_alone_matches_schemas_and_tables_of_it() -> None:
    policy = policy_of(rule("prod", SharesObjects(catalogs=("prod_catalog",)), SECURITY_2))
    added = objects("s", add=("prod_catalog.sales", "prod_catalogue.x.y"))

    assert reasons(policy, added) == ["prod: shares prod_catalog.sales in share s"]


def test_shares_objects_matches_a_change_of_sharing_options() -> None:
    policy = policy_of(rule("hr", SharesObjects(names=("*.hr.*",)), SECURITY_2))

    found = reasons(policy, options("people", "prod_catalog.hr.salaries"))

    assert found == ["hr: changes the sharing options of prod_catalog.hr.salaries in share people"]


def test_shares_objects_does_not_match_objects_removed() -> None:
    policy = policy_of(rule("any", SharesObjects(), SECURITY_2))

    assert reasons(policy, objects("s", remove=("prod_catalog.hr.salaries",))) == []


def test_deletes_matches_every_deletion_removal_and_revocation() -> None:
    policy = policy_of(rule("deletions", Deletes(), OWNERS_1))
    recipient = RecipientState(name="old", authentication_type=AuthenticationType.TOKEN)
    job = ScheduleJobState(name="feed-schedule", pipeline_name="feed", quartz_cron="0 0 2 * * ?")

    found = reasons(
        policy,
        DeleteRecipient("d1", "old", before=recipient),
        DeleteShare("d2", "old_share", before_share=ShareState(name="old_share")),
        DeletePipeline("d3", "feed"),
        DeleteScheduleJob("d4", "feed-schedule", before_job=job),
        objects("sales", add=("c.s.new",), remove=("c.s.gone",)),
        grants("sales", add=("beta",), remove=("acme",)),
    )

    assert found == [
        "deletions: deletes recipient old",
        "deletions: deletes share old_share",
        "deletions: deletes pipeline feed",
        "deletions: deletes schedule job feed-schedule",
        "deletions: removes c.s.gone from share sales",
        "deletions: revokes share sales from acme",
    ]


def test_deletes_does_not_match_a_plan_that_only_adds() -> None:
    policy = policy_of(rule("deletions", Deletes(), OWNERS_1))

    assert reasons(policy, token_recipient("a"), objects("s", add=("c.s.t",))) == []


def test_a_prune_planned_from_a_pack_needs_the_deletes_rules_approval() -> None:
    policy = policy_of(rule("deletions", Deletes(), OWNERS_1))
    metadata = Metadata(
        requestor="a@example.com",
        project_name="P",
        business_line="Sales",
        strategy=Strategy.UPDATE,
        prune=True,
    )
    partner = RecipientSpec(name="acme", type=RecipientType.D2O, email="x@acme.example.com")
    config = SharePackConfig(
        metadata=metadata,
        recipients=(partner,),
        shares=(ShareSpec(name="sales", recipients=("acme",), data_objects=()),),
    )
    actual = WorkspaceState(
        recipients={
            "acme": RecipientState(name="acme", authentication_type=AuthenticationType.TOKEN),
        },
        shares={"sales": ShareState(name="sales", grantees=frozenset({"acme", "gone"}))},
    )

    the_plan = plan(config, actual, PlanOptions(retired=ResourceNames()))
    found = requirements(policy, the_plan, "Sales")

    assert [r.reasons for r in found] == [("deletions: revokes share sales from gone",)]


def test_entries_for_one_level_and_group_merge_with_the_largest_count_and_all_reasons() -> None:
    policy = policy_of(
        rule("partners", CreatesTokenRecipient(), RequiredApproval(1, OWNERS, count=2)),
        rule("sales", GrantsShare(("sales",)), RequiredApproval(1, OWNERS, count=3)),
        rule("deletions", Deletes(), OWNERS_1),
    )

    found = requirements(
        policy, plan_of(token_recipient("acme"), grants("sales", add=("acme",))), "Sales"
    )

    assert found == (
        Requirement(
            level=1,
            group=OWNERS,
            count=3,
            reasons=(
                "partners: creates TOKEN recipient acme",
                "sales: grants share sales to acme",
            ),
        ),
    )


def test_requirements_are_ordered_by_level_then_group_name() -> None:
    policy = policy_of(
        rule("a", Deletes(), SECURITY_2, RequiredApproval(1, SECURITY), OWNERS_1),
    )

    found = requirements(policy, plan_of(grants("s", remove=("x",))), "Sales")

    assert [(r.level, r.group.name) for r in found] == [
        (1, "data-owners"),
        (1, "security"),
        (2, "security"),
    ]


def test_a_plan_matching_only_a_level_2_rule_keeps_the_policys_level() -> None:
    policy = policy_of(
        rule("partners", CreatesTokenRecipient(), OWNERS_1),
        rule("hr", SharesObjects(names=("*.hr.*",)), SECURITY_2),
    )

    found = requirements(policy, plan_of(objects("s", add=("c.hr.t",))), "Sales")

    assert [(r.level, r.group.name) for r in found] == [(2, "security")]


def test_one_match_is_one_reason_however_many_actions_say_it() -> None:
    policy = policy_of(rule("deletions", Deletes(), OWNERS_1))

    found = reasons(policy, grants("s", remove=("x",)), grants("s", remove=("x",)))

    assert found == ["deletions: revokes share s from x"]
