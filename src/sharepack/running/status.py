"""The values of `Status` clients poll on, and the finer outcome kept beside it."""

from __future__ import annotations

from enum import StrEnum


class PackStatus(StrEnum):
    """The contract's `Status`: clients poll until one of the last three."""

    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    VALIDATION_FAILED = "VALIDATION_FAILED"


TERMINAL_STATUSES = frozenset(
    {PackStatus.COMPLETED, PackStatus.FAILED, PackStatus.VALIDATION_FAILED}
)


class RollbackOutcome(StrEnum):
    """What happened to a failed run's changes; kept in its own field, never in `Status`."""

    NOT_NEEDED = "NOT_NEEDED"
    ROLLED_BACK = "ROLLED_BACK"
    #: Every change of the run undone, but others changed what it touched meanwhile:
    #: their changes were kept (named in ErrorMessage), not overwritten.
    ROLLED_BACK_WITH_CONFLICTS = "ROLLED_BACK_WITH_CONFLICTS"
    ROLLBACK_FAILED = "ROLLBACK_FAILED"
    LEFT_IN_PLACE = "LEFT_IN_PLACE"
