"""`load_policy(path)`: the operator's policy file, and every problem of a wrong one,
located as `file:line:column: field: message`, all at once."""

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

EMPTY_TEXT = "''"
EXAMPLE = Path(__file__).parents[2] / "examples" / "approval-policy.yaml"
GROUPS = f"""\
groups:
  data-owners:
    id: {OWNERS.id}
    notify: [o@example.com]
  security:
    id: {SECURITY.id}
"""


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    """The problems the file with `text` is refused with, named from its folder."""
    with pytest.raises(ApprovalPolicyError) as refused:
        load_policy(written(tmp_path, text))
    heading, *listed = refused.value.message.splitlines()
    assert heading.startswith(f"The approval policy file {tmp_path / 'policy.yaml'}")
    assert f"has {len(listed)} problem" in heading
    return [line.strip().removeprefix(f"{tmp_path}/") for line in listed]


def where(text: str, needle: str, nth: int = 1) -> str:
    """`policy.yaml:line:column` of the `nth` occurrence of `needle` in `text`."""
    start = -1
    for _ in range(nth):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return f"policy.yaml:{line}:{column}"


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


def test_unknown_keys_are_located_with_the_key_they_likely_meant(tmp_path: Path) -> None:
    text = GROUPS + (
        "rules:\n"
        "  - name: r\n"
        "    wen: {deletes: true}\n"
        "    require: [{level: 1, group: security, cuont: 2}]\n"
        "rule: []\n"
    )

    assert problems(tmp_path, text) == [
        f"{where(text, 'name: r')}: rules[0]: 'when' is missing",
        "policy.yaml:9:5: rules[0].wen: unknown key 'wen'; did you mean 'when'? the keys are "
        "name, business_lines, when, require",
        f"{where(text, 'cuont')}: rules[0].require[0].cuont: unknown key 'cuont'; did you mean "
        "'count'? the keys are level, group, count",
        "policy.yaml:11:1: rule: unknown key 'rule'; did you mean 'rules'? the keys are "
        "groups, rules",
    ]


def test_missing_keys_are_located_at_their_entry(tmp_path: Path) -> None:
    text = (
        "groups:\n"
        "  security: {notify: [s@example.com]}\n"
        "rules:\n"
        "  - when: {deletes: true}\n"
        "    require: [{group: security}]\n"
        "  - name: r\n"
    )

    assert problems(tmp_path, text) == [
        "policy.yaml:2:13: groups.security: 'id' is missing",
        "policy.yaml:4:5: rules[0]: 'name' is missing",
        "policy.yaml:5:15: rules[0].require[0]: 'level' is missing",
        "policy.yaml:6:5: rules[1]: 'when' is missing",
        "policy.yaml:6:5: rules[1]: 'require' is missing",
    ]


def test_a_group_used_but_not_defined_is_named_with_the_groups_there_are(tmp_path: Path) -> None:
    text = GROUPS + (
        "rules:\n"
        "  - name: r\n"
        "    when: {deletes: true}\n"
        "    require:\n"
        "      - {level: 1, group: data-owners}\n"
        "      - {level: 2, group: secrity}\n"
    )

    assert problems(tmp_path, text) == [
        "policy.yaml:12:27: rules[0].require[1].group: 'secrity' is not a group of this file "
        "(groups: data-owners, security)",
    ]


def test_a_group_used_in_a_file_without_groups_says_to_define_them(tmp_path: Path) -> None:
    text = "rules:\n  - name: r\n    when: {deletes: true}\n    require: [{level: 1, group: x}]\n"

    assert problems(tmp_path, text) == [
        "policy.yaml:4:33: rules[0].require[0].group: 'x' is not a group of this file "
        "(the file defines no groups: add them under 'groups:')",
    ]


def test_a_group_id_that_is_not_a_uuid_is_refused_and_its_uses_are_not(tmp_path: Path) -> None:
    text = (
        "groups:\n"
        "  owners:\n"
        "    id: Data Owners\n"
        "rules:\n"
        "  - name: r\n"
        "    when: {deletes: true}\n"
        "    require: [{level: 1, group: owners}]\n"
    )

    found = problems(tmp_path, text)

    assert len(found) == 1
    assert found[0].startswith(
        "policy.yaml:3:9: groups.owners.id: 'Data Owners' is not a group Object ID (a GUID"
    )


def test_a_notify_address_that_is_not_an_email_is_refused(tmp_path: Path) -> None:
    text = f"groups:\n  owners:\n    id: {OWNERS.id}\n    notify: [owners, o@example.com]\n"

    found = problems(tmp_path, text)

    assert len(found) == 1
    assert found[0].startswith(
        "policy.yaml:4:14: groups.owners.notify[0]: 'owners' is not an email address"
    )


