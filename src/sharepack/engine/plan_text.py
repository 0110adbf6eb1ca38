"""A plan as text, as `sharepack plan` prints it: the legend of the symbols used, each
resource with its symbol and changed fields, and the counts. The CLI colours the symbols;
approvers' views and notifications take the plain lines. A plan's digest names exactly
what an approver saw, so that the plan a run makes can be told apart from it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from sharepack.engine.changes import MEANINGS, SYMBOLS, Change, summary_line
from sharepack.engine.plan import Plan

NO_CHANGES = "No changes: the workspace already matches the pack."


def plain_symbol(change: Change) -> str:
    """The change's symbol, right-aligned in three columns."""
    return "-/+" if change is Change.REPLACE else f"  {SYMBOLS[change]}"


def plan_lines(the_plan: Plan, symbol: Callable[[Change], str] = plain_symbol) -> list[str]:
    """The plan's lines (its warnings are not among them), each symbol drawn by `symbol`."""
    if the_plan.is_empty:
        return [NO_CHANGES]
    changes = the_plan.changes()
    used = {c.change for c in changes}
    lines = [
        f"Strategy {the_plan.strategy.value}. "
        "Resource actions are indicated with the following symbols:"
    ]
    lines.extend(f"{symbol(change)} {MEANINGS[change]}" for change in Change if change in used)
    lines.extend(("", "sharepack will perform the following actions:", ""))
    for resource in changes:
        lines.append(f"{symbol(resource.change)} {resource.title}")
        lines.extend(f"      {line}" for line in resource.details())
    lines.extend(("", summary_line(the_plan.summary())))
    return lines


def plan_digest(the_plan: Plan) -> str:
    """SHA-256 of what the plan does, as `sharepack plan --json` shows each action and
    resource (warnings left out): equal for two plans that would make the same calls."""
    shown = the_plan.to_dict()
    content = {"actions": shown["actions"], "resources": shown["resources"]}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
