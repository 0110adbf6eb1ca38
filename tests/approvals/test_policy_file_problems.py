"""Every problem of a wrong policy file, located as `file:line:column: field: message`
and reported all at once, in the order of the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from sharepack.approvals.policy import load_policy
from tests.approvals.builders import OWNERS, SECURITY
from tests.approvals.policy_files import EMPTY_TEXT, GROUPS, problems, where, written


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
