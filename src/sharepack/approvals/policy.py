"""The approval policy: which plans need whose approval, at which level, before they run.

An operator's YAML file (named by the setting SHAREPACK_APPROVAL_POLICY_FILE; the example
`examples/approval-policy.yaml` explains each key):

    groups:
      data-owners:
        id: 3f2c9a4e-0b6d-4c1e-9f7a-2d5e8b1c0a93   # the Entra group's Object ID
        notify: [data-owners@example.com]           # told of packs waiting for them
    rules:
      - name: partners need data owners
        business_lines: ["Sales Operations"]        # default: every one ("*")
        when: {creates_token_recipient: true}       # one kind: see `Condition`
        require:
          - {level: 1, group: data-owners, count: 2}

Levels order the approvals: level 2 is asked once level 1 is complete. The levels a file
uses start at 1 and go up by one. An empty file, or one without rules, asks for nothing.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from sharepack.approvals.policy_reader import read_policy
from sharepack.approvals.policy_types import (
    ApprovalGroup,
    ApprovalPolicy,
    ApprovalRule,
    Condition,
    CreatesTokenRecipient,
    Deletes,
    GrantsShare,
    RequiredApproval,
    SharesObjects,
)
from sharepack.errors import ApprovalPolicyError
from sharepack.identity.yaml_nodes import NodeReader

SETTING = "SHAREPACK_APPROVAL_POLICY_FILE"

__all__ = [
    "SETTING",
    "ApprovalGroup",
    "ApprovalPolicy",
    "ApprovalRule",
    "Condition",
    "CreatesTokenRecipient",
    "Deletes",
    "GrantsShare",
    "RequiredApproval",
    "SharesObjects",
    "load_policy",
]


def load_policy(path: Path) -> ApprovalPolicy:
    """The policy in `path`; `ApprovalPolicyError` listing every problem of the file."""
    text = _read_text(path)
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise ApprovalPolicyError(
            f"The approval policy file {path} ({SETTING}) is not valid YAML: {where}: {exc.problem}"
        ) from None
    except yaml.YAMLError as exc:
        raise ApprovalPolicyError(
            f"The approval policy file {path} ({SETTING}) is not valid YAML: {exc}"
        ) from None
    reader = NodeReader(path)
    policy = read_policy(reader, document)
    problems = reader.problems
    if problems:
        count = len(problems)
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise ApprovalPolicyError(
            f"The approval policy file {path} ({SETTING}) has {count} "
            f"problem{'s' if count > 1 else ''}:\n{listed}"
        )
    return policy


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ApprovalPolicyError(
            f"The approval policy file {path} ({SETTING}) does not exist"
        ) from None
    except IsADirectoryError:
        raise ApprovalPolicyError(
            f"The approval policy file {path} ({SETTING}) is a directory, not a file"
        ) from None
    except OSError as exc:
        raise ApprovalPolicyError(
            f"The approval policy file {path} ({SETTING}) cannot be read: {exc.strerror or exc}"
        ) from None
    except UnicodeDecodeError as exc:
        raise ApprovalPolicyError(
            f"The approval policy file {path} ({SETTING}) is not UTF-8 text (byte {exc.start})"
        ) from None
