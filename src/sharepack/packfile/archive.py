"""A zip of share pack files, read with bounds: no entry, and not all of them together,
decompresses past its limit, whatever the archive's headers say.

Refused, each located at `archive!entry`: more files than `ZipLimits.max_files`; an entry
that decompresses past `max_entry_bytes`, or (once past `RATIO_FLOOR_BYTES`) to more than
`MAX_RATIO` times its compressed size; all entries together past `max_total_bytes`;
encrypted entries; names that are absolute, climb (`..`), use backslashes or drive
letters; symlinks; archives inside the archive (a workbook, itself a zip, is a pack);
two names that differ only in case. Directories and macOS's `__MACOSX/` and `.DS_Store`
entries are skipped, with a warning.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn

from sharepack.packfile.errors import Problem, SpecError
from sharepack.packfile.xlsx_archive import WORKBOOK_PARTS

ZIP_MAGIC = b"PK\x03\x04"
#: Compression beyond 100:1 is a bomb's, not a pack's: YAML compresses about 5-10:1 and
#: a workbook's XML about 10-20:1. Checked once an entry has produced 1 MiB, so a small
#: file of repeated lines is not refused for compressing well.
MAX_RATIO = 100
RATIO_FLOOR_BYTES = 1024 * 1024
#: Entries of any kind (directories and skipped ones included), per file allowed: the
#: central directory is not walked further than this.
ENTRIES_PER_FILE = 10
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_ARCHIVE_SUFFIXES = (".zip", ".jar", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".7z", ".rar")
_ARCHIVE_MAGIC = (
    b"PK\x03\x04",
    b"PK\x05\x06",  # an empty zip
    b"\x1f\x8b",  # gzip
    b"BZh",  # bzip2
    b"\xfd7zXZ\x00",  # xz
    b"7z\xbc\xaf\x27\x1c",  # 7-Zip
    b"Rar!\x1a\x07",  # RAR
)


@dataclass(frozen=True)
class ZipLimits:
    """`max_files` share pack files of at most `max_entry_bytes` each (decompressed), and
    at most `max_total_bytes` together."""

    max_files: int = 50
    max_entry_bytes: int = 5 * 1024 * 1024
    max_total_bytes: int = 50 * 1024 * 1024


class ArchiveError(SpecError):
    """The archive is refused; `entries` gives each refused entry's problems (entry name,
    or "" for the archive as a whole)."""

    def __init__(
        self,
        entries: dict[str, tuple[Problem, ...]],
        warnings: tuple[Problem, ...] = (),
        source: str = "",
    ) -> None:
        super().__init__([p for found in entries.values() for p in found], warnings, source)
        self.entries = entries


@dataclass(frozen=True)
class ZipContents:
    """The files an archive holds (name, bytes), each refused entry's problems, and a
    warning for each entry skipped; `order` names the files and refused entries as the
    archive lists them."""

    files: tuple[tuple[str, bytes], ...]
    refused: dict[str, tuple[Problem, ...]]
    warnings: tuple[Problem, ...]
    order: tuple[str, ...] = ()


def is_zip(content: bytes) -> bool:
    """A zip archive that is not an Excel workbook (which is a zip too, and a pack)."""
    return content.startswith(ZIP_MAGIC) and not is_workbook(content)


def is_workbook(content: bytes) -> bool:
    """A zip whose central directory names a workbook's parts; nothing is decompressed."""
    try:
        names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())
    except Exception:  # BadZipFile, and the ValueError/OSError of stranger damage
        return False
    return all(part in names for part in WORKBOOK_PARTS)


def read_zip(content: bytes, name: str, limits: ZipLimits) -> list[tuple[str, bytes]]:
    """Every file of the zip `name` as (entry name, bytes); `ArchiveError` naming every
    refused entry, or the archive, if any is refused."""
    contents = inspect_zip(content, name, limits)
    if contents.refused:
        raise ArchiveError(contents.refused, contents.warnings, source=name)
    return list(contents.files)


def inspect_zip(content: bytes, name: str, limits: ZipLimits) -> ZipContents:
    """The zip's files and its refused entries apart; `ArchiveError` for what refuses the
    whole archive (not a zip, too many files, too many bytes in all)."""
    archive = _open(content, name)
    entries = archive.infolist()
    if len(entries) > limits.max_files * ENTRIES_PER_FILE:
        _refuse_whole(name, f"The archive has {len(entries):,} entries: {_too_many(limits)}")
    files: list[tuple[str, bytes]] = []
    refused: dict[str, tuple[Problem, ...]] = {}
    warnings: list[Problem] = []
    seen: dict[str, str] = {}
    order: list[str] = []
    total = 0
    for entry in entries:
        where = f"{name}!{entry.filename}"
        if skip := _skipped(entry):
            warnings.append(Problem(where, "", f"Skipped: {skip}"))
            continue
        if len(files) + len(refused) >= limits.max_files:
            _refuse_whole(name, f"The archive has more files than allowed: {_too_many(limits)}")
        order.append(entry.filename)
        problem = _name_problem(entry, seen)
        data = None
        if problem is None:
            room = limits.max_total_bytes - total
            data, problem = _read_entry(archive, name, entry, limits, room)
        if data is None:
            refused[entry.filename] = (Problem(where, "", problem or "Unreadable"),)
            continue
        total += len(data)
        if _is_archive(entry.filename, data):
            nested = "It is an archive inside the archive: put the share pack files in one zip"
            refused[entry.filename] = (Problem(where, "", nested),)
            continue
        files.append((entry.filename, data))
    return ZipContents(tuple(files), refused, tuple(warnings), tuple(order))