def test_levels_must_start_at_1(tmp_path: Path) -> None:
    text = GROUPS + (
        "rules:\n"
        "  - name: r\n"
        "    when: {deletes: true}\n"
        "    require: [{level: 2, group: security}]\n"
    )

    assert problems(tmp_path, text) == [
        f"{where(text, '2, group')}: rules[0].require[0].level: level 2 has no level 1 before it: "
        "levels start at 1 and go up by one (this file's levels: 2)",
    ]


def test_levels_may_not_leave_a_gap_across_the_file(tmp_path: Path) -> None:
    text = GROUPS + (
        "rules:\n"
        "  - name: a\n"
        "    when: {deletes: true}\n"
        "    require: [{level: 1, group: data-owners}]\n"
        "  - name: b\n"
        "    when: {creates_token_recipient: true}\n"
        "    require: [{level: 3, group: security}]\n"
    )

    assert problems(tmp_path, text) == [
        f"{where(text, '3, group')}: rules[1].require[0].level: level 3 has no level 2 before it: "
        "levels start at 1 and go up by one (this file's levels: 1, 3)",
    ]


def test_a_level_2_rule_beside_a_level_1_rule_is_accepted(tmp_path: Path) -> None:
    text = GROUPS + (
        "rules:\n"
        "  - name: a\n"
        "    when: {deletes: true}\n"
        "    require: [{level: 1, group: data-owners}]\n"
        "  - name: b\n"
        "    when: {creates_token_recipient: true}\n"
        "    require: [{level: 2, group: security}]\n"
    )

    assert [r.require[0].level for r in load_policy(written(tmp_path, text)).rules] == [1, 2]


def test_counts_and_levels_are_whole_numbers_of_at_least_1(tmp_path: Path) -> None:
    text = GROUPS + (
        "rules:\n"
        "  - name: r\n"
        "    when: {deletes: true}\n"
        "    require:\n"
        "      - {level: 1, group: security, count: 0}\n"
        "      - {level: 0, group: data-owners, count: two}\n"
    )

    assert problems(tmp_path, text) == [
        f"{where(text, '0}')}: rules[0].require[0].count: must be 1 or more (found 0)",
        f"{where(text, '0, group')}: rules[0].require[1].level: must be 1 or more (found 0)",
        f"{where(text, 'two')}: rules[0].require[1].count: must be a whole number (found 'two')",
    ]


def test_rule_names_are_unique_whatever_their_case(tmp_path: Path) -> None:
    text = GROUPS + (
        "rules:\n"
        "  - name: Deletions\n"
        "    when: {deletes: true}\n"
        "    require: [{level: 1, group: security}]\n"
        "  - name: deletions\n"
        "    when: {deletes: true}\n"
        "    require: [{level: 1, group: security}]\n"
    )

    assert problems(tmp_path, text) == [
        "policy.yaml:11:11: rules[1].name: the rule name 'deletions' is used twice "
        "(first on line 8)",
    ]


def test_a_when_names_exactly_one_kind(tmp_path: Path) -> None:
    text = GROUPS + (
        "rules:\n"
        "  - name: none\n"
        "    when: {}\n"
        "    require: [{level: 1, group: security}]\n"
        "  - name: two\n"
        "    when: {deletes: true, grants_share: {}}\n"
        "    require: [{level: 1, group: security}]\n"
    )

    kinds = "creates_token_recipient, grants_share, shares_objects, deletes"
    assert problems(tmp_path, text) == [
        f"policy.yaml:9:11: rules[0].when: names no kind: a rule looks for exactly one of "
        f"{kinds} (write one rule per kind)",
        f"policy.yaml:12:11: rules[1].when: names 2 kinds (grants_share, deletes): a rule "
        f"looks for exactly one of {kinds} (write one rule per kind)",
    ]


def test_a_flag_kind_must_be_true(tmp_path: Path) -> None:
    text = GROUPS + (
        "rules:\n"
        "  - name: r\n"
        "    when: {creates_token_recipient: false}\n"
        "    require: [{level: 1, group: security}]\n"
    )

    assert problems(tmp_path, text) == [
        f"{where(text, 'false')}: rules[0].when.creates_token_recipient: must be true (the rule "
        "applies when a plan creates a TOKEN recipient; found false)",
    ]


def test_pattern_lists_may_not_be_empty(tmp_path: Path) -> None:
    text = GROUPS + (
        "rules:\n"
        "  - name: r\n"
        "    business_lines: []\n"
        "    when: {shares_objects: {catalogs: [], names: ['*.hr.*', '']}}\n"
        "    require: []\n"
    )

    assert problems(tmp_path, text) == [
        "policy.yaml:9:21: rules[0].business_lines: is empty: list at least one business "
        "line, or leave the key out for every one",
        "policy.yaml:10:39: rules[0].when.shares_objects.catalogs: is empty: leave the key "
        "out to match every name, or list '*'",
        f"{where(text, EMPTY_TEXT)}: rules[0].when.shares_objects.names[1]: must not be empty",
        "policy.yaml:11:14: rules[0].require: must list the approvals the rule requires (is empty)",
    ]


