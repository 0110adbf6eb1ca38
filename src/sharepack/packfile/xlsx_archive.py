"""The .xlsx archive checked before openpyxl opens any of it: that it holds a workbook,
entry count, declared sizes, compression ratio (zip bombs), DOCTYPEs (entity bombs,
external entities) and the number of XML tags (a wide, dense sheet openpyxl would parse
whole just to find its dimension).
"""

from __future__ import annotations

import io
import zipfile

from sharepack.packfile.errors import Problem, SpecError

MAX_ENTRIES = 1000
MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_RATIO = 200
MAX_CELLS = 100_000  # filled cells in the whole workbook, also the reader's cap
# Tags in the workbook's XML: a filled cell takes about six (`<c><v></v></c>` and more).
MAX_XML_TAGS = 8 * MAX_CELLS
#: The parts every .xlsx workbook has (a .docx or a plain zip lacks the second).
WORKBOOK_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
#: What a file must be, said when it is neither.
EXPECTED_FORMATS = "a share pack is YAML (UTF-8 text) or an Excel workbook (.xlsx)"


def check_zip(content: bytes, filename: str, max_bytes: int) -> None:
    """Refuse archives that would expand beyond reason before anything decompresses them."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except Exception:  # BadZipFile, and the ValueError/OSError of stranger damage
        raise SpecError([Problem(filename, "", "The file is not a valid .xlsx workbook")]) from None
    entries = archive.infolist()
    total = sum(e.file_size for e in entries)
    worst = max((e.file_size / max(e.compress_size, 1) for e in entries), default=0)
    if len(entries) > MAX_ENTRIES or total > max(MAX_UNCOMPRESSED, 10 * max_bytes):
        message = f"The workbook would expand to {total:,} bytes in {len(entries)} parts"
        raise SpecError([Problem(filename, "", f"{message}: too large to read")])
    if worst > MAX_RATIO and total > 1024 * 1024:
        raise SpecError(
            [Problem(filename, "", f"The workbook is compressed {worst:.0f}:1, like a zip bomb")]
        )
    names = {e.filename for e in entries}
    if not all(part in names for part in WORKBOOK_PARTS):
        message = f"The file is a zip archive without a workbook in it: {EXPECTED_FORMATS}"
        raise SpecError([Problem(filename, "", message)])
    _check_tags(archive, filename)


def _check_tags(archive: zipfile.ZipFile, filename: str) -> None:
    """Refuse XML no workbook needs before openpyxl parses any of it.

    A DOCTYPE (entity bombs, external entities) has no place in a workbook. And openpyxl
    parses a whole sheet just to look for its dimension when the sheet declares none, so
    caps applied while reading rows come too late for a wide, dense sheet: tags are counted.
    """
    tags = 0
    try:
        for entry in archive.infolist():
            if not entry.filename.endswith((".xml", ".rels")):
                continue
            with archive.open(entry) as part:
                tail = b""
                while chunk := part.read(1024 * 1024):
                    tags += chunk.count(b"<")
                    if b"<!DOCTYPE" in tail + chunk:
                        message = f"The workbook cannot be read: {entry.filename} has a DOCTYPE"
                        raise SpecError([Problem(filename, "", message)])
                    tail = chunk[-8:]
    except SpecError:
        raise
    except Exception as exc:
        raise SpecError([Problem(filename, "", f"The workbook cannot be read: {exc}")]) from None
    if tags > MAX_XML_TAGS:
        message = f"The workbook has {tags:,} XML tags, more than a share pack needs"
        raise SpecError([Problem(filename, "", f"{message} ({MAX_XML_TAGS:,})")])
