"""A corpus of share pack files: each valid one loads, each invalid one names its place.

Every case is a small edit of one valid pack, written to a file by the test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sharepack.packfile import SpecError, load_share_pack
from sharepack.packfile.models import SharePackConfig, Strategy
from sharepack.packfile.templates import write_template_xlsx

BASE = """\
metadata:
  requestor: owner@example.com
  project_name: Corpus
  business_line: Sales
  strategy: NEW
recipient:
  - name: analyst
    type: D2O
    email: analyst@partner.example.com
    allowed_ips: [10.0.0.0/8, 192.168.1.7]
  - name: internal
    type: D2D
    metastore_id: "azure:eastus:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
share:
  - name: sales
    recipients: [analyst, internal]
    data_objects: [prod_catalog.sales.transactions, prod_catalog.sales]
    pipelines:
      - name: feed
        source_asset: raw_catalog.sales.transactions
        target_asset: prod_catalog.sales.transactions
        scd_type: "2"
        key_columns: [id]
        schedule: {cron: "0 2 * * *", timezone: UTC}
"""

VALID = {
    "base": [],
    "strategy lower case": [("strategy: NEW", "strategy: update")],
    "aliases of the original": [
        ("    email: analyst", "    recipient_contact_email: analyst"),
        ("    allowed_ips:", "    recipient_ips:"),
        ("    metastore_id:", "    data_recipient_global_metastore_id:"),
        ("    data_objects:", "    share_assets:"),
        ("recipient:\n", "recipients:\n"),
        ("share:\n", "shares:\n"),
    ],
    "continuous pipeline": [
        ('schedule: {cron: "0 2 * * *", timezone: UTC}', "schedule: CONTINUOUS")
    ],
    "quartz cron as is": [('cron: "0 2 * * *"', 'cron: "0 0 2 ? * MON-FRI"')],
    "comma-separated list": [("recipients: [analyst, internal]", "recipients: analyst, internal")],
    "unity catalog names in any case": [
        ("  - name: analyst", "  - name: Analyst"),
        ("  - name: sales\n", "  - name: Sales\n"),
        ("data_objects: [prod_catalog.sales.transactions", "data_objects: [PROD_catalog.Sales.T"),
        ("data_objects: [PROD_catalog.Sales.T", "data_objects: [PROD_catalog.Sales.Transactions"),
    ],
    "no pipelines": [
        ("    pipelines:\n", "    pipelines: []\n#"),
        ("      - name: feed\n", "#\n"),
        ("        source_asset", "#"),
        ("        target_asset", "#"),
        ('        scd_type: "2"', "#"),
        ("        key_columns", "#"),
        ("        schedule", "#"),
    ],
}


def _schedule(config: SharePackConfig) -> tuple[object, ...]:
    schedule = config.shares[0].pipelines[0].schedule
    assert schedule is not None
    return (schedule.continuous, schedule.cron, schedule.timezone)


# name: (edits, what to read from the model, the value it must have)
VALID_VALUES: dict[
    str, tuple[list[tuple[str, str]], Callable[[SharePackConfig], object], object]
] = {
    "unix cron converted": ([], _schedule, (False, "0 0 2 * * ?", "UTC")),
    "quartz cron unchanged": (
        [('cron: "0 2 * * *"', 'cron: "0 0 2 ? * MON-FRI"')],
        _schedule,
        (False, "0 0 2 ? * MON-FRI", "UTC"),
    ),
    "sunday as 7 and names": (
        [('cron: "0 2 * * *"', 'cron: "30 6 * jan-mar SUN,7"')],
        _schedule,
        (False, "0 30 6 ? 1-3 1", "UTC"),
    ),
    "timezone kept": (
        [("timezone: UTC", "timezone: Europe/Paris")],
        _schedule,
        (False, "0 0 2 * * ?", "Europe/Paris"),
    ),
    "continuous": (
        [('schedule: {cron: "0 2 * * *", timezone: UTC}', "schedule: continuous")],
        _schedule,
        (True, None, "UTC"),
    ),
    "aliases land in their fields": (
        [
            ("    email: analyst", "    recipient_contact_email: analyst"),
            ("    allowed_ips:", "    recipient_ips:"),
            ("    metastore_id:", "    data_recipient_global_metastore_id:"),
            ("    data_objects:", "    share_assets:"),
        ],
        lambda c: (
            c.recipients[0].email,
            c.recipients[0].allowed_ips,
            c.recipients[1].metastore_id,
            c.shares[0].data_objects,
        ),
        (
            "analyst@partner.example.com",
            ("10.0.0.0/8", "192.168.1.7"),
            "azure:eastus:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
            ("prod_catalog.sales.transactions", "prod_catalog.sales"),
        ),
    ),
    "strategy in any case": (
        [("strategy: NEW", "strategy: uPdAtE")],
        lambda c: c.metadata.strategy,
        Strategy.UPDATE,
    ),
    "scd type as a number": (
        [('scd_type: "2"', "scd_type: 1")],
        lambda c: c.shares[0].pipelines[0].scd_type,
        "1",
    ),
}


@pytest.mark.parametrize("name", sorted(VALID_VALUES))
def test_valid_file_value_lands_in_the_model(name: str, tmp_path: Path) -> None:
    edits, read, expected = VALID_VALUES[name]
    path = tmp_path / "c.yaml"
    path.write_text(_edit(edits))

    assert read(load_share_pack(path.read_bytes(), path.name).config) == expected


# name: (edits, location, field, message fragment)
INVALID: dict[str, tuple[list[tuple[str, str]], str, str, str]] = {
    "requestor not an email": (
        [("requestor: owner@example.com", "requestor: owner")],
        "c.yaml:2:14",
        "metadata.requestor",
        "not a valid email",
    ),
    "project name empty": (
        [("project_name: Corpus", 'project_name: ""')],
        "c.yaml:3:17",
        "metadata.project_name",
        "must not be empty",
    ),
    "business line missing": (
        [("  business_line: Sales\n", "")],
        "c.yaml:2:3",
        "metadata.business_line",
        "required",
    ),
    "unknown strategy": (
        [("strategy: NEW", "strategy: REPLACE")],
        "c.yaml:5:13",
        "metadata.strategy",
        "NEW",
    ),
    "unknown metadata field": (
        [("  strategy: NEW", "  strategy: NEW\n  owner: x")],
        "c.yaml:6:3",
        "metadata",
        "Unknown field 'owner'",
    ),
    "unknown recipient type": (
        [("type: D2O", "type: D3X")],
        "c.yaml:8:11",
        "recipient[0].type",
        "D2O",
    ),
    "recipient name with space": (
        [("- name: analyst", "- name: an alyst")],
        "c.yaml:7:11",
        "recipient[0].name",
        "not a valid name",
    ),
    "duplicate recipient name": (
        [("- name: internal", "- name: analyst")],
        "c.yaml:11:11",
        "recipient[1].name",
        "used more than once",
    ),
    "recipient email invalid": (
        [("email: analyst@partner.example.com", "email: analyst@")],
        "c.yaml:9:12",
        "recipient[0].email",
        "not a valid email",
    ),
    "junk ip": (
        [("10.0.0.0/8", "10.0.0.300")],
        "c.yaml:10:19",
        "recipient[0].allowed_ips[0]",
        "not an IPv4 address",
    ),
    "cidr with host bits": (
        [("10.0.0.0/8", "10.0.0.1/8")],
        "c.yaml:10:19",
        "recipient[0].allowed_ips[0]",
        "host bits",
    ),
    "d2d without metastore": (
        [('    metastore_id: "azure:eastus:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"\n', "")],
        "c.yaml:11:5",
        "recipient[1].metastore_id",
        "needs its metastore_id",
    ),
    "d2d malformed metastore": (
        [("azure:eastus:0f1e", "azure-eastus-0f1e")],
        "c.yaml:13:19",
        "recipient[1].metastore_id",
        "cloud:region:uuid",
    ),
    "d2d with ip list": (
        [("    type: D2D\n", "    type: D2D\n    allowed_ips: [10.1.1.1]\n")],
        "c.yaml:13:18",
        "recipient[1].allowed_ips",
        "D2O recipients only",
    ),
    "d2o with metastore": (
        [("    type: D2O\n", '    type: D2O\n    metastore_id: "azure:eastus:x"\n')],
        "c.yaml:9:19",
        "recipient[0].metastore_id",
        "D2D recipients only",
    ),
    "share names undeclared recipient": (
        [("recipients: [analyst, internal]", "recipients: [analyst, stranger]")],
        "c.yaml:16:27",
        "share[0].recipients[1]",
        "not declared",
    ),
    "share name invalid": (
        [("- name: sales", "- name: sales!")],
        "c.yaml:15:11",
        "share[0].name",
        "not a valid name",
    ),
    "data object one part": (
        [("prod_catalog.sales]", "prod_catalog]")],
        "c.yaml:17:53",
        "share[0].data_objects[1]",
        "catalog.schema.table or catalog.schema",
    ),
    "data object repeated": (
        [("prod_catalog.sales]", "prod_catalog.sales.transactions]")],
        "c.yaml:17:53",
        "share[0].data_objects[1]",
        "listed more than once",
    ),
    "pipeline source two parts": (
        [("source_asset: raw_catalog.sales.transactions", "source_asset: raw_catalog.sales")],
        "c.yaml:20:23",
        "share[0].pipelines[0].source_asset",
        "not catalog.schema.table",
    ),
    "pipeline target not shared": (
        [("target_asset: prod_catalog.sales.transactions", "target_asset: a.b.c")],
        "c.yaml:21:23",
        "share[0].pipelines[0].target_asset",
        "not among share",
    ),
    "scd type 3": (
        [('scd_type: "2"', 'scd_type: "3"')],
        "c.yaml:22:19",
        "share[0].pipelines[0].scd_type",
        '"1" or "2"',
    ),
    "scd2 without keys": (
        [("        key_columns: [id]\n", "")],
        "c.yaml:19:9",
        "share[0].pipelines[0].key_columns",
        "needs key_columns",
    ),
    "bad cron": (
        [('cron: "0 2 * * *"', 'cron: "99 2 * * *"')],
        "c.yaml:24:26",
        "share[0].pipelines[0].schedule.cron",
        "minute 99",
    ),
    "unknown timezone": (
        [("timezone: UTC", "timezone: Mars/Base")],
        "c.yaml:24:49",
        "share[0].pipelines[0].schedule.timezone",
        "Unknown timezone",
    ),
    "schedule of wrong shape": (
        [('schedule: {cron: "0 2 * * *", timezone: UTC}', "schedule: [1]")],
        "c.yaml:24:19",
        "share[0].pipelines[0].schedule",
        "CONTINUOUS or {cron, timezone}",
    ),
    "quartz seconds out of range": (
        [('cron: "0 2 * * *"', 'cron: "99 99 99 * * ?"')],
        "c.yaml:24:26",
        "share[0].pipelines[0].schedule.cron",
        "second 99 is outside 0-59",
    ),
    "unix step zero": (
        [('cron: "0 2 * * *"', 'cron: "*/0 * * * *"')],
        "c.yaml:24:26",
        "share[0].pipelines[0].schedule.cron",
        "minute step 0 is outside 1-59",
    ),
    "pipeline name with a slash": (
        [("- name: feed", "- name: feed/daily")],
        "c.yaml:19:15",
        "share[0].pipelines[0].name",
        "is not a valid pipeline name",
    ),
    "pipeline target of two parts": (
        [("target_asset: prod_catalog.sales.transactions", "target_asset: prod_catalog.sales")],
        "c.yaml:21:23",
        "share[0].pipelines[0].target_asset",
        "'prod_catalog.sales' is not catalog.schema.table",
    ),
    "non-iana timezone": (
        [("timezone: UTC", "timezone: posixrules")],
        "c.yaml:24:49",
        "share[0].pipelines[0].schedule.timezone",
        "Unknown timezone 'posixrules'",
    ),
    "recipient listed twice": (
        [("recipients: [analyst, internal]", "recipients: [analyst, ANALYST]")],
        "c.yaml:16:27",
        "share[0].recipients[1]",
        "Recipient 'analyst' is listed more than once",
    ),
    "duplicate key": (
        [("  strategy: NEW", "  strategy: NEW\n  strategy: UPDATE")],
        "c.yaml:6:3",
        "metadata.strategy",
        "Duplicate key",
    ),
    "tab indentation": ([("  requestor", "\trequestor")], "c.yaml:2:1", "", "Invalid YAML"),
    "anchor": (
        [("recipients: [analyst, internal]", "recipients: &r [analyst, internal]")],
        "c.yaml:16:17",
        "",
        "anchors and aliases are not allowed",
    ),
    "top level list": ([(BASE, "- 1\n")], "c.yaml:1:1", "", "must be a mapping"),
    "pipelines not a list": (
        [("    pipelines:\n      - name: feed", "    pipelines: {name: feed}\n      x: 1")],
        "c.yaml:19:7",
        "",
        "Invalid YAML",
    ),
}


def _edit(edits: list[tuple[str, str]]) -> str:
    text = BASE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_file_loads(name: str, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(_edit(VALID[name]))

    loaded = load_share_pack(path.read_bytes(), path.name)

    assert loaded.config.metadata.project_name == "Corpus"


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_file_names_its_place(name: str, tmp_path: Path) -> None:
    edits, location, field, fragment = INVALID[name]
    path = tmp_path / "c.yaml"
    path.write_text(_edit(edits))

    with pytest.raises(SpecError) as caught:
        load_share_pack(path.read_bytes(), path.name)

    found = [(p.location, p.field, p.message) for p in caught.value.problems]
    assert any(loc == location and fld == field and fragment in msg for loc, fld, msg in found), (
        found
    )


XLSX_INVALID: dict[str, tuple[dict[str | tuple[str, str], str], str, str]] = {
    "missing shares sheet": ({"delete": "Shares"}, "c.xlsx", "no 'Shares' sheet"),
    "bad type cell": ({("Recipients", "B2"): "D9"}, "Recipients!B2", "D2O"),
    "bad ip cell": ({("Recipients", "E2"): "1.2.3"}, "Recipients!E2", "not an IPv4"),
    "undeclared recipient": ({("Shares", "C2"): "nobody"}, "Shares!C2", "not declared"),
    "unknown metadata field": ({("Metadata", "A3"): "colour"}, "Metadata!A3", "Unknown metadata"),
    "repeated metadata row": (
        {("Metadata", "A8"): "requestor", ("Metadata", "B8"): "x@example.com"},
        "Metadata!A8",
        "given twice: first at Metadata!A2",
    ),
    "serverless neither": ({("Pipelines", "I2"): "maybe"}, "Pipelines!I2", "not true or false"),
    "timezone at its cell": ({("Pipelines", "H2"): "Nowhere/City"}, "Pipelines!H2", "Unknown"),
}


@pytest.mark.parametrize("name", sorted(XLSX_INVALID))
def test_invalid_workbook_names_its_cell(name: str, tmp_path: Path) -> None:
    edits, location, fragment = XLSX_INVALID[name]
    path = tmp_path / "c.xlsx"
    write_template_xlsx(path)
    workbook = load_workbook(path)
    for target, value in edits.items():
        if isinstance(target, str):  # "delete"
            del workbook[value]
        else:
            sheet, cell = target
            workbook[sheet][cell] = value
    workbook.save(path)

    with pytest.raises(SpecError) as caught:
        load_share_pack(path.read_bytes(), path.name)

    found = [(p.location, p.message) for p in caught.value.problems]
    assert any(loc == location and fragment in msg for loc, msg in found), found
