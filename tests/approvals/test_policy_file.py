"""`load_policy(path)`: the operator's policy file read into groups and rules; an empty
one asks for nothing; a missing or unreadable one names the setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sharepack.approvals.policy import (
    ApprovalPolicy,
    ApprovalRule,
    CreatesTokenRecipient,
    Deletes,
    GrantsShare,
    RequiredApproval,
    SharesObjects,
    load_policy,
)
from sharepack.errors import ApprovalPolicyError, ConfigurationError
from sharepack.settings import Settings
from tests.approvals.builders import OWNERS, SECURITY
from tests.approvals.policy_files import GROUPS, written

EXAMPLE = Path(__file__).parents[2] / "examples" / "approval-policy.yaml"


def test_the_example_policy_loads() -> None:
    policy = load_policy(EXAMPLE)

    assert [g.name for g in policy.groups] == ["data-owners", "security"]
    assert [r.name for r in policy.rules] == [
        "partners need data owners",
        "sales shares are granted by data owners",
        "production HR data needs security",
        "deletions need a data owner",
    ]


def test_a_policy_file_reads_into_groups_and_rules(tmp_path: Path) -> None:
    text = GROUPS + (
        "rules:\n"
        "  - name: partners\n"
        '    business_lines: ["Sales Operations"]\n'
        "    when: {creates_token_recipient: true}\n"
        "    require:\n"
        "      - {level: 1, group: data-owners, count: 2}\n"
        "      - {level: 2, group: security}\n"
        "  - name: grants\n"
        "    when: {grants_share: {shares: [sales_*]}}\n"
        "    require: [{level: 1, group: data-owners}]\n"
        "  - name: objects\n"
        "    business_lines: '*'\n"
        "    when: {shares_objects: {catalogs: [prod], names: ['*.hr.*']}}\n"
        "    require: [{level: 1, group: security}]\n"
        "  - name: deletions\n"
        "    when: {deletes: true}\n"
        "    require: [{level: 1, group: data-owners}]\n"
    )

    policy = load_policy(written(tmp_path, text))

    owners = RequiredApproval(1, OWNERS)
    assert policy == ApprovalPolicy(
        groups=(OWNERS, SECURITY),
        rules=(
            ApprovalRule(
                "partners",
                CreatesTokenRecipient(),
                (RequiredApproval(1, OWNERS, 2), RequiredApproval(2, SECURITY)),
                ("Sales Operations",),
            ),
            ApprovalRule("grants", GrantsShare(("sales_*",), ("*",)), (owners,)),
            ApprovalRule(
                "objects", SharesObjects(("prod",), ("*.hr.*",)), (RequiredApproval(1, SECURITY),)
            ),
            ApprovalRule("deletions", Deletes(), (owners,)),
        ),
    )


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "rules:\n", "rules: []\n", GROUPS])
def test_an_empty_file_or_one_without_rules_asks_for_nothing(tmp_path: Path, text: str) -> None:
    assert load_policy(written(tmp_path, text)).rules == ()


def test_a_missing_file_is_a_configuration_error_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="SHAREPACK_APPROVAL_POLICY_FILE") as refused:
        load_policy(tmp_path / "absent.yaml")

    assert "absent.yaml" in refused.value.message
    assert "does not exist" in refused.value.message


def test_invalid_yaml_is_refused_with_its_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(ApprovalPolicyError, match=r"not valid YAML: .*policy.yaml:3:1: expected"):
        load_policy(written(tmp_path, "groups:\n  a: [b\n"))


def test_the_settings_name_the_policy_file_and_the_expiry(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        sharepack_approval_policy_file=tmp_path / "p.yaml",
        sharepack_approval_expiry_hours=24,
    )

    assert settings.sharepack_approval_policy_file == tmp_path / "p.yaml"
    assert settings.sharepack_approval_expiry_hours == 24
    assert Settings(_env_file=None).sharepack_approval_expiry_hours == 168


def test_an_expiry_of_zero_hours_is_refused() -> None:
    with pytest.raises(ValidationError, match="sharepack_approval_expiry_hours"):
        Settings(_env_file=None, sharepack_approval_expiry_hours=0)


def test_a_kind_given_without_patterns_matches_every_name(tmp_path: Path) -> None:
    text = GROUPS + (
        "rules:\n"
        "  - name: r\n"
        "    when: {grants_share: }\n"
        "    require: [{level: 1, group: security}]\n"
    )

    assert load_policy(written(tmp_path, text)).rules[0].when == GrantsShare(("*",), ("*",))
