"""The role mapping file: what it grants, and how a wrong file is reported."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sharepack.errors import ConfigurationError, RoleMappingError
from sharepack.identity.principal import ALL_BUSINESS_LINES, Grant, Role
from sharepack.identity.role_mapping import GroupRole, RoleMapping, load_role_mapping

SALES = "3f2c9a4e-0b6d-4c1e-9f7a-2d5e8b1c0a93"
FINANCE = "7b1e2d3c-4a5f-4e6d-8c9b-0a1b2c3d4e5f"
APPROVERS = "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
ADMINS = "d9e8f7a6-b5c4-4d3e-a2f1-0e9d8c7b6a5f"

GOOD = f"""\
groups:
  - id: {SALES}
    name: Sales data owners
    role: requestor
    business_lines: ["Sales Operations"]
  - id: {FINANCE}
    name: Finance data owners
    role: requestor
    business_lines: ["Finance", "Treasury"]
  - id: {APPROVERS}
    name: Data governance
    role: approver
    business_lines: ["Sales Operations", "Finance"]
  - id: {ADMINS}
    name: Platform team
    role: admin
    business_lines: "*"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roles.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(RoleMappingError) as caught:
        load_role_mapping(path)
    assert str(path) in caught.value.message
    return caught.value.message


def test_a_good_file_is_read_with_each_group_s_line(tmp_path: Path) -> None:
    mapping = load_role_mapping(write(tmp_path, GOOD))
    assert isinstance(mapping, RoleMapping)
    assert mapping.groups[0] == GroupRole(
        id=SALES,
        name="Sales data owners",
        role=Role.REQUESTOR,
        business_lines=("Sales Operations",),
        line=2,
    )
    assert [g.line for g in mapping.groups] == [2, 6, 10, 14]
    assert mapping.groups[3].business_lines == (ALL_BUSINESS_LINES,)


def test_grants_are_those_of_the_member_s_groups_merged_per_role(tmp_path: Path) -> None:
    mapping = load_role_mapping(write(tmp_path, GOOD))
    assert mapping.grants_for([SALES]) == (Grant(Role.REQUESTOR, ("Sales Operations",)),)
    assert mapping.grants_for([SALES, FINANCE, APPROVERS, "unrelated-group"]) == (
        Grant(Role.REQUESTOR, ("Sales Operations", "Finance", "Treasury")),
        Grant(Role.APPROVER, ("Sales Operations", "Finance")),
    )
    assert mapping.grants_for(["unrelated-group"]) == ()
    assert mapping.grants_for([]) == ()


def test_group_ids_are_compared_without_case(tmp_path: Path) -> None:
    mapping = load_role_mapping(write(tmp_path, GOOD.replace(SALES, SALES.upper())))
    assert mapping.grants_for([SALES]) == (Grant(Role.REQUESTOR, ("Sales Operations",)),)
    assert mapping.grants_for([f" {SALES.upper()} "])[0].role is Role.REQUESTOR


def test_every_business_line_wins_over_a_list_for_the_same_role(tmp_path: Path) -> None:
    text = f"""\
        groups:
          - id: {SALES}
            name: Sales admins
            role: admin
            business_lines: ["Sales Operations"]
          - id: {ADMINS}
            name: Platform team
            role: admin
            business_lines: ["*"]
        """
    mapping = load_role_mapping(write(tmp_path, text))
    grants = mapping.grants_for([SALES, ADMINS])
    assert grants == (Grant(Role.ADMIN, (ALL_BUSINESS_LINES,)),)


def test_a_group_may_hold_several_roles(tmp_path: Path) -> None:
    text = f"""\
        groups:
          - id: {SALES}
            name: Sales leads
            role: requestor
            business_lines: ["Sales Operations"]
          - id: {SALES}
            name: Sales leads
            role: auditor
            business_lines: "*"
        """
    grants = load_role_mapping(write(tmp_path, text)).grants_for([SALES])
    assert grants == (
        Grant(Role.REQUESTOR, ("Sales Operations",)),
        Grant(Role.AUDITOR, (ALL_BUSINESS_LINES,)),
    )


def test_an_empty_list_of_groups_grants_nothing(tmp_path: Path) -> None:
    assert load_role_mapping(write(tmp_path, "groups: []\n")).grants_for([SALES]) == ()


def test_a_wrong_role_is_named_with_its_line_and_field(tmp_path: Path) -> None:
    message = problems(tmp_path, GOOD.replace("role: approver", "role: owner"))
    assert (
        ":12: groups[2].role: 'owner' is not one of requestor, approver, auditor, admin"
    ) in message


