"""A newcomer's first hour with the pack file (issue 12), each finding as a specification.

The format is told from the content, whatever the file's name.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from sharepack.cli.main import app
from sharepack.packfile import ReadLimits, SpecError, load_share_pack
from sharepack.packfile.templates import template_yaml, write_template_xlsx
from sharepack.runtime import Runtime
from tests.api_server import running_api

TEMPLATE = template_yaml()
Cells = dict[tuple[str, str], object]


def _edit(text: str, *edits: tuple[str, str]) -> str:
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def _outcome(content: bytes, filename: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) as `sharepack validate` prints them."""
    try:
        loaded = load_share_pack(content, filename)
    except SpecError as exc:
        return [str(p) for p in exc.problems], [str(w) for w in exc.warnings]
    return [], [str(w) for w in loaded.warnings]


def _workbook(tmp_path: Path, cells: Cells) -> bytes:
    path = tmp_path / "template.xlsx"
    write_template_xlsx(path)
    workbook = load_workbook(path)
    for (sheet, cell), value in cells.items():
        workbook[sheet][cell] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# -- 3. the format is told from the content, whatever the name ------------------------------


@pytest.mark.parametrize("filename", ["pack.txt", "pack", "pack.xlsx", "PACK.YAML.bak"])
def test_a_yaml_pack_is_read_whatever_its_name(filename: str) -> None:
    loaded = load_share_pack(TEMPLATE.encode(), filename)

    assert loaded.format == "yaml"
    assert loaded.config == load_share_pack(TEMPLATE.encode(), "pack.yaml").config


@pytest.mark.parametrize("filename", ["pack", "pack.txt", "pack.zip"])
def test_a_workbook_is_read_whatever_its_name(tmp_path: Path, filename: str) -> None:
    loaded = load_share_pack(_workbook(tmp_path, {}), filename)

    assert loaded.format == "xlsx"
    assert loaded.config == load_share_pack(TEMPLATE.encode(), "pack.yaml").config


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


EXPECTED = "a share pack is YAML (UTF-8 text) or an Excel workbook (.xlsx)"
_DRAW = random.Random(12)
NOISE = bytes(_DRAW.randrange(1, 256) for _ in range(4096))  # no NUL: not told binary by it
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\nIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\r\n-\xb4\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.mark.parametrize(
    ("filename", "content", "what"),
    [
        pytest.param("logo.png", PNG, "The file is binary", id="png"),
        pytest.param(
            "noise.bin",
            NOISE,
            "The file is not UTF-8 text (byte 2 is invalid)",
            id="random bytes without a NUL",
        ),
        pytest.param(
            "notes.zip",
            _zip({"notes.txt": b"hello"}),
            "The file is a zip archive without a workbook in it",
            id="a zip that is not a workbook",
        ),
        pytest.param(
            "letter.docx",
            _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>"}),
            "The file is a zip archive without a workbook in it",
            id="a word document",
        ),
    ],
)
def test_content_that_is_neither_format_is_one_error_saying_what_was_expected(
    filename: str, content: bytes, what: str
) -> None:
    errors, _ = _outcome(content, filename)

    assert errors == [f"{filename}: {what}: {EXPECTED}"]


def test_the_limits_hold_whatever_the_name() -> None:
    with pytest.raises(SpecError) as caught:
        load_share_pack(TEMPLATE.encode(), "pack.txt", limits=ReadLimits(max_bytes=100))

    assert [str(p) for p in caught.value.problems] == [
        "pack.txt: The file is larger than the limit of 100 bytes"
    ]


def test_validate_reads_a_pack_without_an_extension(tmp_path: Path) -> None:
    path = tmp_path / "pack"
    path.write_text(TEMPLATE)

    result = CliRunner().invoke(app, ["validate", str(path), "--json"])

    assert (result.exit_code, json.loads(result.stdout)["valid"]) == (0, True)


@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_the_file_argument_help_does_not_ask_for_an_extension(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)

    assert result.exit_code == 0
    assert ".yml" not in result.stdout
    assert "told from its content" in result.stdout


# -- through the API: any file name -----------------------------------------------------------

EXAMPLE = (Path(__file__).parents[1] / "examples" / "sharepack.yaml").read_bytes()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[httpx.Client]:
    with (
        running_api(runtime, with_worker=False) as base_url,
        httpx.Client(base_url=base_url, timeout=60) as client,
    ):
        yield client


def _upload(
    client: httpx.Client, runtime: Runtime, content: bytes, filename: str
) -> httpx.Response:
    return client.post(
        "/workflow/sharepack/upload",
        headers={"X-Workspace-URL": runtime.settings.sharepack_workspace_urls[0]},
        files={"file": (filename, content)},
    )


@pytest.mark.parametrize("filename", ["pack.txt", "pack"])
def test_an_upload_is_read_by_its_content_whatever_its_name(
    client: httpx.Client, runtime: Runtime, filename: str
) -> None:
    response = _upload(client, runtime, EXAMPLE, filename)

    assert response.status_code == 202, response.text
    assert response.json()["Status"] == "IN_PROGRESS"
