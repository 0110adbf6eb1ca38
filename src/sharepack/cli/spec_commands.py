"""`sharepack validate`, `schema` and `template`: the file format from a terminal."""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from sharepack.cli.exit_codes import ExitCode, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from sharepack.packfile.errors import Problem
    from sharepack.packfile.loader import ReadLimits


@cache
def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True)


class TemplateFormat(StrEnum):
    yaml = "yaml"
    xlsx = "xlsx"


def _problems(problems: tuple[Problem, ...]) -> list[dict[str, str]]:
    return [{"location": p.location, "field": p.field, "message": p.message} for p in problems]


def _read_at_most(file: Path, limits: ReadLimits) -> bytes:
    """The file's bytes, refusing an oversized file by its size before reading it."""
    from sharepack.packfile.loader import check_size

    check_size(file.stat().st_size, file.name, limits)
    with file.open("rb") as stream:
        # One byte over the limit is enough for the loader to refuse a file that grew.
        return stream.read(limits.max_bytes + 1)


def validate(
    file: Path = typer.Argument(
        ..., help="The share pack file, YAML or Excel (.xlsx); the format is told from its content."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Check FILE: exit 0 when valid, 1 when invalid, 2 on a usage error."""
    from sharepack.packfile.errors import SpecError
    from sharepack.packfile.loader import ReadLimits, load_share_pack
    from sharepack.settings import load_settings

    if not file.is_file():
        raise UsageError(f"No such file: {file}")
    limits = ReadLimits(max_bytes=load_settings().sharepack_max_upload_bytes)
    try:
        loaded = load_share_pack(_read_at_most(file, limits), file.name, limits=limits)
        errors: tuple[Problem, ...] = ()
        warnings = loaded.warnings
    except SpecError as exc:
        errors, warnings = exc.problems, exc.warnings
    if as_json:
        body = {
            "valid": not errors,
            "errors": _problems(errors),
            "warnings": _problems(warnings),
        }
        typer.echo(json.dumps(body, indent=2))
    else:
        for problem in errors:
            _err().print(f"[red]error[/]   {problem}")
        for problem in warnings:
            _err().print(f"[yellow]warning[/] {problem}")
        verdict = "[green]valid[/]" if not errors else f"[red]invalid[/] ({len(errors)} error(s))"
        _err().print(f"{file}: {verdict}")
    if errors:
        raise typer.Exit(ExitCode.FAILED)


def schema() -> None:
    """Print the JSON Schema of the YAML format (for editor completion)."""
    from sharepack.packfile.templates import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


def template(
    format: TemplateFormat = typer.Option(TemplateFormat.yaml, "--format", help="yaml or xlsx."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the template."),
) -> None:
    """Write a commented example pack that validates."""
    from sharepack.packfile.templates import template_yaml, write_template_xlsx

    if output.exists():
        raise UsageError(f"{output} exists; not overwriting it")
    if format is TemplateFormat.xlsx:
        write_template_xlsx(output)
    else:
        output.write_text(template_yaml(), encoding="utf-8")
    _err().print(f"Wrote {output}; check it with: sharepack validate {output}")


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(schema)
    app.command()(template)
