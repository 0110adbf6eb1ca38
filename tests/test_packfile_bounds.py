"""Every text a share pack gives is checked against where it is stored, before anything is.

A text longer than its database column (or than Unity Catalog's 255 characters for a name)
is a located validation error, in `sharepack validate` and on upload alike. The limits live
in `sharepack.packfile.limits`; the spec package does not import the store, so a test here
holds them against the columns of `sharepack.store.tables`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from sharepack.cli.main import app
from sharepack.packfile import SpecError, load_share_pack
from sharepack.packfile.limits import (
    FILE_NAME_CHARS,
    NOT_BOUNDED_BY_A_COLUMN,
    TEXT_LIMITS,
    UC_NAME_CHARS,
    WORKSPACE_URL_CHARS,
    WORKSPACE_URL_COLUMNS,
    text_values,
)
from sharepack.packfile.templates import template_yaml, write_template_xlsx
from sharepack.store import tables
from sharepack.usecases.submit import share_pack_name
from tests.conftest import REPO_ROOT

UC = "Unity Catalog's limit for a name"


def email_of_length(length: int) -> str:
    """A valid email address of exactly `length` characters (labels of at most 60)."""
    labels: list[str] = []
    remaining = length - len("a" * 64 + "@") - len("com")
    while remaining > 0:
        size = min(60, remaining - 1)  # a label and the dot after it
        labels.append("b" * size)
        remaining -= size + 1
    address = "a" * 64 + "@" + ".".join([*labels, "com"])
    assert len(address) == length
    return address


def _problems(text: str, filename: str = "p.yaml") -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_share_pack(text.encode(), filename)
    return [str(p) for p in caught.value.problems]


def _edited(old: str, new: str) -> str:
    text = template_yaml()
    assert old in text, old
    if old == "name: sales_q1_share":  # the template's objects name their share too
        text = text.replace("share: sales_q1_share", "share: " + new.removeprefix("name: "))
    return text.replace(old, new, 1)


TOO_LONG = {
    "project name": (
        "project_name: Sales Data Q1 2024",
        "project_name: " + "p" * 300,
        "p.yaml:5:17, metadata.project_name: at most 255 characters (got 300)",
    ),
    "business line": (
        "business_line: Sales Operations",
        "business_line: " + "b" * 256,
        "p.yaml:6:18, metadata.business_line: at most 255 characters (got 256)",
    ),
    "requestor, whose pack name would pass 255": (
        "requestor: john.doe@example.com",
        "requestor: " + email_of_length(230),
        "p.yaml:4:14, metadata.requestor: at most 229 characters (got 230): the pack's "
        "name, SharePack_<requestor>_<date>_<time>, is stored in 255",
    ),
    "recipient name": (
        "name: sales-analyst",
        "name: " + "r" * 256,
        f"p.yaml:11:11, recipient[0].name: at most 255 characters (got 256): {UC}",
        "p.yaml:23:18, share[0].recipients[0]: Recipient 'sales-analyst' is not declared in "
        "this pack",
    ),
    "recipient email": (
        "email: analyst@partner.example.com",
        "email: " + "e" * 300 + "@partner.example.com",
        "p.yaml:13:12, recipient[0].email: at most 255 characters (got 320)",
    ),
    "metastore id": (
        '"azure:eastus:0f1e2d3c',
        '"azure:' + "e" * 260 + ":0f1e2d3c",
        "p.yaml:18:19, recipient[1].metastore_id: at most 255 characters (got 303)",
    ),
    "share name": (
        "name: sales_q1_share",
        "name: " + "s" * 300,
        f"p.yaml:21:11, share[0].name: at most 255 characters (got 300): {UC}",
    ),
    "a share's recipient": (
        "recipients: [sales-analyst, internal-team]",
        "recipients: [sales-analyst, internal-team, " + "g" * 256 + "]",
        f"p.yaml:23:48, share[0].recipients[2]: at most 255 characters (got 256): {UC}",
    ),
    "a part of a data object": (
        "- prod_catalog.sales.transactions",
        "- prod_catalog.sales." + "t" * 256,
        "p.yaml:25:9, share[0].data_objects[0]: at most 255 characters per part, "
        f"{UC} (part 3 has 256)",
    ),
    "pipeline name": (
        "name: daily_summary_feed",
        "name: " + "d" * 92,
        "p.yaml:28:15, share[0].pipelines[0].name: at most 91 characters (got 92): its "
        "job is named <name>_schedule, at most 100",
    ),
    "pipeline source": (
        "source_asset: raw_catalog.sales.transactions",
        "source_asset: " + ".".join(["a" * 200, "b" * 200, "c" * 200]),
        "p.yaml:29:23, share[0].pipelines[0].source_asset: at most 500 characters (got 602)",
    ),
    "key column": (
        "key_columns: [transaction_id]",
        "key_columns: [" + "k" * 256 + "]",
        f"p.yaml:32:23, share[0].pipelines[0].key_columns[0]: at most 255 characters "
        f"(got 256): {UC}",
    ),
    "cron, as the Quartz expression stored": (
        'cron: "0 2 * * *"',
        'cron: "0 ' + ",".join(str(m) for m in range(60)) + ' 2 * * ?"',
        "p.yaml:33:26, share[0].pipelines[0].schedule.cron: at most 120 characters "
        "(got 179): the Quartz form of the cron is stored",
    ),
    "timezone": (
        "timezone: UTC",
        "timezone: Europe/" + "z" * 60,
        "p.yaml:33:49, share[0].pipelines[0].schedule.timezone: at most 64 characters (got 67)",
    ),
}


@pytest.mark.parametrize("case", TOO_LONG.values(), ids=TOO_LONG.keys())
def test_a_text_longer_than_where_it_is_stored_is_a_located_error(
    case: tuple[str, ...],
) -> None:
    old, new, *expected = case

    assert _problems(_edited(old, new)) == expected


AT_THE_LIMIT = {
    "project name": ("project_name: Sales Data Q1 2024", "project_name: " + "p" * 255),
    "business line": ("business_line: Sales Operations", "business_line: " + "b" * 255),
    "requestor": ("requestor: john.doe@example.com", "requestor: " + email_of_length(229)),
    "share name": ("name: sales_q1_share", "name: " + "s" * 255),
    "data object": (
        "- prod_catalog.sales.transactions",
        "- prod_catalog.sales." + "t" * 255,
    ),
    "pipeline name": ("name: daily_summary_feed", "name: " + "d" * 91),
}


@pytest.mark.parametrize("case", AT_THE_LIMIT.values(), ids=AT_THE_LIMIT.keys())
def test_a_text_at_its_limit_is_accepted(case: tuple[str, str]) -> None:
    load_share_pack(_edited(*case).encode(), "p.yaml")


def test_a_long_value_is_not_echoed_whole() -> None:
    problems = _problems(_edited("name: sales-analyst", "name: " + "r" * 100_000))

    assert problems == [
        f"p.yaml:11:11, recipient[0].name: at most 255 characters (got 100000): {UC}",
        "p.yaml:23:18, share[0].recipients[0]: Recipient 'sales-analyst' is not declared in "
        "this pack",
    ]


def test_a_long_value_in_a_workbook_names_its_cell(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_template_xlsx(path)
    workbook = load_workbook(path)
    sheet = workbook["Metadata"]
    (row,) = [r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "project_name"]
    sheet.cell(row, 2).value = "p" * 300
    workbook.save(path)

    with pytest.raises(SpecError) as caught:
        load_share_pack(path.read_bytes(), "p.xlsx")

    assert [str(p) for p in caught.value.problems] == [
        f"Metadata!B{row}, metadata.project_name: at most 255 characters (got 300)"
    ]


def test_a_file_name_longer_than_its_column_is_refused_naming_the_limit() -> None:
    name = "n" * 596 + ".yaml"

    assert _problems(template_yaml(), name) == [
        "The file name is 601 characters long; at most 500 are accepted: rename the file"
    ]


def test_a_file_name_of_500_characters_is_accepted() -> None:
    load_share_pack(template_yaml().encode(), "n" * 495 + ".yaml")


def test_validate_reports_a_long_text_with_its_place(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(_edited("project_name: Sales Data Q1 2024", "project_name: " + "p" * 300))

    result = CliRunner().invoke(app, ["validate", str(pack), "--json"])

    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"] == [
        {
            "location": f"{pack.name}:5:17",
            "field": "metadata.project_name",
            "message": "at most 255 characters (got 300)",
        }
    ]


# -- the limits are those of the columns -----------------------------------------------------


def _column_length(qualified: str) -> int:
    table, column = qualified.split(".")
    length = getattr(tables, table).c[column].type.length
    assert isinstance(length, int), f"{qualified} has no length"
    return length


@pytest.mark.parametrize("field", TEXT_LIMITS, ids=".".join)
def test_each_limit_is_the_shortest_of_the_columns_it_is_stored_in(
    field: tuple[str, ...],
) -> None:
    limit = TEXT_LIMITS[field]
    lengths = [_column_length(column) for column in limit.columns]
    if field == ("metadata", "requestor"):  # also in share_packs.share_pack_name
        around = len(share_pack_name("", datetime.now(UTC)))
        lengths.append(_column_length("share_packs.share_pack_name") - around)
    if field == ("shares", "pipelines", "name"):  # and its job's name, at most 100
        lengths.append(100 - len("_schedule"))
    if limit.unity_catalog:
        lengths.append(UC_NAME_CHARS)
    assert limit.chars == (min(lengths) if lengths else None)
    assert limit.part_chars in (None, UC_NAME_CHARS)
    assert limit.chars is not None or limit.part_chars is not None, f"{field} has no bound"


def test_the_file_name_limit_is_its_column() -> None:
    assert _column_length("share_packs.file_name") == FILE_NAME_CHARS


def test_the_workspace_url_limit_is_that_of_every_column_it_is_stored_in() -> None:
    assert {_column_length(column) for column in WORKSPACE_URL_COLUMNS} == {WORKSPACE_URL_CHARS}


def test_every_text_of_the_model_has_a_limit_or_a_reason_it_needs_none() -> None:
    # The template names recipient properties in a comment only (its lines stay put).
    text = template_yaml().replace(
        "    comment: External analyst\n",
        "    comment: External analyst\n    properties: {region: emea}\n",
    )
    config = load_share_pack(text.encode(), "p.yaml").config
    fields = {field for _, field, _ in text_values(config)}

    assert fields == set(TEXT_LIMITS) | set(NOT_BOUNDED_BY_A_COLUMN)
    assert not set(TEXT_LIMITS) & set(NOT_BOUNDED_BY_A_COLUMN)


def test_the_spec_package_does_not_import_the_store() -> None:
    code = "import json, sys, sharepack.packfile.limits; print(json.dumps([*sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT / "src")},
    )

    assert not [m for m in json.loads(result.stdout) if m.startswith("sharepack.store")]
