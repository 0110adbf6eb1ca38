"""A plan's warnings say where in the pack they belong: the recipient or share entry they
are about, `metadata.strategy` for the switch from NEW to UPDATE, `metadata.prune` for what
prune retires that the file no longer names. Their text reads as it always did."""

from __future__ import annotations

from dataclasses import replace

from sharepack.engine import Plan, plan
from sharepack.packfile.models import RecipientSpec, RecipientType, Strategy
from sharepack.workspace.state import ShareState
from tests.engine.test_plan_cases import ANALYST, APPLIED, PARTNER, SALES, pack
from tests.engine.test_plan_prune import ACTUAL, PIPELINE_WARNING, planned


def _located(the_plan: Plan) -> list[tuple[str, str]]:
    return [(w.field, w.message) for w in the_plan.located_warnings]


def test_the_switch_from_new_to_update_is_located_at_metadata_strategy() -> None:
    the_plan = plan(pack(strategy=Strategy.NEW), APPLIED)

    ((field, message),) = _located(the_plan)

    assert field == "metadata.strategy"
    assert message.startswith("Auto-switched from NEW to UPDATE")
    assert the_plan.warnings == (message,)


def test_a_pipeline_prune_no_longer_finds_in_the_file_is_located_at_metadata_prune() -> None:
    the_plan = planned()

    assert ("metadata.prune", PIPELINE_WARNING) in _located(the_plan)
    assert PIPELINE_WARNING in the_plan.warnings


def test_a_retired_recipient_kept_for_another_share_is_located_at_metadata_prune() -> None:
    elsewhere = ShareState(name="elsewhere", grantees=frozenset({"analyst", "old_partner"}))
    actual = replace(
        ACTUAL,
        shares={**ACTUAL.shares, "elsewhere": elsewhere},
        recipient_grants={**ACTUAL.recipient_grants, "old_partner": frozenset({"elsewhere"})},
    )

    the_plan = planned(actual=actual)

    kept = [(f, m) for f, m in _located(the_plan) if m.startswith("Recipient 'old_partner'")]
    assert [f for f, _ in kept] == ["metadata.prune"]


def test_an_ip_list_the_pack_leaves_out_warns_at_that_recipient() -> None:
    no_ips = RecipientSpec(name="analyst", type=RecipientType.D2O, email=ANALYST.email)

    the_plan = plan(pack(recipients=(PARTNER, no_ips), shares=(SALES,)), APPLIED)

    ((field, message),) = _located(the_plan)
    assert field == "recipient[1].allowed_ips"
    assert "anyone holding the activation link can connect" in message
    assert "10.0.0.1, 10.1.0.0/16" in message


def test_an_ip_list_the_pack_shortens_does_not_warn() -> None:
    fewer = ANALYST.model_copy(update={"allowed_ips": ("10.0.0.1",)})

    the_plan = plan(pack(recipients=(fewer, PARTNER)), APPLIED)

    assert the_plan.located_warnings == ()
