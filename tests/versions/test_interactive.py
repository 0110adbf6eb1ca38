"""`sharepack rollback --interactive` driven through a pseudo-terminal, as an operator
uses it: the versions listed and numbered, one chosen, the plan shown, confirmed, applied
and verified."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import subprocess
import sys
import time

from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from tests.versions.conftest import PROJECT, V1, V2, Cli, apply_versions, versions, view

#: The terminal's colour codes (the plan's symbols are coloured on a terminal).
COLOURS = re.compile(r"\x1b\[[0-9;]*m")
#: Bounds for a slow machine; the test waits on what the command prints, not on time.
PROMPT_SECONDS = 120.0


class Terminal:
    """A command on a pseudo-terminal: what it printed so far, and answers typed to it."""

    def __init__(self, *args: str) -> None:
        self._main, secondary = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sharepack.cli.main", *args],
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
            env={**os.environ, "COLUMNS": "160", "TERM": "dumb"},
            close_fds=True,
        )
        os.close(secondary)
        self._raw = b""
        self.seen = ""

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + PROMPT_SECONDS
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not printed; printed:\n{self.seen}"
            ready, _, _ = select.select([self._main], [], [], min(left, 1.0))
            if ready:
                try:
                    chunk = os.read(self._main, 65536)
                except OSError:  # the command ended and closed the terminal
                    chunk = b""
                if not chunk and self.process.poll() is not None:
                    assert text in self.seen, f"{text!r} not printed; printed:\n{self.seen}"
                # Decoded and stripped as a whole: a read may end inside a character or
                # a colour code.
                self._raw += chunk
                printed = self._raw.decode("utf-8", "replace").replace("\r\n", "\n")
                self.seen = COLOURS.sub("", printed)

    def type(self, line: str) -> None:
        os.write(self._main, f"{line}\n".encode())

    def finish(self) -> int:
        with contextlib.suppress(AssertionError):  # read until the command closes it
            self.wait_for("\x00never")
        code = self.process.wait(timeout=PROMPT_SECONDS)
        os.close(self._main)
        return code


def test_choose_a_version_see_the_plan_confirm_and_it_is_verified(
    cli: Cli, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    apply_versions(cli, emulator, V1)
    at_v1 = view(workspace_client)
    apply_versions(cli, emulator, V2)

    terminal = Terminal("rollback", "--interactive", "--project", PROJECT)
    terminal.wait_for("Roll back to which version?")
    assert "Versions Trial" in terminal.seen
    terminal.type("2")  # newest first: 1 is version 2, 2 is version 1
    terminal.wait_for("Roll back to version 1?")
    assert "- recipient r-gamma" in terminal.seen  # the plan, before anything runs
    assert "created again" in terminal.seen
    terminal.type("y")
    terminal.wait_for("Verified: the workspace holds version 1")

    assert terminal.finish() == 0
    assert view(workspace_client) == at_v1
    assert versions(cli)[0]["kind"] == "ROLLBACK"


def test_answering_no_changes_nothing(
    cli: Cli, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    apply_versions(cli, emulator, V1, V2)
    before = view(workspace_client)

    terminal = Terminal("rollback", "--interactive")
    terminal.wait_for("Roll back to which version?")
    terminal.type("2")
    terminal.wait_for("Roll back to version 1?")
    terminal.type("n")
    terminal.wait_for("Nothing was changed.")

    assert terminal.finish() == 0
    assert view(workspace_client) == before
    assert len(versions(cli)) == 2
