"""The one table from what went wrong to the `sharepack` command's exit code.

Every command exits through it (see `sharepack.cli.boundary`): an error that escapes a
command is printed as one line on stderr and ends the process with the code of its row.
A command's own verdict uses the same codes: `validate` exits
`FAILED` for an invalid file. `drift` is to add 3 for drift found.
"""

from __future__ import annotations

from enum import IntEnum

from sharepack.errors import (
    ApiKeyError,
    ConfigurationError,
    DatabaseUnavailableError,
    NotFoundError,
    PlanError,
    RunHandedOverError,
    SchemaNotReadyError,
    SharePackError,
)
from sharepack.packfile.errors import SpecError
from sharepack.workspace.errors import (
    InvalidWorkspaceUrlError,
    WorkspaceAuthenticationError,
    WorkspaceCredentialsMissingError,
    WorkspaceError,
)


class ExitCode(IntEnum):
    DONE = 0
    FAILED = 1  # the operation failed (or, for `validate`, the file is invalid)
    USAGE = 2  # the command, its file or the settings cannot be used as given
    INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C (128 + SIGINT)


class UsageError(Exception):
    """The command was given something it cannot use; `lines` say what."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


#: Error type -> exit code, most specific first; the first row the error is an instance
#: of decides. Click's own usage errors (an unknown option, a missing argument) exit
#: USAGE too, and Ctrl-C (KeyboardInterrupt) INTERRUPTED.
EXIT_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (UsageError, ExitCode.USAGE),
    (ConfigurationError, ExitCode.USAGE),
    (SpecError, ExitCode.USAGE),
    (ApiKeyError, ExitCode.USAGE),
    (InvalidWorkspaceUrlError, ExitCode.USAGE),
    # The workspace's credentials are settings: none configured, or the ones set refused.
    (WorkspaceCredentialsMissingError, ExitCode.USAGE),
    (WorkspaceAuthenticationError, ExitCode.USAGE),
    (PlanError, ExitCode.FAILED),
    (NotFoundError, ExitCode.FAILED),
    (DatabaseUnavailableError, ExitCode.FAILED),
    (SchemaNotReadyError, ExitCode.FAILED),
    (WorkspaceError, ExitCode.FAILED),
    (RunHandedOverError, ExitCode.FAILED),
    (SharePackError, ExitCode.FAILED),
    (KeyboardInterrupt, ExitCode.INTERRUPTED),
)


def exit_code_for(error: BaseException) -> ExitCode:
    """The code of `error`'s row; an error caused by Ctrl-C (a run handed over because it
    was interrupted, say) is INTERRUPTED whatever its type."""
    if isinstance(error.__cause__, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    raise TypeError(f"{type(error).__name__} has no exit code: it is a bug, not an outcome")