def _open(content: bytes, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except Exception as exc:  # BadZipFile, and the ValueError/OSError of stranger damage
        _refuse_whole(name, f"The file is not a zip archive that can be read ({exc})")


def _refuse_whole(name: str, message: str) -> NoReturn:
    raise ArchiveError({"": (Problem(name, "", message),)}, source=name)


def _too_many(limits: ZipLimits) -> str:
    return (
        f"a batch holds at most {limits.max_files} share pack files "
        "(SHAREPACK_BATCH_MAX_FILES); split it"
    )


def _skipped(entry: zipfile.ZipInfo) -> str | None:
    """Why an entry that holds no pack is left out, or None for one that may."""
    if entry.is_dir():
        return "a directory"
    parts = entry.filename.split("/")
    if "__MACOSX" in parts[:-1] or parts[-1] == ".DS_Store" or parts[-1].startswith("._"):
        return "macOS's Finder metadata, not a share pack"
    return None


def _name_problem(entry: zipfile.ZipInfo, seen: dict[str, str]) -> str | None:
    """What makes the entry unsafe to take by its name or kind, or None; notes its name."""
    name = entry.filename
    if entry.flag_bits & 0x1:
        return "The entry is encrypted: put the files in a zip without a password"
    if stat.S_ISLNK(entry.external_attr >> 16):
        return "The entry is a symbolic link: a batch holds files only"
    if name.startswith("/") or _DRIVE.match(name):
        return "The entry's name is an absolute path: name entries relative to the archive"
    if "\\" in name:
        return "The entry's name has a backslash: name entries with '/' between folders"
    if ".." in name.split("/"):
        return "The entry's name climbs out of the archive ('..')"
    folded = name.casefold()
    if folded in seen:
        return f"Another entry has the same name ('{seen[folded]}', case aside)"
    seen[folded] = name
    return None


def _read_entry(
    archive: zipfile.ZipFile, name: str, entry: zipfile.ZipInfo, limits: ZipLimits, room: int
) -> tuple[bytes | None, str | None]:
    """(the entry's bytes, None), or (None, why it is refused); never more than the
    limits decompressed, whatever sizes its headers declare. Past `room` (what the
    total leaves), the whole archive is refused."""
    too_large = (
        f"The entry decompresses to more than {limits.max_entry_bytes:,} bytes, "
        "the limit of one file (SHAREPACK_MAX_UPLOAD_BYTES)"
    )
    if entry.file_size > limits.max_entry_bytes:  # said so itself; a smaller claim is checked
        return None, too_large
    produced = io.BytesIO()
    try:
        for chunk in _chunks(archive, entry):
            produced.write(chunk)
            size = produced.tell()
            if size > room:
                _refuse_whole(
                    name,
                    f"At entry '{entry.filename}', the archive's files together exceed "
                    f"{limits.max_total_bytes:,} bytes (SHAREPACK_BATCH_MAX_TOTAL_BYTES)",
                )
            if size > limits.max_entry_bytes:
                return None, too_large
            if size > RATIO_FLOOR_BYTES and size > MAX_RATIO * max(entry.compress_size, 1):
                return None, (
                    f"The entry is compressed more than {MAX_RATIO}:1 "
                    f"({entry.compress_size:,} bytes expand past {size:,}), like a zip bomb"
                )
    except zipfile.BadZipFile as exc:
        return None, f"The entry is damaged, or its headers do not match its data ({exc})"
    except (NotImplementedError, RuntimeError, ValueError, OSError, EOFError) as exc:
        return None, f"The entry cannot be read ({exc})"
    return produced.getvalue(), None


def _chunks(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> Iterator[bytes]:
    with archive.open(entry) as stream:
        while chunk := stream.read(_CHUNK):
            yield chunk


def _is_archive(name: str, data: bytes) -> bool:
    """An archive by its name or its first bytes; a workbook (a zip) is a pack, not one."""
    if data.startswith(ZIP_MAGIC) and is_workbook(data):
        return False
    if name.casefold().endswith(_ARCHIVE_SUFFIXES) or data.startswith(_ARCHIVE_MAGIC):
        return True
    return len(data) > 262 and data[257:262] == b"ustar"  # tar
