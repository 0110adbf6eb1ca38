"""The engine: plan (pure), apply (journaled, concurrent), rollback and verification."""

from sharepack.engine.apply import ApplyResult, apply
from sharepack.engine.journal import ActionStatus, InMemoryJournal, Journal
from sharepack.engine.plan import (
    Plan,
    PlanOptions,
    ResourceNames,
    names_of,
    names_to_read,
    no_longer_named,
    plan,
)
from sharepack.engine.plan_warnings import PlanWarning
from sharepack.engine.reading import read_names
from sharepack.engine.rollback import RollbackResult, rollback, verify

__all__ = [
    "ActionStatus",
    "ApplyResult",
    "InMemoryJournal",
    "Journal",
    "Plan",
    "PlanOptions",
    "PlanWarning",
    "ResourceNames",
    "RollbackResult",
    "apply",
    "names_of",
    "names_to_read",
    "no_longer_named",
    "plan",
    "read_names",
    "rollback",
    "verify",
]
