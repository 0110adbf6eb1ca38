"""`load_share_pack`: bytes of a file in, one typed `SharePackConfig` (or every problem) out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal

from pydantic import ValidationError

from sharepack.spec.errors import Problem, SpecError
from sharepack.spec.excel_reader import read_excel
from sharepack.spec.models import SharePackConfig
from sharepack.spec.normalise import Failure, Normaliser, field_name
from sharepack.spec.rules import check, quartz_or_problem
from sharepack.spec.yaml_reader import LocatedDocument, Path, read_yaml

EXTENSIONS = (".yaml", ".yml", ".xlsx")
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class ReadLimits:
    max_bytes: int = 5 * 1024 * 1024
    max_rows: int = 5000  # per Excel sheet


@dataclass(frozen=True)
class LoadedSharePack:
    config: SharePackConfig
    warnings: tuple[Problem, ...]
    format: Literal["yaml", "xlsx"]


def _file_problem(filename: str, message: str) -> SpecError:
    return SpecError([Problem(filename, "", message)])


def _read(content: bytes, filename: str, limits: ReadLimits) -> LocatedDocument:
    """The file's values and their locations; the format is told by content, not by name."""
    if len(content) > limits.max_bytes:
        raise _file_problem(
            filename, f"The file is larger than the limit of {limits.max_bytes:,} bytes"
        )
    if PurePath(filename).suffix.lower() not in EXTENSIONS:
        raise _file_problem(filename, f"Expected a {', '.join(EXTENSIONS)} file")
    if content.startswith(_ZIP_MAGIC):
        return read_excel(content, filename, limits.max_rows, limits.max_bytes)
    return read_yaml(_decode(content, filename), filename)


def _decode(content: bytes, filename: str) -> str:
    if b"\x00" in content:
        raise _file_problem(filename, "The file is binary, not YAML text")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_problem(
            filename, f"The file is not UTF-8 text (byte {exc.start} is invalid)"
        ) from None


def load_share_pack(
    content: bytes, filename: str, *, limits: ReadLimits | None = None
) -> LoadedSharePack:
    """Read and validate a share pack; raise `SpecError` listing every problem at once."""
    document = _read(content, filename, limits or ReadLimits())
    normaliser = Normaliser()
    canonical = normaliser.normalise(document.value)
    _convert_schedules(canonical, normaliser)
    problems = [_locate(document, f) for f in normaliser.failures]
    if problems:
        raise SpecError(problems)
    try:
        config = SharePackConfig.model_validate(canonical)
    except ValidationError as exc:
        raise SpecError([_locate_model(document, normaliser, e) for e in exc.errors()]) from None
    findings = check(config)
    errors = [_at(document, normaliser, f.path, f.message) for f in findings if not f.warning]
    warnings = [_at(document, normaliser, f.path, f.message) for f in findings if f.warning]
    if errors:
        raise SpecError(errors, warnings)
    file_format: Literal["yaml", "xlsx"] = "xlsx" if content.startswith(_ZIP_MAGIC) else "yaml"
    return LoadedSharePack(config=config, warnings=tuple(warnings), format=file_format)


def _convert_schedules(canonical: dict[str, Any], normaliser: Normaliser) -> None:
    """`CONTINUOUS`, a cron string, or `{cron, timezone}` -> the model's schedule fields."""
    for share_index, share in enumerate(canonical.get("shares", [])):
        for index, pipeline in enumerate(share.get("pipelines", [])):
            if "schedule" not in pipeline:
                continue
            path: Path = ("shares", share_index, "pipelines", index, "schedule")
            raw = normaliser.origin.get(path, path)
            value = pipeline["schedule"]
            if isinstance(value, str) and value.strip().upper() == "CONTINUOUS":
                pipeline["schedule"] = {"continuous": True}
                continue
            if isinstance(value, str):
                value = {"cron": value}
            if not isinstance(value, dict) or not isinstance(value.get("cron"), str):
                normaliser.fail(raw, field_name(path), "schedule is CONTINUOUS or {cron, timezone}")
                pipeline.pop("schedule")
                continue
            quartz, problem = quartz_or_problem(value["cron"])
            if problem:
                normaliser.fail((*raw, "cron"), field_name((*path, "cron")), problem)
            pipeline["schedule"] = {**value, "cron": quartz}


def _at(document: LocatedDocument, normaliser: Normaliser, path: Path, message: str) -> Problem:
    raw = _raw_path(normaliser, path)
    return Problem(document.location(raw), field_name(path), message)


def _raw_path(normaliser: Normaliser, path: Path) -> Path:
    """The file path a model path came from; for a missing field, its parent's place."""
    for end in range(len(path), 0, -1):
        origin = normaliser.origin.get(path[:end])
        if origin is not None:
            return (*origin, *path[end:])
    return path


def _locate(document: LocatedDocument, failure: Failure) -> Problem:
    where = document.key_location if failure.at_key else document.location
    return Problem(where(failure.raw_path), failure.field, failure.message)


def _locate_model(document: LocatedDocument, normaliser: Normaliser, error: Any) -> Problem:
    path: Path = tuple(p for p in error["loc"] if isinstance(p, str | int))
    message = str(error["msg"])
    if error["type"] == "missing":
        message = f"'{path[-1]}' is required"
    elif error["type"] == "extra_forbidden":
        message = f"Unknown field '{path[-1]}'"
    return _at(document, normaliser, path, message)
