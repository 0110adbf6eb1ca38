"""`--help` as a person reads it: a flag takes no value, so it shows no metavar."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sharepack.cli.main import app


def _help(*command: str) -> str:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _row(page: str, option: str) -> str:
    (row,) = [line for line in page.splitlines() if f" {option} " in line]
    return row


def test_the_top_level_help_shows_help_as_a_flag() -> None:
    row = _row(_help(), "--help")

    assert "Show this message and exit." in row
    assert "<bool>" not in row


def test_a_command_s_flags_show_no_metavar_and_its_values_do() -> None:
    page = _help("validate")

    assert "<bool>" not in _row(page, "--json")
    assert "<bool>" not in _row(page, "--help")
    assert "<path>" in _row(page, "file")


@pytest.mark.parametrize("command", ["plan", "apply", "status", "serve", "worker"])
def test_no_command_shows_a_metavar_for_a_flag(command: str) -> None:
    assert "<bool>" not in _help(command)
