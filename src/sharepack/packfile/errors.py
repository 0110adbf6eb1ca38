"""Located problems found in a share pack file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sharepack.errors import SharePackError


@dataclass(frozen=True)
class Problem:
    """One error or warning, with where it is.

    `location` is `file:line:column` for YAML or `Sheet!C7` for Excel (empty when the
    problem is about the file as a whole); `field` is the path in the model, such as
    `share[0].recipients[1]`.
    """

    location: str
    field: str
    message: str

    def __str__(self) -> str:
        where = ", ".join(part for part in (self.location, self.field) if part)
        return f"{where}: {self.message}" if where else self.message


class SpecError(SharePackError):
    """The share pack file is invalid; `source` names the file when the reader knows it."""

    def __init__(
        self, problems: Sequence[Problem], warnings: Sequence[Problem] = (), source: str = ""
    ) -> None:
        self.problems = tuple(problems)
        self.warnings = tuple(warnings)
        self.source = source
        summary = "; ".join(str(p) for p in self.problems[:5])
        more = len(self.problems) - 5
        if more > 0:
            summary += f"; and {more} more"
        super().__init__(f"The share pack file is invalid: {summary}")

    def in_file(self, source: str) -> SpecError:
        """The same problems, said of the file `source` (a path the user gave)."""
        return SpecError(self.problems, self.warnings, source=source)
