"""Policy files the tests write, and the problems a wrong one is refused with."""

from __future__ import annotations

from pathlib import Path

import pytest

from sharepack.approvals.policy import load_policy
from sharepack.errors import ApprovalPolicyError
from tests.approvals.builders import OWNERS, SECURITY

EMPTY_TEXT = "''"
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
