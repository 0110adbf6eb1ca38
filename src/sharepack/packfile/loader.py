"""`load_share_pack`: bytes of a file in, one typed `SharePackConfig` (or every problem) out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from sharepack.packfile.errors import Problem, SpecError
from sharepack.packfile.findings import Finding
from sharepack.packfile.limits import FILE_NAME_CHARS
from sharepack.packfile.models import DATA_OBJECT_FORMS, SharePackConfig
from sharepack.packfile.normalise import Failure, Normaliser, field_name
from sharepack.packfile.partitions import PartitionSyntaxError, parse_partitions
from sharepack.packfile.rules import check, quartz_or_problem
from sharepack.packfile.unread import Unread, error_paths, with_stand_ins
from sharepack.packfile.xlsx_archive import EXPECTED_FORMATS
from sharepack.packfile.yaml_reader import ANY, LocatedDocument, Path, read_yaml

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
    """The file's values and their locations; the format is told by content, never by name:
    a zip archive is read as a workbook, anything else as YAML text."""
    check_size(len(content), filename, limits)
    check_file_name(filename)
    if content.startswith(_ZIP_MAGIC):
        # Imported here: openpyxl takes a tenth of a second to load, and YAML needs none of it.
        from sharepack.packfile.excel_reader import read_excel

        return read_excel(content, filename, limits.max_rows, limits.max_bytes)
    return read_yaml(_decode(content, filename), filename)


def _decode(content: bytes, filename: str) -> str:
    if b"\x00" in content:
        raise _file_problem(filename, f"The file is binary: {EXPECTED_FORMATS}")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"The file is not UTF-8 text (byte {exc.start} is invalid): {EXPECTED_FORMATS}"
        raise _file_problem(filename, message) from None


def too_large(filename: str, limits: ReadLimits) -> SpecError:
    """The error for a file over `limits.max_bytes`."""
    return _file_problem(
        filename, f"The file is larger than the limit of {limits.max_bytes:,} bytes"
    )


def check_size(size: int, filename: str, limits: ReadLimits) -> None:
    """Refuse a file over `limits.max_bytes` before it is read (or decoded)."""
    if size > limits.max_bytes:
        raise too_large(filename, limits)


def check_file_name(filename: str) -> None:
    """Refuse a name longer than the column it is stored in; it is not shown back whole."""
    if len(filename) > FILE_NAME_CHARS:
        raise _file_problem(
            "",
            f"The file name is {len(filename)} characters long; at most {FILE_NAME_CHARS} "
            "are accepted: rename the file",
        )


#: A check beyond the file's own rules (the directory's, say): findings at paths of the
#: model, located in the file and reported with the rest.
ExtraRule = Callable[[SharePackConfig], Iterable[Finding]]


def load_share_pack(
    content: bytes,
    filename: str,
    *,
    limits: ReadLimits | None = None,
    extra_rules: Sequence[ExtraRule] = (),
) -> LoadedSharePack:
    """Read and validate a share pack; raise `SpecError` listing every problem at once.

    Problems of the file's shape, of the model's fields and of the rules are reported
    together, in file order. A value reported as invalid gives way to a stand-in, so that
    the rules check everything else; what they would derive from it is left out.
    `extra_rules` run after the file's own rules, on a file whose model could be read.
    """
    document = _read(content, filename, limits or ReadLimits())
    normaliser = Normaliser(document.unreadable)
    canonical = normaliser.normalise(document.value)
    _convert_schedules(canonical, normaliser)
    _convert_partitions(canonical, normaliser)
    failures = [f for f in normaliser.failures if not _under(f.raw_path, document.unreadable)]
    problems = [*document.problems, *(_locate(document, f) for f in failures)]
    # Where a value is already reported, the model's complaints about it would repeat it.
    reported = {*document.unreadable, *(f.raw_path for f in failures if not f.at_key)}
    unread = _unread(document, normaliser, failures)
    config: SharePackConfig | None = None
    try:
        config = SharePackConfig.model_validate(canonical)
    except ValidationError as exc:
        for error in exc.errors():
            problem, raw = _locate_model(document, normaliser, error)
            if not _under(raw, reported):
                problems.append(problem)
        config = with_stand_ins(canonical, error_paths(exc), unread)
    findings = (
        []
        if config is None
        else [
            f
            for f in (*check(config), *(x for rule in extra_rules for x in rule(config)))
            if not unread.hides(f)
        ]
    )
    problems += [_at(document, normaliser, f.path, f.message) for f in findings if not f.warning]
    warnings = [_at(document, normaliser, f.path, f.message) for f in findings if f.warning]
    warnings.sort(key=lambda w: document.position(w.location))
    problems.sort(key=lambda p: document.position(p.location))
    if document.unlisted:
        problems.append(Problem(filename, "", f"and {document.unlisted:,} more problems"))
    if problems or config is None:
        raise SpecError(problems, warnings)
    file_format: Literal["yaml", "xlsx"] = "xlsx" if content.startswith(_ZIP_MAGIC) else "yaml"
    return LoadedSharePack(config=config, warnings=tuple(warnings), format=file_format)


def _under(path: Path, prefixes: set[Path] | frozenset[Path]) -> bool:
    return any(path[:end] in prefixes for end in range(len(path) + 1))


#: A section left out at the top of the file (repeated, unknown) may have held recipients.
_SOME_RECIPIENT: Path = ("recipients", ANY)
_MODEL_KEYS = ("metadata", "recipients", "shares")


def _unread(document: LocatedDocument, normaliser: Normaliser, failures: list[Failure]) -> Unread:
    """The model paths of values the reader or the normaliser could not take as written."""
    from_file = {raw: path for path, raw in normaliser.origin.items() if path[0] in _MODEL_KEYS}
    raws = [*document.unreadable, *(f.raw_path for f in failures if not f.at_key)]
    if any(f.at_key and len(f.raw_path) == 1 for f in failures):
        raws.append((ANY,))  # a key dropped at the top: a section left out
    unread = Unread()
    for raw in raws:
        if raw == (ANY,):
            unread.add(_SOME_RECIPIENT)
        elif not raw:
            unread.add(())
        elif (path := _model_path(from_file, raw)) is not None:
            unread.add(path)
    return unread


def _model_path(from_file: dict[Path, Path], raw: Path) -> Path | None:
    """The model path of a path in the file (via its nearest mapped ancestor), if it has one."""
    for end in range(len(raw), 0, -1):
        if (path := from_file.get(raw[:end])) is not None:
            return (*path, *raw[end:])
    return None


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


def _convert_partitions(canonical: dict[str, Any], normaliser: Normaliser) -> None:
    """Partition filters written as SQL (`(region = 'us'), ...`, one string or a list of
    them) -> the model's `{values: [{name, op, value}]}` form; mappings stay as written."""
    for share_index, share in enumerate(canonical.get("shares", [])):
        objects = share.get("data_objects")
        if not isinstance(objects, list):
            continue
        for index, obj in enumerate(objects):
            if not isinstance(obj, dict) or "partitions" not in obj:
                continue
            path: Path = ("shares", share_index, "data_objects", index, "partitions")
            written = obj["partitions"]
            items = [written] if isinstance(written, str) else written
            if not isinstance(items, list):
                continue  # the model says what a partitions field is
            partitions: list[Any] = []
            for position, item in enumerate(items):
                if not isinstance(item, str):
                    partitions.append(item)
                    continue
                try:
                    partitions.extend(parse_partitions(item))
                except PartitionSyntaxError as exc:
                    where = path if isinstance(written, str) else (*path, position)
                    normaliser.fail(_raw_path(normaliser, where), field_name(where), str(exc))
            obj["partitions"] = partitions


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


def _locate_model(
    document: LocatedDocument, normaliser: Normaliser, error: Any
) -> tuple[Problem, Path]:
    """The located problem, and the file path it is about."""
    path: Path = tuple(
        p for p in error["loc"] if isinstance(p, str | int) and p not in DATA_OBJECT_FORMS
    )
    message = str(error["msg"])
    if error["type"] == "missing":
        message = f"'{path[-1]}' is required"
    elif error["type"] == "extra_forbidden":
        message = f"Unknown field '{path[-1]}'"
    return _at(document, normaliser, path, message), _raw_path(normaliser, path)
