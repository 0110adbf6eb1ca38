"""The node reader's two ways of placing problems: by line and column (the approval
policy) or by line alone, without key hints (the role mapping, as it always was)."""

from __future__ import annotations

from pathlib import Path

import yaml

from sharepack.identity.yaml_nodes import NodeReader

KEYS = ("when", "name")


def read(reader: NodeReader, text: str) -> list[str]:
    document = yaml.compose(text, Loader=yaml.SafeLoader)
    assert document is not None
    fields = reader.mapping(document, "", KEYS)
    assert fields is not None
    reader.integer(fields.get("name"), "name", minimum=1)
    return reader.problems


def test_by_default_a_problem_names_line_and_column_and_the_likely_key() -> None:
    path = Path("rules.yaml")

    problems = read(NodeReader(path), "name: x\nwen: 1\n")

    assert problems == [
        "rules.yaml:1:7: name: must be a whole number (found 'x')",
        "rules.yaml:2:1: wen: unknown key 'wen'; did you mean 'when'? the keys are when, name",
    ]


def test_without_columns_or_hints_a_problem_names_its_line_only_and_no_likely_key() -> None:
    path = Path("roles.yaml")

    problems = read(NodeReader(path, columns=False, hints=False), "name: x\nwen: 1\n")

    assert problems == [
        "roles.yaml:1: name: must be a whole number (found 'x')",
        "roles.yaml:2: wen: unknown key 'wen'; the keys are when, name",
    ]


def test_without_columns_the_problems_of_one_line_keep_the_order_they_were_found() -> None:
    # The unknown key (column 11) is found before the bad value (column 8).
    text = "{name: x, wen: 1}\n"

    with_columns = read(NodeReader(Path("a.yaml")), text)
    by_line = read(NodeReader(Path("a.yaml"), columns=False), text)

    assert [problem.split(": ")[1] for problem in with_columns] == ["name", "wen"]
    assert [problem.split(": ")[1] for problem in by_line] == ["wen", "name"]
