"""The share pack file: YAML and Excel read into one model, with located errors."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from sharepack.cli.main import app
from sharepack.packfile import ReadLimits, SpecError, load_share_pack
from sharepack.packfile.templates import json_schema, template_yaml, write_template_xlsx


def _xlsx_bytes(tmp_path: Path, edit: dict[tuple[str, str], object] | None = None) -> bytes:
    path = tmp_path / "pack.xlsx"
    write_template_xlsx(path)
    if edit:
        workbook = load_workbook(path)
        for (sheet, cell), value in edit.items():
            workbook[sheet][cell] = value
        workbook.save(path)
    return path.read_bytes()


def _problems(content: bytes, filename: str, limits: ReadLimits | None = None) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_share_pack(content, filename, limits=limits)
    return [str(p) for p in caught.value.problems]


def test_yaml_and_excel_of_the_same_pack_give_equal_models(tmp_path: Path) -> None:
    from_yaml = load_share_pack(template_yaml().encode(), "pack.yaml")
    from_xlsx = load_share_pack(_xlsx_bytes(tmp_path), "pack.xlsx")

    assert from_xlsx.format == "xlsx"
    assert from_xlsx.config == from_yaml.config


def test_excel_pipeline_names_its_share_in_any_case(tmp_path: Path) -> None:
    from_yaml = load_share_pack(template_yaml().encode(), "pack.yaml")
    share = from_yaml.config.shares[0]
    assert share.pipelines, "the template has a pipeline"

    loaded = load_share_pack(
        _xlsx_bytes(tmp_path, {("Pipelines", "B2"): share.name.upper()}), "pack.xlsx"
    )

    assert loaded.config == from_yaml.config


def test_format_is_told_by_content_not_by_name(tmp_path: Path) -> None:
    loaded = load_share_pack(_xlsx_bytes(tmp_path), "misnamed.yaml")

    assert loaded.format == "xlsx"


def test_excel_error_names_the_sheet_and_cell(tmp_path: Path) -> None:
    content = _xlsx_bytes(tmp_path, {("Recipients", "C2"): "not-an-email"})

    problems = _problems(content, "pack.xlsx")

    assert any(p.startswith("Recipients!C2, recipient[0].email:") for p in problems), problems


def test_formula_cells_are_reported_never_evaluated(tmp_path: Path) -> None:
    content = _xlsx_bytes(tmp_path, {("Shares", "B2"): "=1+1"})

    problems = _problems(content, "pack.xlsx")

    assert problems == ["Shares!B2: Formulas are not read; type the value"]


def test_unknown_column_is_reported_at_its_header(tmp_path: Path) -> None:
    content = _xlsx_bytes(tmp_path, {("Shares", "E1"): "colour"})

    assert _problems(content, "pack.xlsx") == ["Shares!E1: Unknown column 'colour'"]


def test_too_many_rows_are_refused(tmp_path: Path) -> None:
    content = _xlsx_bytes(tmp_path, {("Recipients", f"A{n}"): f"r{n}" for n in range(4, 12)})

    problems = _problems(content, "pack.xlsx", ReadLimits(max_rows=5))

    assert "Recipients!A7: The sheet has more than 5 rows" in problems


def test_zip_bomb_posing_as_xlsx_is_refused_before_it_expands() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    content = buffer.getvalue()

    tracemalloc.start()
    problems = _problems(content, "bomb.xlsx")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert len(content) < 200_000
    assert "too large to read" in problems[0] or "zip bomb" in problems[0]
    assert peak < 20 * 1024 * 1024


def test_yaml_alias_bomb_is_refused_without_expanding() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for level in "bcdefghij":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [*{previous},*{previous},*{previous},*{previous}]")
    bomb = ("\n".join(lines) + "\n").encode()

    tracemalloc.start()
    problems = _problems(bomb, "bomb.yaml")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert len(bomb) < 400
    assert problems == ["bomb.yaml:1:4: YAML anchors and aliases are not allowed"]
    assert peak < 5 * 1024 * 1024


def test_oversized_file_is_refused_naming_the_limit() -> None:
    problems = _problems(b"#" * 2000, "big.yaml", ReadLimits(max_bytes=1000))

    assert problems == ["big.yaml: The file is larger than the limit of 1,000 bytes"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metadata: [1]\n", "metadata: 'metadata' must be a mapping of fields"),
        (
            "metadata: {requestor: a@b.co, project_name: P, business_line: B}\nfoo: 1\n",
            "x.yaml:2:1: Unknown field 'foo' in top level",
        ),
        (
            "metadata: {requestor: a@b.co, project_name: P, business_line: B, requestor: c@d.co}\n",
            "Duplicate key 'requestor'",
        ),
        (b"\xff\xfe".decode("latin-1"), "not UTF-8"),
        (
            "metadata:\n  requestor: a@b.co\n  project_name: P\n",
            "metadata.business_line: 'business_line' is required",
        ),
    ],
)
def test_structural_problems_are_located(text: str, expected: str) -> None:
    content = text.encode("latin-1") if "\xff" in text else text.encode()

    problems = _problems(content, "x.yaml")

    assert any(expected in p for p in problems), problems


def test_validate_command_exit_codes_and_json(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(template_yaml())
    bad = tmp_path / "bad.yaml"
    bad.write_text(template_yaml().replace("type: D2O", "type: D3X"))
    runner = CliRunner()

    ok = runner.invoke(app, ["validate", str(good), "--json"])
    invalid = runner.invoke(app, ["validate", str(bad), "--json"])
    missing = runner.invoke(app, ["validate", str(tmp_path / "none.yaml")])

    assert (ok.exit_code, json.loads(ok.stdout)["valid"]) == (0, True)
    assert invalid.exit_code == 1
    (error,) = json.loads(invalid.stdout)["errors"]
    assert (error["location"], error["field"]) == ("bad.yaml:12:11", "recipient[0].type")
    assert missing.exit_code == 2


def test_schema_command_prints_the_yaml_format(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["schema"])

    printed = json.loads(result.stdout)
    assert printed == json_schema()
    assert printed["properties"]["metadata"]["required"] == [
        "requestor",
        "project_name",
        "business_line",
    ]


def test_template_command_does_not_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "t.xlsx"
    runner = CliRunner()

    first = runner.invoke(app, ["template", "--format", "xlsx", "-o", str(target)])
    second = runner.invoke(app, ["template", "--format", "xlsx", "-o", str(target)])

    assert first.exit_code == 0
    assert load_share_pack(target.read_bytes(), "t.xlsx").format == "xlsx"
    assert second.exit_code == 2


def test_an_xlsx_over_5_mb_is_refused_within_a_memory_bound() -> None:
    content = b"PK\x03\x04" + b"\0" * (5 * 1024 * 1024)

    tracemalloc.start()
    problems = _problems(content, "huge.xlsx")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert problems == ["huge.xlsx: The file is larger than the limit of 5,242,880 bytes"]
    assert peak < 1024 * 1024


def _warnings(text: str) -> list[str]:
    return [str(w) for w in load_share_pack(text.encode(), "w.yaml").warnings]


def test_access_from_anywhere_is_a_warning_not_an_error() -> None:
    text = template_yaml().replace("[192.168.1.0/24, 198.51.100.50]", "[0.0.0.0/0]")

    assert _warnings(text) == [
        "w.yaml:14:19, recipient[0].allowed_ips[0]: '0.0.0.0/0' allows access from anywhere"
    ]


def test_under_update_an_undeclared_recipient_warns_that_it_must_exist() -> None:
    text = template_yaml().replace("strategy: NEW", "strategy: UPDATE")
    text = text.replace("recipients: [sales-analyst, internal-team]", "recipients: [partner-x]")

    (warning,) = _warnings(text)
    assert "share[0].recipients[0]: Recipient 'partner-x' is not declared here" in warning


def test_more_than_1000_objects_in_a_share_are_refused() -> None:
    tables = ", ".join(f"c.s.t{i}" for i in range(1001))
    text = template_yaml().replace(
        "    data_objects:                      # catalog.schema.table, or catalog.schema\n"
        "      - prod_catalog.sales.transactions\n"
        "      - prod_catalog.sales.daily_summary\n",
        f"    data_objects: [{tables}, prod_catalog.sales.daily_summary]\n",
    )

    problems = _problems(text.encode(), "big.yaml")

    assert any(
        "At most 1000 data objects per share, found 1003" in p for p in problems
    )  # and the template's objects: entry


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (
            "notification: [owner@example.com]",
            "notification: [owner]",
            "share[0].pipelines[0].notification[0]: 'owner' is not a valid email",
        ),
        (
            'tags: {cost_center: "123"}',
            "tags: {cost_center: [1]}",
            "share[0].pipelines[0].tags.cost_center",
        ),
    ],
)
def test_pipeline_notification_and_tags_are_checked(old: str, new: str, fragment: str) -> None:
    problems = _problems(template_yaml().replace(old, new).encode(), "p.yaml")

    assert any(fragment in p for p in problems), problems
