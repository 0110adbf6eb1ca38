"""A newcomer's first hour with the pack file (issue 12), each finding as a specification.

Every problem of a file is reported at once: a value that is invalid hides only what is
derived from it, and nothing derived from it is reported on top of its own error. The
format is told from the content, whatever the file's name. A D2O recipient without an
email validates, with a warning that its activation link must be handed over by hand.
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


# -- 1. every problem of a file at once ------------------------------------------------------

UNDECLARED = ("recipients: [sales-analyst, internal-team]", "recipients: [sales-analyst, zz]")
ZZ = "n.yaml:23:33, share[0].recipients[1]: Recipient 'zz' is not declared in this pack"


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        pytest.param(
            ("strategy: NEW", "strategy: NEWW"),
            "n.yaml:7:13, metadata.strategy: Input should be 'NEW' or 'UPDATE'",
            id="strategy",
        ),
        pytest.param(
            ("  description: Quarterly sales for partners", "  prune: maybe"),
            "n.yaml:8:10, metadata.prune: Input should be a valid boolean, unable to interpret "
            "input",
            id="prune",
        ),
        pytest.param(
            ("  requestor: john.doe@example.com", "  # requestor: john.doe@example.com"),
            "n.yaml:5:3, metadata.requestor: 'requestor' is required",
            id="requestor missing",
        ),
        pytest.param(
            ("type: D2D", "type: D2X"),
            "n.yaml:17:11, recipient[1].type: Input should be 'D2O' or 'D2D'",
            id="type of a recipient with a metastore_id",
        ),
        pytest.param(
            ("email: analyst@partner.example.com", "email: [analyst@partner.example.com]"),
            "n.yaml:13:12, recipient[0].email: Input should be a valid string",
            id="email",
        ),
        pytest.param(
            ("comment: Q1 sales data", "comment: [Q1]"),
            "n.yaml:22:14, share[0].comment: Input should be a valid string",
            id="comment of the same share",
        ),
        pytest.param(
            ("serverless: true", "serverless: perhaps"),
            "n.yaml:34:21, share[0].pipelines[0].serverless: Input should be a valid boolean, "
            "unable to interpret input",
            id="serverless",
        ),
        pytest.param(
            ("timezone: UTC}", "timezone: [UTC]}"),
            "n.yaml:33:49, share[0].pipelines[0].schedule.timezone: Input should be a valid string",
            id="timezone",
        ),
        pytest.param(
            ('cron: "0 2 * * *"', 'cron: "0 99 * * *"'),
            "n.yaml:33:26, share[0].pipelines[0].schedule.cron: Invalid cron '0 99 * * *': "
            "hour 99 is outside 0-23",
            id="cron",
        ),
        pytest.param(
            ('tags: {cost_center: "123"}', "tags: {cost_center: [1]}"),
            "n.yaml:35:29, share[0].pipelines[0].tags.cost_center: Input should be a valid string",
            id="tags",
        ),
    ],
)
def test_an_invalid_field_does_not_hide_an_undeclared_recipient(
    edit: tuple[str, str], error: str
) -> None:
    text = _edit(TEMPLATE, UNDECLARED, edit)

    errors, _ = _outcome(text.encode(), "n.yaml")

    assert sorted(errors, key=_line) == errors, "in file order"
    assert sorted(errors) == sorted([error, ZZ])


def _line(problem: str) -> tuple[int, int]:
    line, column = problem.split(",")[0].split(":")[1:3]
    return int(line), int(column)


def test_every_independent_problem_is_reported_together_in_file_order() -> None:
    text = _edit(
        TEMPLATE,
        UNDECLARED,
        ("strategy: NEW", "strategy: NEWW"),
        ("type: D2D", "type: D2X"),
        ("serverless: true", "serverless: perhaps"),
        ("notification: [owner@example.com]", "notification: [owner]"),
    )

    errors, _ = _outcome(text.encode(), "n.yaml")

    assert [e.split(": ")[0] for e in errors] == [
        "n.yaml:7:13, metadata.strategy",
        "n.yaml:17:11, recipient[1].type",
        "n.yaml:23:33, share[0].recipients[1]",
        "n.yaml:34:21, share[0].pipelines[0].serverless",
        "n.yaml:36:24, share[0].pipelines[0].notification[0]",
    ]


def test_an_unreadable_recipient_name_leaves_references_unjudged_and_the_rest_checked() -> None:
    text = _edit(
        TEMPLATE,
        ("name: internal-team", "name: [internal-team]"),
        ("notification: [owner@example.com]", "notification: [owner]"),
    )

    errors, _ = _outcome(text.encode(), "n.yaml")

    # internal-team may be the unreadable name: the share's reference to it is not judged.
    assert errors == [
        "n.yaml:16:11, recipient[1].name: Input should be a valid string",
        "n.yaml:36:24, share[0].pipelines[0].notification[0]: 'owner' is not a valid email "
        "address: An email address must have an @-sign.",
    ]


XLSX_ZZ = "Shares!C2, share[0].recipients[1]: Recipient 'zz' is not declared in this pack"
FORMULA = "Formulas are not read; type the value"


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        pytest.param(
            {("Metadata", "B5"): "NEWW"},
            ["Metadata!B5, metadata.strategy: Input should be 'NEW' or 'UPDATE'", XLSX_ZZ],
            id="strategy",
        ),
        pytest.param(
            {("Metadata", "B5"): "=B4"},
            [f"Metadata!B5: {FORMULA}", XLSX_ZZ],
            id="strategy formula",
        ),
        pytest.param(
            {("Metadata", "B7"): "maybe"},
            [
                "Metadata!B7, metadata.prune: 'maybe' is not true or false (write true/false, "
                "yes/no or 1/0)",
                XLSX_ZZ,
            ],
            id="prune",
        ),
        pytest.param(
            {("Recipients", "B3"): "D2X"},
            ["Recipients!B3, recipient[1].type: Input should be 'D2O' or 'D2D'", XLSX_ZZ],
            id="type of a recipient with a metastore_id",
        ),
        pytest.param(
            {("Recipients", "C2"): "=A2"},
            [f"Recipients!C2: {FORMULA}", XLSX_ZZ],
            id="email formula",
        ),
        pytest.param(
            {("Shares", "B2"): "=A2"},
            [f"Shares!B2: {FORMULA}", XLSX_ZZ],
            id="comment of the same share",
        ),
        pytest.param(
            {("Pipelines", "I2"): "maybe"},
            [
                XLSX_ZZ,
                "Pipelines!I2, pipelines[0].serverless: 'maybe' is not true or false (write "
                "true/false, yes/no or 1/0)",
            ],
            id="serverless, after the share in file order",
        ),
        pytest.param(
            {("Pipelines", "H2"): "=A2"},
            [XLSX_ZZ, f"Pipelines!H2: {FORMULA}"],
            id="timezone formula",
        ),
        pytest.param(
            {("Pipelines", "G2"): "0 99 * * *"},
            [
                XLSX_ZZ,
                "Pipelines!G2, share[0].pipelines[0].schedule.cron: Invalid cron '0 99 * * *': "
                "hour 99 is outside 0-23",
            ],
            id="cron",
        ),
    ],
)
def test_an_invalid_cell_does_not_hide_an_undeclared_recipient(
    tmp_path: Path, cells: Cells, expected: list[str]
) -> None:
    content = _workbook(tmp_path, {("Shares", "C2"): "sales-analyst, zz", **cells})

    errors, _ = _outcome(content, "n.xlsx")

    assert errors == expected


def test_workbook_problems_are_in_file_order_sheet_by_sheet(tmp_path: Path) -> None:
    content = _workbook(
        tmp_path,
        {
            ("Pipelines", "J2"): "owner",
            ("Pipelines", "I2"): "maybe",
            ("Shares", "C2"): "sales-analyst, zz",
            ("Recipients", "B3"): "D2X",
            ("Metadata", "B5"): "NEWW",
        },
    )

    errors, _ = _outcome(content, "n.xlsx")

    assert [e.split(",")[0] for e in errors] == [
        "Metadata!B5",
        "Recipients!B3",
        "Shares!C2",
        "Pipelines!I2",
        "Pipelines!J2",
    ]


# -- 2. a bad cell gets one error, at that cell ----------------------------------------------


@pytest.mark.parametrize(
    "cells",
    [
        pytest.param({("Shares", "D2"): "=A2"}, id="data_objects: no target follow-on"),
        pytest.param({("Pipelines", "B2"): "=A2"}, id="share of a pipeline"),
        pytest.param(
            {("Pipelines", "E2"): "=A2", ("Pipelines", "F2"): None},
            id="scd_type: no key_columns follow-on",
        ),
        pytest.param({("Recipients", "A3"): "=A2"}, id="a recipient's name: no undeclared one"),
        pytest.param({("Recipients", "B3"): "=A2"}, id="type: no metastore_id follow-on"),
        pytest.param({("Pipelines", "D2"): "=A2"}, id="target_asset: not 'required'"),
        pytest.param({("Shares", "A2"): "=B2"}, id="a share's name: its pipeline not orphaned"),
        pytest.param({("Pipelines", "G2"): "=A2"}, id="schedule: its timezone not orphaned"),
        pytest.param({("Recipients", "A1"): "=A2"}, id="the name header: no name 'required'"),
        pytest.param({("Recipients", "C1"): "=A2"}, id="the email header: no missing email"),
        pytest.param({("Recipients", "D1"): "=A2"}, id="the metastore_id header"),
        pytest.param({("Shares", "D1"): "=A2"}, id="the data_objects header: no target"),
        pytest.param({("Pipelines", "B1"): "=A2"}, id="the share header: no orphan"),
        pytest.param({("Pipelines", "G1"): "=A2"}, id="the schedule header: no orphan timezone"),
        pytest.param({("Metadata", "A2"): "=A1"}, id="a metadata label: no requestor 'required'"),
        pytest.param({("Metadata", "B1"): "=A1"}, id="the Value header: not a field"),
    ],
)
def test_a_formula_cell_is_one_error_at_that_cell(tmp_path: Path, cells: Cells) -> None:
    content = _workbook(tmp_path, cells)
    formula = next(cell for (sheet, cell), value in cells.items() if value is not None)
    sheet = next(sheet for (sheet, cell), value in cells.items() if value is not None)

    errors, warnings = _outcome(content, "f.xlsx")

    assert errors == [f"{sheet}!{formula}: {FORMULA}"]
    assert warnings == []


def test_a_missing_shares_sheet_does_not_orphan_the_pipelines(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_template_xlsx(path)
    workbook = load_workbook(path)
    del workbook["Shares"]
    buffer = io.BytesIO()
    workbook.save(buffer)

    errors, _ = _outcome(buffer.getvalue(), "f.xlsx")

    assert errors == ["f.xlsx: The workbook has no 'Shares' sheet"]


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        pytest.param(
            [("      - prod_catalog.sales.daily_summary\n", "      - [a, 1]\n")],
            "f.yaml:26:9, share[0].data_objects[1]: A data object is a name "
            "(catalog.schema.table or catalog.schema) or a mapping of name and options",
            id="data_objects: no target follow-on",
        ),
        pytest.param(
            [('scd_type: "2"', "scd_type: [2]"), ("key_columns: [transaction_id]", "")],
            "f.yaml:31:19, share[0].pipelines[0].scd_type: Input should be a valid string",
            id="scd_type: no key_columns follow-on",
        ),
        pytest.param(
            [("target_asset: prod_catalog.sales.daily_summary", "target_asset: [x]")],
            "f.yaml:30:23, share[0].pipelines[0].target_asset: Input should be a valid string",
            id="target_asset: no source or target follow-on",
        ),
        pytest.param(
            [("type: D2D", "type: [D2D]")],
            "f.yaml:17:11, recipient[1].type: Input should be 'D2O' or 'D2D'",
            id="type: no metastore_id follow-on",
        ),
        pytest.param(
            [("  - name: sales_q1_share", "  - name: [sales_q1_share]")],
            "f.yaml:21:11, share[0].name: Input should be a valid string",
            id="name of a share: nothing about it elsewhere",
        ),
    ],
)
def test_an_invalid_yaml_value_is_one_error_at_that_value(
    edits: list[tuple[str, str]], expected: str
) -> None:
    errors, warnings = _outcome(_edit(TEMPLATE, *edits).encode(), "f.yaml")

    assert errors == [expected]
    assert warnings == []


def test_a_share_with_an_unreadable_name_does_not_orphan_a_top_level_pipeline() -> None:
    nested = TEMPLATE[TEMPLATE.index("    pipelines:\n") :]
    top_level = nested.replace(
        "    pipelines:\n      - name:", "pipelines:\n  - share: sales_q1_share\n    name:"
    ).replace("\n        ", "\n    ")
    text = TEMPLATE.replace(nested, "") + top_level
    text = _edit(text, ("  - name: sales_q1_share", "  - name: !!int sales_q1_share"))

    errors, _ = _outcome(text.encode(), "f.yaml")

    assert errors == ["f.yaml:21:11, share[0].name: 'sales_q1_share' cannot be read as !!int"]


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


# -- 4. a D2O recipient without an email warns -----------------------------------------------

NO_EMAIL = ("    email: analyst@partner.example.com\n", "")
NO_EMAIL_WARNING = (
    "recipient[0].email: Recipient 'sales-analyst' is D2O (open sharing) and has no email: "
    "its activation link must be handed over by hand"
)


def test_a_d2o_recipient_without_an_email_is_valid_with_a_warning() -> None:
    loaded = load_share_pack(_edit(TEMPLATE, NO_EMAIL).encode(), "w.yaml")

    assert [str(w) for w in loaded.warnings] == [f"w.yaml:11:5, {NO_EMAIL_WARNING}"]


def test_a_d2o_recipient_without_an_email_in_a_workbook_warns_at_its_email_cell(
    tmp_path: Path,
) -> None:
    loaded = load_share_pack(_workbook(tmp_path, {("Recipients", "C2"): None}), "w.xlsx")

    assert [str(w) for w in loaded.warnings] == [f"Recipients!C2, {NO_EMAIL_WARNING}"]


def test_validate_prints_the_missing_email_warning_in_text_and_json(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(_edit(TEMPLATE, NO_EMAIL))
    runner = CliRunner()

    as_json = runner.invoke(app, ["validate", str(path), "--json"])
    as_text = runner.invoke(app, ["validate", str(path)], terminal_width=300)

    body = json.loads(as_json.stdout)
    assert (as_json.exit_code, body["valid"], body["errors"]) == (0, True, [])
    assert body["warnings"] == [
        {
            "location": "w.yaml:11:5",
            "field": "recipient[0].email",
            "message": NO_EMAIL_WARNING.split(": ", 1)[1],
        }
    ]
    assert as_text.exit_code == 0
    assert "has no email: its activation link must be handed over by hand" in as_text.output


@pytest.mark.parametrize(
    "edits",
    [
        pytest.param([], id="with an email"),
        pytest.param([("type: D2O", "type: D2D")], id="D2D"),
        pytest.param(
            [("email: analyst@partner.example.com", "email: [analyst@partner.example.com]")],
            id="an unreadable email: its error alone",
        ),
        pytest.param([NO_EMAIL, ("type: D2O", "type: D20")], id="an invalid type"),
    ],
)
def test_no_missing_email_warning_where_it_does_not_hold(edits: list[tuple[str, str]]) -> None:
    _, warnings = _outcome(_edit(TEMPLATE, *edits).encode(), "w.yaml")

    assert not [w for w in warnings if "has no email" in w]


# -- through the API: any file name, and the warning in ValidationWarnings -------------------

EXAMPLE = (Path(__file__).parents[1] / "examples" / "sharepack.yaml").read_bytes()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[httpx.Client]:
    with running_api(runtime, with_worker=False) as api, api.client() as client:
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


def test_an_upload_of_a_d2o_recipient_without_an_email_warns(
    client: httpx.Client, runtime: Runtime
) -> None:
    content = EXAMPLE.replace(b"    email: analyst@partner.example.com\n", b"")

    response = _upload(client, runtime, content, "sharepack.yaml")

    assert response.status_code == 202, response.text
    assert [w for w in response.json()["ValidationWarnings"] if "has no email" in w] == [
        f"sharepack.yaml:11:5, {NO_EMAIL_WARNING}"
    ]
