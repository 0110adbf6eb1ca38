"""The Excel reader's strictness and the rules on names, lists, addresses and timezones.

Each refused input asserts its exact located message; each valid workbook asserts the value
that landed in the model.
"""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from sharepack.packfile import SpecError, excel_reader, load_share_pack
from sharepack.packfile.models import SharePackConfig
from sharepack.packfile.templates import template_yaml, write_template_xlsx

Cells = dict[tuple[str, str], object]


def _template(tmp_path: Path) -> Workbook:
    path = tmp_path / "template.xlsx"
    write_template_xlsx(path)
    return load_workbook(path)


def _bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _edited(tmp_path: Path, cells: Cells) -> bytes:
    workbook = _template(tmp_path)
    for (sheet, cell), value in cells.items():
        workbook[sheet][cell] = value
    return _bytes(workbook)


def _problems(content: bytes, filename: str = "p.xlsx") -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_share_pack(content, filename)
    return [str(p) for p in caught.value.problems]


def _yaml(text: str) -> SharePackConfig:
    return load_share_pack(text.encode(), "p.yaml").config


def _yaml_problems(old: str, new: str) -> list[str]:
    text = template_yaml()
    assert old in text, old
    return _problems(text.replace(old, new, 1).encode(), "p.yaml")


def _with_sheet_xml(content: bytes, part: str, xml: bytes) -> bytes:
    """The same workbook with one sheet's XML replaced."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, xml if name == part else source.read(name))
    return buffer.getvalue()


RECIPIENTS_XML = "xl/worksheets/sheet2.xml"  # the template's second sheet


# -- valid workbooks: the values land where they belong ------------------------------------


def test_template_workbook_equals_the_template_yaml(tmp_path: Path) -> None:
    loaded = load_share_pack(_bytes(_template(tmp_path)), "p.xlsx")

    assert loaded.config == _yaml(template_yaml())
    schedule = loaded.config.shares[0].pipelines[0].schedule
    assert schedule is not None
    assert schedule.cron == "0 0 2 * * ?"


def test_metadata_without_header_and_numbers_or_dates_in_text_cells(tmp_path: Path) -> None:
    workbook = _template(tmp_path)
    metadata = workbook["Metadata"]
    metadata.delete_rows(1)  # no Field | Value row
    metadata["B2"] = 2024  # project_name
    metadata["B5"] = dt.datetime(2024, 1, 31)  # description
    workbook["Pipelines"]["F2"] = 17.0  # key_columns

    config = load_share_pack(_bytes(workbook), "p.xlsx").config

    assert config.metadata.requestor == "john.doe@example.com"
    assert config.metadata.project_name == "2024"
    assert config.metadata.description == "2024-01-31"
    assert config.shares[0].pipelines[0].key_columns == ("17",)


def test_alias_headers_and_mixed_case_names_read_as_the_yaml_does(tmp_path: Path) -> None:
    workbook = _template(tmp_path)
    recipients, shares = workbook["Recipients"], workbook["Shares"]
    recipients["A1"], recipients["C1"], recipients["E1"] = (
        "Recipient Name",
        "Recipient Contact Email",
        "Allowed IPs",
    )
    recipients["A2"] = "Sales-Analyst"
    shares["A1"], shares["D1"] = "Share Name", "Share Assets"
    shares["A2"], shares["C2"] = "Sales_Q1_Share", "SALES-ANALYST, internal-team"
    shares["D2"] = "Prod_Catalog.Sales.Transactions, prod_catalog.sales.daily_summary"
    workbook["Pipelines"]["B2"] = "SALES_Q1_SHARE"
    text = (
        template_yaml()
        .replace("  - name: sales-analyst ", "  - name: Sales-Analyst ")
        .replace("  - name: sales_q1_share", "  - name: Sales_Q1_Share")
        .replace("[sales-analyst, internal-team]", "[SALES-ANALYST, internal-team]")
        .replace("- prod_catalog.sales.transactions", "- Prod_Catalog.Sales.Transactions")
    )

    from_xlsx = load_share_pack(_bytes(workbook), "p.xlsx").config

    assert from_xlsx == _yaml(text)
    assert from_xlsx.recipients[0].email == "analyst@partner.example.com"
    assert from_xlsx.recipients[0].allowed_ips == ("192.168.1.0/24", "198.51.100.50")
    assert from_xlsx.shares[0].data_objects[0] == "prod_catalog.sales.transactions"


def test_continuous_pipeline_with_words_and_numbers_for_its_values(tmp_path: Path) -> None:
    content = _edited(
        tmp_path,
        {
            ("Pipelines", "E2"): 1,
            ("Pipelines", "G2"): "continuous",
            ("Pipelines", "H2"): None,
            ("Pipelines", "I2"): "No",
            ("Pipelines", "K2"): "cost_center=123, owner = data team",
        },
    )

    pipeline = load_share_pack(content, "p.xlsx").config.shares[0].pipelines[0]

    assert pipeline.schedule is not None
    assert pipeline.schedule.continuous
    assert (pipeline.scd_type, pipeline.serverless) == ("1", False)
    assert pipeline.tags == {"cost_center": "123", "owner": "data team"}


def test_a_cron_with_a_timezone_cell_lands_in_the_schedule(tmp_path: Path) -> None:
    content = _edited(
        tmp_path, {("Pipelines", "G2"): "0 9 * * 1-5", ("Pipelines", "H2"): "Europe/Paris"}
    )

    schedule = load_share_pack(content, "p.xlsx").config.shares[0].pipelines[0].schedule

    assert schedule is not None
    assert (schedule.cron, schedule.timezone) == ("0 0 9 ? * 2-6", "Europe/Paris")


# -- hostile workbooks -----------------------------------------------------------------------


def _recipients_xml(tmp_path: Path, prologue: bytes, comment: bytes) -> bytes:
    content = _bytes(_template(tmp_path))
    xml = zipfile.ZipFile(io.BytesIO(content)).read(RECIPIENTS_XML)
    xml = prologue + xml[xml.index(b"<worksheet") :].replace(b"External analyst", comment)
    return _with_sheet_xml(content, RECIPIENTS_XML, xml)


def test_an_entity_bomb_in_a_sheet_is_refused_not_expanded(tmp_path: Path) -> None:
    entities = b'<!ENTITY l0 "lol">' + b"".join(
        b'<!ENTITY l%d "%s">' % (n, b"&l%d;" % (n - 1) * 10) for n in range(1, 10)
    )
    content = _recipients_xml(tmp_path, b"<!DOCTYPE bomb [" + entities + b"]>", b"&l9;")

    tracemalloc.start()
    problems = _problems(content)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert problems == [f"p.xlsx: The workbook cannot be read: {RECIPIENTS_XML} has a DOCTYPE"]
    assert peak < 10 * 1024 * 1024


def test_an_external_entity_in_a_sheet_is_refused(tmp_path: Path) -> None:
    prologue = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    content = _recipients_xml(tmp_path, prologue, b"&e;")

    assert _problems(content) == [
        f"p.xlsx: The workbook cannot be read: {RECIPIENTS_XML} has a DOCTYPE"
    ]


def test_a_sheet_failing_while_its_rows_are_read_is_a_located_spec_error(tmp_path: Path) -> None:
    # openpyxl opens the sheet at its <dimension> and parses the rows only when asked.
    content = _recipients_xml(tmp_path, b"", b"&e;")

    (problem,) = _problems(content)

    assert problem.startswith(
        "p.xlsx: The workbook cannot be read (sheet 'Recipients'): undefined entity"
    )


def test_a_truncated_sheet_is_a_spec_error(tmp_path: Path) -> None:
    content = _bytes(_template(tmp_path))
    xml = zipfile.ZipFile(io.BytesIO(content)).read(RECIPIENTS_XML)

    (problem,) = _problems(_with_sheet_xml(content, RECIPIENTS_XML, xml[: xml.index(b"</row>")]))

    assert problem.startswith("p.xlsx: The workbook cannot be read (sheet 'Recipients'): ")


def _dense_sheet(columns: int, rows: int) -> bytes:
    letters = [get_column_letter(c) for c in range(1, columns + 1)]
    body = b"".join(
        b'<row r="%d">' % r
        + b"".join(b'<c r="%s%d"><v>%d</v></c>' % (c.encode(), r, r % 10) for c in letters)
        + b"</row>"
        for r in range(1, rows + 1)
    )
    namespace = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    return b'<worksheet xmlns="%s"><sheetData>%s</sheetData></worksheet>' % (namespace, body)


def test_a_wide_dense_sheet_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    content = _with_sheet_xml(_bytes(_template(tmp_path)), RECIPIENTS_XML, _dense_sheet(350, 1000))

    tracemalloc.start()
    problems = _problems(content)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    (problem,) = problems
    assert problem.startswith("p.xlsx: The workbook has 1,40")
    assert problem.endswith(" XML tags, more than a share pack needs (800,000)")
    assert peak < 40 * 1024 * 1024


def test_data_beyond_the_column_cap_is_refused_at_its_cell(tmp_path: Path) -> None:
    content = _with_sheet_xml(_bytes(_template(tmp_path)), RECIPIENTS_XML, _dense_sheet(40, 3))

    problems = _problems(content)

    assert "Recipients!AG1: A sheet has at most 32 columns; this cell is beyond them" in problems


def test_reading_stops_at_the_filled_cell_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(excel_reader, "MAX_CELLS", 20)

    problems = _problems(_bytes(_template(tmp_path)))

    assert problems == ["Recipients!G1: The workbook has more than 20 filled cells"]


def test_problems_beyond_a_hundred_are_counted_not_listed(tmp_path: Path) -> None:
    workbook = _template(tmp_path)
    for row in range(4, 154):
        workbook["Recipients"][f"F{row}"] = "=1+1"

    problems = _problems(_bytes(workbook))

    assert len(problems) == 101
    assert problems[0] == "Recipients!F4: Formulas are not read; type the value"
    assert problems[-1] == "p.xlsx: and 50 more problems"


# -- cells, rows, columns and sheets that say a thing twice or wrongly ------------------------


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        pytest.param(
            {("Metadata", "A8"): "Requestor", ("Metadata", "B8"): "other@example.com"},
            "Metadata!A8, metadata.requestor: 'Requestor' is given twice: first at Metadata!A2",
            id="E12 repeated metadata row",
        ),
        pytest.param(
            {("Recipients", "G1"): "Email", ("Recipients", "G2"): "other@example.com"},
            "Recipients!G1: Column 'Email' repeats column 'email' at Recipients!C1",
            id="E13 repeated column",
        ),
        pytest.param(
            {("Recipients", "G1"): "recipient_contact_email"},
            "Recipients!G1: Column 'recipient_contact_email' repeats column 'email' at "
            "Recipients!C1",
            id="E13 repeated column under an alias",
        ),
        pytest.param(
            {("Pipelines", "I2"): "maybe"},
            "Pipelines!I2, pipelines[0].serverless: 'maybe' is not true or false "
            "(write true/false, yes/no or 1/0)",
            id="E14 serverless neither true nor false",
        ),
        pytest.param(
            {("Pipelines", "E2"): 1.5},
            'Pipelines!E2, share[0].pipelines[0].scd_type: scd_type must be "1" or "2", '
            "not '1.5'",
            id="E15 scd_type not a whole number",
        ),
        pytest.param(
            {("Pipelines", "K2"): "a=1, a=2"},
            "Pipelines!K2, pipelines[0].tags: Tag 'a' is given twice",
            id="E16 repeated tag",
        ),
        pytest.param(
            {("Pipelines", "K2"): "a=1, b"},
            "Pipelines!K2, pipelines[0].tags: Tags are key=value pairs separated by commas; "
            "'b' is not one",
            id="tag without a value",
        ),
        pytest.param(
            {("Pipelines", "H2"): "Mars/Base"},
            "Pipelines!H2, share[0].pipelines[0].schedule.timezone: Unknown timezone "
            "'Mars/Base': use an IANA name such as 'UTC' or 'Europe/Paris'",
            id="E17 unknown timezone at its cell",
        ),
        pytest.param(
            {("Pipelines", "G2"): "CONTINUOUS", ("Pipelines", "H2"): "Mars/Base"},
            "Pipelines!H2, pipelines[0].timezone: A timezone ('Mars/Base') applies to a cron "
            "schedule, not to CONTINUOUS",
            id="E18 timezone next to CONTINUOUS",
        ),
        pytest.param(
            {("Pipelines", "G2"): None},
            "Pipelines!H2, pipelines[0].timezone: A timezone needs a cron in the schedule column",
            id="timezone without a schedule",
        ),
        pytest.param(
            {("Recipients", "J2"): "stray"},
            "Recipients!J2: This cell has no column header",
            id="value under no header",
        ),
        pytest.param(
            {("Metadata", "C2"): "note"},
            "Metadata!C2: The Metadata sheet has two columns: Field and Value",
            id="third metadata column",
        ),
    ],
)
def test_workbook_cell_problems_are_located(tmp_path: Path, cells: Cells, expected: str) -> None:
    assert _problems(_edited(tmp_path, cells)) == [expected]


def test_sheets_whose_names_collapse_to_one_are_refused(tmp_path: Path) -> None:
    workbook = _template(tmp_path)
    workbook.copy_worksheet(workbook["Recipients"]).title = "RECIPIENTS_"

    assert _problems(_bytes(workbook)) == [
        "p.xlsx: Sheets 'Recipients' and 'RECIPIENTS_' are the same sheet: names match "
        "ignoring case, spaces and underscores"
    ]


def test_missing_metadata_names_the_sheet(tmp_path: Path) -> None:
    workbook = _template(tmp_path)
    workbook["Metadata"].delete_rows(2)  # the requestor row

    assert _problems(_bytes(workbook)) == ["Metadata, metadata.requestor: 'requestor' is required"]


def test_problems_of_cells_and_of_rules_are_reported_together(tmp_path: Path) -> None:
    content = _edited(tmp_path, {("Pipelines", "I2"): "maybe", ("Recipients", "C2"): "nope"})

    problems = _problems(content)

    assert len(problems) == 2  # in file order: the Recipients sheet comes first
    assert problems[0].startswith("Recipients!C2, recipient[0].email: 'nope' is not a valid")
    assert problems[1].startswith("Pipelines!I2, pipelines[0].serverless: 'maybe'")


# -- rules -----------------------------------------------------------------------------------

PIPELINE_RULE = (
    "is not a valid pipeline name: use letters, digits, '_' or '-', starting with a letter or digit"
)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("''", "''"),
        ("'daily summary/feed;drop'", "'daily summary/feed;drop'"),
        ("x y" * 25, f"'{('x y' * 25)[:60]}... (75 characters)'"),
        ("_feed", "'_feed'"),
    ],
)
def test_pipeline_names_databricks_would_refuse_are_refused(name: str, shown: str) -> None:
    problems = _yaml_problems("name: daily_summary_feed", f"name: {name}")

    assert problems == [f"p.yaml:28:15, share[0].pipelines[0].name: {shown} {PIPELINE_RULE}"]


def test_a_pipeline_name_over_91_characters_is_refused_for_its_job_name() -> None:
    problems = _yaml_problems("name: daily_summary_feed", "name: " + "p" * 92)

    assert problems == [
        "p.yaml:28:15, share[0].pipelines[0].name: at most 91 characters (got 92): its job "
        "is named <name>_schedule, at most 100"
    ]


def test_a_pipeline_name_of_91_characters_is_accepted() -> None:
    text = template_yaml().replace("name: daily_summary_feed", "name: " + "p" * 91)

    assert _yaml(text).shares[0].pipelines[0].name == "p" * 91


def test_pipeline_names_repeated_in_another_case_are_refused() -> None:
    second = (
        "      - name: Daily_Summary_Feed\n"
        "        source_asset: raw_catalog.sales.other\n"
        "        target_asset: prod_catalog.sales.transactions\n"
        '        scd_type: "1"\n'
    )
    problems = _yaml_problems(
        "        notification: [owner@example.com]\n",
        "        notification: [owner@example.com]\n" + second,
    )

    assert problems == [
        "p.yaml:28:15, share[0].pipelines[0].name: "
        "The pipeline name 'daily_summary_feed' is used more than once",
        "p.yaml:37:15, share[0].pipelines[1].name: "
        "The pipeline name 'Daily_Summary_Feed' is used more than once",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "recipients: [sales-analyst, internal-team]",
            "recipients: [sales-analyst, Sales-Analyst]",
            "p.yaml:23:33, share[0].recipients[1]: Recipient 'sales-analyst' is listed more "
            "than once",
            id="recipient listed twice",
        ),
        pytest.param(
            "key_columns: [transaction_id]",
            "key_columns: [transaction_id, '']",
            "p.yaml:32:39, share[0].pipelines[0].key_columns[1]: A key column name must not be "
            "empty",
            id="empty key column",
        ),
        pytest.param(
            "key_columns: [transaction_id]",
            "key_columns: [transaction_id, transaction_id]",
            "p.yaml:32:39, share[0].pipelines[0].key_columns[1]: Key column 'transaction_id' is "
            "listed more than once",
            id="key column twice",
        ),
        pytest.param(
            "source_asset: raw_catalog.sales.transactions",
            "source_asset: PROD_CATALOG.sales.daily_summary",
            "p.yaml:29:23, share[0].pipelines[0].source_asset: The source "
            "'prod_catalog.sales.daily_summary' is the target too: a pipeline reads one table "
            "and writes another",
            id="source is the target",
        ),
        pytest.param(
            "[192.168.1.0/24, 198.51.100.50]",
            "[10.0.0.0/255.0.0.0]",
            "p.yaml:14:19, recipient[0].allowed_ips[0]: '10.0.0.0/255.0.0.0' is not a CIDR "
            "block: write the prefix length, as in 10.0.0.0/8",
            id="netmask notation",
        ),
        pytest.param(
            "target_asset: prod_catalog.sales.daily_summary",
            "target_asset: prod_catalog.daily_summary",
            "p.yaml:30:23, share[0].pipelines[0].target_asset: 'prod_catalog.daily_summary' is "
            "not catalog.schema.table",
            id="two-part target",
        ),
    ],
)
def test_rules_report_their_place(old: str, new: str, expected: str) -> None:
    assert expected in _yaml_problems(old, new)


def test_a_d2d_recipient_may_have_a_contact_email() -> None:
    text = template_yaml().replace(
        "    type: D2D\n", "    type: D2D\n    email: team@example.com\n"
    )

    assert _yaml(text).recipients[1].email == "team@example.com"


NOT_IANA = "use an IANA name such as 'UTC' or 'Europe/Paris'"


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("localtime", f"Unknown timezone 'localtime': {NOT_IANA}"),
        ("posixrules", f"Unknown timezone 'posixrules': {NOT_IANA}"),
        ("Factory", f"Unknown timezone 'Factory': {NOT_IANA}"),
        ("posix/Europe/Paris", f"Unknown timezone 'posix/Europe/Paris': {NOT_IANA}"),
        ("right/UTC", f"Unknown timezone 'right/UTC': {NOT_IANA}"),
        ("utc", "Unknown timezone 'utc'; did you mean 'UTC'?"),
    ],
)
def test_only_iana_timezones_are_accepted(zone: str, message: str) -> None:
    problems = _yaml_problems("timezone: UTC}", f"timezone: {zone}}}")

    assert problems == [f"p.yaml:33:49, share[0].pipelines[0].schedule.timezone: {message}"]


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "Europe/Paris", "America/New_York"])
def test_iana_timezones_are_kept(zone: str) -> None:
    text = template_yaml().replace("timezone: UTC}", f"timezone: {zone}}}")

    schedule = _yaml(text).shares[0].pipelines[0].schedule

    assert schedule is not None
    assert schedule.timezone == zone
