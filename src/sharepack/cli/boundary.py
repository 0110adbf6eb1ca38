"""The error boundary of every `sharepack` command: one line on stderr, not a traceback,
and the exit code of `sharepack.cli.exit_codes.EXIT_CODES`.

Commands print what they report (a plan, an outcome, a `--json` object) and let errors
escape; `BoundaryGroup` turns each into its line and code. An exception outside the
table is a bug, and keeps its traceback.

Rich is imported only when an error is reported: a command that succeeds, `version` say,
does not pay for loading it.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from sharepack.cli.exit_codes import EXIT_CODES, ExitCode, UsageError, exit_code_for
from sharepack.errors import ConfigurationError, PlanError, RunHandedOverError, SharePackError
from sharepack.packfile.errors import SpecError

_EXPECTED = tuple(kind for kind, _ in EXIT_CODES)

#: Words before the message of some errors, saying what the outcome means.
_PREFIX: tuple[tuple[type[SharePackError], str], ...] = (
    (PlanError, "Cannot apply: "),
    (RunHandedOverError, "Handed over: "),
)


def describe(error: BaseException) -> list[str]:
    """What is printed for `error`: its one line, and for an invalid file (a pack, or an
    operator's file named by a setting) its problems."""
    if isinstance(error, KeyboardInterrupt):
        return ["Interrupted"]
    if isinstance(error, UsageError):
        return list(error.lines)
    if isinstance(error, SpecError):
        what = error.source or "The share pack file"
        return [f"{what} is invalid:", *(f"  {p}" for p in error.problems)]
    message = str(error.message if isinstance(error, SharePackError) else error)
    if isinstance(error, ConfigurationError) and len(message.strip().splitlines()) > 1:
        # An operator's file (the approval policy, the role mapping): every problem, at once.
        head, *problems = (line for line in message.splitlines() if line.strip())
        return [head.strip(), *(f"  {line.strip()}" for line in problems)]
    first = next((line.strip() for line in message.splitlines() if line.strip()), "")
    prefix = next((words for kind, words in _PREFIX if isinstance(error, kind)), "")
    return [f"{prefix}{first or type(error).__name__}"]


def report(error: BaseException) -> ExitCode:
    """Print `error` as `describe` says, and return its exit code."""
    from rich.console import Console
    from rich.markup import escape

    err = Console(stderr=True, soft_wrap=True, highlight=False)
    first, *rest = describe(error)
    err.print(f"[red]{escape(first)}[/]")
    for line in rest:
        err.print(escape(line))
    return exit_code_for(error)


class BoundaryGroup(TyperGroup):
    """A command group whose commands all end through `report`."""

    def invoke(self, ctx: Any) -> Any:  # typer's own click.Context, which it keeps private
        try:
            return super().invoke(ctx)
        except _EXPECTED as error:
            raise typer.Exit(report(error)) from None