def test_every_problem_of_the_file_is_reported_at_once(tmp_path: Path) -> None:
    text = f"""\
        groups:
          - id: Sales data owners
            name: Sales data owners
            role: owner
            business_lines: []
          - id: {FINANCE}
            role: requestor
            business_lines: ["Finance", 7]
            colour: blue
          - id: {APPROVERS}
            name: Data governance
            role: approver
            business_lines: ["*", "Finance"]
        """
    path = write(tmp_path, text)
    with pytest.raises(RoleMappingError) as caught:
        load_role_mapping(path)
    message = caught.value.message
    assert "has 7 problems" in message
    expected = [
        f"{path}:2: groups[0].id: 'Sales data owners' is not a group Object ID",
        f"{path}:4: groups[0].role: 'owner' is not one of",
        f"{path}:5: groups[0].business_lines: is empty",
        f"{path}:9: groups[1].colour: unknown key 'colour'; the keys are id, name, role, "
        "business_lines",
        f"{path}:6: groups[1]: 'name' is missing",
        f"{path}:8: groups[1].business_lines[1]: must be text (found 7; quote it if it is)",
        f"{path}:13: groups[2].business_lines: '*' means every business line: list it alone",
    ]
    for line in expected:
        assert line in message
    listed = [int(line.split(":")[1]) for line in message.splitlines()[1:]]
    assert listed == sorted(listed)  # in the order of the file


def test_unknown_top_level_keys_are_errors(tmp_path: Path) -> None:
    message = problems(tmp_path, GOOD + "version: 2\n")
    assert ":18: version: unknown key 'version'; the keys are groups" in message


def test_a_repeated_key_is_an_error(tmp_path: Path) -> None:
    text = GOOD.replace("    role: requestor\n", "    role: requestor\n    role: admin\n", 1)
    assert ":5: groups[0].role: appears twice" in problems(tmp_path, text)


def test_the_same_group_given_the_same_role_twice_is_an_error(tmp_path: Path) -> None:
    again = (
        f"  - id: {SALES.upper()}\n    name: Sales again\n    role: requestor\n"
        '    business_lines: ["Finance"]\n'
    )
    message = problems(tmp_path, GOOD + again)
    assert (
        f":18: groups[4]: group {SALES.upper()} is given the role 'requestor' again (first on "
        "line 2); list its business lines in one entry"
    ) in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty; expected a 'groups:' list"),
        ("- a\n- b\n", ":1: must be a mapping with keys groups"),
        ("roles: []\n", ":1: roles: unknown key 'roles'"),
        ("groups: {}\n", ":1: groups: must be a list of groups"),
        ("groups:\n  - just a string\n", ":2: groups[0]: must be a mapping with keys id, name"),
        (
            f"groups:\n  - id: {SALES}\n    name: x\n    role: [admin]\n    business_lines: '*'\n",
            ":4: groups[0].role: must be text (found a list)",
        ),
        (
            f"groups:\n  - id: {SALES}\n    name: x\n    role: admin\n    business_lines: Sales\n",
            ":5: groups[0].business_lines: must be a list of business lines or '*' (found 'Sales')",
        ),
        (
            f"groups:\n  - id: {SALES}\n    name: ''\n    role: admin\n    business_lines: '*'\n",
            ":3: groups[0].name: must not be empty",
        ),
        (
            f"groups:\n  - id: {SALES}\n    name: x\n    role: admin\n"
            "    business_lines: [Sales, sales]\n",
            ":5: groups[0].business_lines[1]: 'sales' is listed twice",
        ),
    ],
    ids=[
        "empty",
        "a-list",
        "no-groups",
        "groups-not-a-list",
        "entry-not-a-mapping",
        "role-not-text",
        "lines-a-word",
        "empty-name",
        "line-twice",
    ],
)
def test_a_wrong_shape_is_named_with_its_line(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in problems(tmp_path, text)


def test_a_missing_file_is_named_with_its_setting(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(RoleMappingError) as caught:
        load_role_mapping(path)
    assert f"{path} (SHAREPACK_ROLE_MAPPING_FILE) does not exist" in caught.value.message
    assert isinstance(caught.value, ConfigurationError)


def test_bad_yaml_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    message = problems(tmp_path, "groups:\n  - id: [unclosed\n    name: x\n")
    assert "is not valid YAML" in message
    assert f"{tmp_path / 'roles.yaml'}:" in message


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_bytes(b"groups:\n  - name: \xff\n")
    with pytest.raises(RoleMappingError, match="is not UTF-8 text"):
        load_role_mapping(path)