def test_every_problem_of_a_file_is_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = (
        "groups:\n"
        "  owners: {id: nope}\n"
        "rules:\n"
        "  - name: r\n"
        "    when: {deletes: yes please}\n"
        "    require: [{level: 1, group: ghosts, count: 1}]\n"
    )

    found = problems(tmp_path, text)

    assert [line.split(": ", 1)[0] for line in found] == [
        where(text, "nope"),
        where(text, "yes please"),
        where(text, "ghosts"),
    ]


RULE = "  - name: r\n    when: {deletes: true}\n"


@pytest.mark.parametrize(
    ("text", "needle", "problem"),
    [
        ("- groups\n", "- groups", "must be a mapping with keys groups, rules"),
        (
            "groups: [owners]\n",
            "[owners]",
            "groups: must be a mapping of group names to groups (found a list)",
        ),
        ("rules: {name: r}\n", "{name: r}", "rules: must be a list of rules (found a mapping)"),
        (
            f"groups:\n  a: {{id: {OWNERS.id}}}\n  a: {{id: {SECURITY.id}}}\n",
            "a: {id: 8e1d",
            "groups.a: is defined twice",
        ),
        (
            f"groups:\n  a: {{id: {OWNERS.id}, notify: []}}\n",
            "[]",
            "groups.a.notify: is empty: list an address, or leave 'notify' out",
        ),
        (
            f"groups:\n  a:\n    id: {OWNERS.id}\n    id: {SECURITY.id}\n",
            "id: 8e1d",
            "groups.a.id: appears twice",
        ),
        (
            GROUPS + "rules:\n" + RULE + "    require: {level: 1, group: security}\n",
            "{level: 1",
            "rules[0].require: must list the approvals the rule requires (found a mapping)",
        ),
        (
            GROUPS
            + "rules:\n"
            + RULE
            + "    require: [{level: 1, group: security, count: true}]\n",
            "true}]",
            "rules[0].require[0].count: must be a whole number (found true)",
        ),
        (
            GROUPS + "rules:\n" + RULE + "    require: [{level: 1.5, group: security}]\n",
            "1.5",
            "rules[0].require[0].level: must be a whole number (found 1.5)",
        ),
        (
            GROUPS
            + "rules:\n"
            + RULE
            + "    require: [{level: 1, group: security}, {level: 1, group: security}]\n",
            "{level: 1, group: security}]",
            "rules[0].require[1]: group security is required at level 1 twice in this rule; "
            "give one entry with the count of approvers",
        ),
        (
            GROUPS
            + "rules:\n  - name: r\n    business_lines: ['*', Sales]\n"
            + "    when: {deletes: true}\n    require: [{level: 1, group: security}]\n",
            "['*'",
            "rules[0].business_lines: '*' means every business line: list it alone",
        ),
        (
            GROUPS
            + "rules:\n  - name: r\n    business_lines: [Sales, sales]\n"
            + "    when: {deletes: true}\n    require: [{level: 1, group: security}]\n",
            "sales]",
            "rules[0].business_lines[1]: 'sales' is listed twice",
        ),
        (
            GROUPS
            + "rules:\n  - name: 7\n"
            + "    when: {deletes: true}\n    require: [{level: 1, group: security}]\n",
            "7\n",
            "rules[0].name: must be text (found 7; quote it if it is)",
        ),
        (
            GROUPS
            + "rules:\n  - name: r\n"
            + "    when: {grants_share: {share: [sales]}}\n"
            + "    require: [{level: 1, group: security}]\n",
            "share: [",
            "rules[0].when.grants_share.share: unknown key 'share'; did you mean 'shares'? "
            "the keys are shares, recipients",
        ),
        (
            GROUPS
            + "rules:\n  - name: r\n"
            + "    when: {shares_objects: {names: '*.hr.*'}}\n"
            + "    require: [{level: 1, group: security}]\n",
            "'*.hr.*'",
            "rules[0].when.shares_objects.names: must be a list of name patterns (shell globs "
            "such as 'sales_*') (found '*.hr.*')",
        ),
    ],
)
def test_each_kind_of_problem_is_located_and_explained(
    tmp_path: Path, text: str, needle: str, problem: str
) -> None:
    assert problems(tmp_path, text) == [f"{where(text, needle)}: {problem}"]


def test_a_kind_given_without_patterns_matches_every_name(tmp_path: Path) -> None:
    text = GROUPS + (
        "rules:\n"
        "  - name: r\n"
        "    when: {grants_share: }\n"
        "    require: [{level: 1, group: security}]\n"
    )

    assert load_policy(written(tmp_path, text)).rules[0].when == GrantsShare(("*",), ("*",))
