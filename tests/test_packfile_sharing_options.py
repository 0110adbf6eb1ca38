"""The sharing options in the file format: YAML forms, the Objects sheet, partition filters
as SQL writes them, and the service's rules checked with located errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sharepack.packfile import SpecError
from sharepack.packfile.loader import load_share_pack
from sharepack.packfile.models import (
    DataObjectKind,
    DataObjectSpec,
    HistorySharing,
    PartitionOp,
    PartitionSpec,
    PartitionValueSpec,
)
from sharepack.packfile.object_rules import CONTACT_EMAIL_PROPERTY
from sharepack.packfile.partitions import PartitionSyntaxError, parse_partitions
from sharepack.packfile.templates import template_yaml, write_template_xlsx
from sharepack.packfile.writer import config_to_yaml, write_xlsx
from sharepack.workspace import sdk_sharing

HEADER = """metadata: {requestor: ana@example.com, project_name: P, business_line: Sales}
recipient:
  - {name: acme, type: D2O, email: d@acme.example.com, properties: {region: eu}}
share:
  - name: s
    recipients: [acme]
    data_objects:
"""


def _load(objects: str) -> list[DataObjectSpec]:
    return list(load_share_pack((HEADER + objects).encode(), "p.yaml").config.shares[0].objects)


def _problems(objects: str, header: str = HEADER) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_share_pack((header + objects).encode(), "p.yaml")
    return [str(p) for p in caught.value.problems]


def test_a_name_alone_takes_the_services_defaults() -> None:
    (obj,) = _load("      - Prod.Sales.Orders\n")

    assert obj == DataObjectSpec(name="prod.sales.orders")
    assert obj.history_data_sharing_status is HistorySharing.DISABLED
    assert (obj.shared_as, obj.cdf_enabled, obj.partitions) == (None, False, ())


def test_options_are_read_in_any_case_and_partitions_as_sql_writes_them() -> None:
    (obj,) = _load(
        "      - name: prod.sales.orders\n"
        "        data_object_type: table\n"
        "        shared_as: Partner.Orders\n"
        "        history_data_sharing_status: enabled\n"
        "        start_version: 3\n"
        "        partitions: \"(region = CURRENT_RECIPIENT().region, day LIKE '2024-%'), "
        "(region = 'it''s')\"\n"
    )

    assert obj.type is DataObjectKind.TABLE
    assert obj.shared_as == "partner.orders"
    assert obj.start_version == 3
    assert obj.partitions == (
        PartitionSpec(
            values=(
                PartitionValueSpec(name="region", recipient_property_key="region"),
                PartitionValueSpec(name="day", op=PartitionOp.LIKE, value="2024-%"),
            )
        ),
        PartitionSpec(values=(PartitionValueSpec(name="region", value="it's"),)),
    )


def test_partitions_may_be_a_list_of_sql_groups_or_of_mappings() -> None:
    (obj,) = _load(
        "      - name: prod.sales.orders\n"
        "        partitions:\n"
        "          - region = 'eu'\n"
        "          - values: [{name: region, op: LIKE, value: 'us%'}]\n"
    )

    assert [p.values[0].value for p in obj.partitions] == ["eu", "us%"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the partition filter is empty"),
        ("region", "each condition is column = value or column LIKE value"),
        ("region 'eu'", "column 'region' needs = or LIKE"),
        ("region = eu", "column 'region' needs a quoted value or CURRENT_RECIPIENT().key"),
        ("(region = 'eu'", "a partition ends with ')'"),
        ("(a = 'b') (c = 'd')", "partitions are separated by commas"),
        ("a = CURRENT_RECIPIENT()", "CURRENT_RECIPIENT() needs a property: .key"),
        ("a = 'b'; drop", "cannot read the partition filter at '; drop'"),
    ],
)
def test_a_partition_filter_that_cannot_be_read_says_why(text: str, message: str) -> None:
    with pytest.raises(PartitionSyntaxError, match=f"^{re.escape(message)}$"):
        parse_partitions(text)


def test_a_bad_partition_filter_is_located_at_its_value() -> None:
    problems = _problems('      - name: prod.sales.orders\n        partitions: "region = eu"\n')

    assert problems == [
        "p.yaml:9:21, share[0].data_objects[0].partitions: column 'region' needs a quoted "
        "value or CURRENT_RECIPIENT().key"
    ]


@pytest.mark.parametrize(
    ("objects", "expected"),
    [
        pytest.param(
            "      - {name: prod.sales.orders, shared_as: partner}\n",
            "p.yaml:8:46, share[0].data_objects[0].shared_as: shared_as 'partner' must be "
            "schema.table, each part letters, digits and underscores",
            id="alias of one part",
        ),
        pytest.param(
            "      - {name: prod.sales.orders, shared_as: partner.or-ders}\n",
            "p.yaml:8:46, share[0].data_objects[0].shared_as: shared_as 'partner.or-ders' must "
            "be schema.table, each part letters, digits and underscores",
            id="alias with a hyphen",
        ),
        pytest.param(
            "      - prod.sales.orders\n      - {name: dev.sales.orders}\n",
            "p.yaml:9:16, share[0].data_objects[1].name: 'dev.sales.orders' would be shared as "
            "'sales.orders', as 'prod.sales.orders' already is: give one of them another "
            "shared_as (schema.table)",
            id="two tables under one default alias",
        ),
        pytest.param(
            "      - {name: prod.sales, shared_as: a.b}\n",
            "p.yaml:8:39, share[0].data_objects[0].shared_as: shared_as applies to tables, not "
            "to a whole schema",
            id="alias of a schema",
        ),
        pytest.param(
            "      - {name: prod.sales, partitions: \"a = 'b'\"}\n",
            "p.yaml:8:40, share[0].data_objects[0].partitions: Partitions apply to tables, not "
            "to a schema",
            id="partitions of a schema",
        ),
        pytest.param(
            "      - {name: prod.sales.orders, type: SCHEMA}\n",
            "p.yaml:8:41, share[0].data_objects[0].type: A SCHEMA is named catalog.schema, not "
            "'prod.sales.orders'",
            id="a table declared a schema",
        ),
        pytest.param(
            "      - {name: prod.sales.orders, start_version: 2}\n",
            "p.yaml:8:50, share[0].data_objects[0].start_version: start_version bounds the "
            "history a recipient may read: it needs history_data_sharing_status ENABLED",
            id="start version without history",
        ),
        pytest.param(
            "      - {name: prod.sales.v, type: VIEW, partitions: \"a = 'b'\"}\n",
            "p.yaml:8:54, share[0].data_objects[0].partitions: Partitions apply to tables, not "
            "to a VIEW",
            id="partitions of a view",
        ),
        pytest.param(
            "      - name: prod.sales.orders\n"
            "        partitions: [{values: [{name: a, value: x, recipient_property_key: y}]}]\n",
            "p.yaml:9:32, share[0].data_objects[0].partitions[0].values[0]: Column 'a' needs a "
            "value or a recipient_property_key (not both)",
            id="value and property",
        ),
        pytest.param(
            "      - {name: prod.sales.orders, history_data_sharing_status: SOMETIMES}\n",
            "p.yaml:8:64, share[0].data_objects[0].history_data_sharing_status: Input should "
            "be 'ENABLED' or 'DISABLED'",
            id="unknown history status",
        ),
        pytest.param(
            "      - {name: prod.sales.orders, colour: blue}\n",
            "p.yaml:8:43, share[0].data_objects[0].colour: Unknown field 'colour'",
            id="unknown option",
        ),
    ],
)
def test_the_services_rules_for_options_are_located_errors(objects: str, expected: str) -> None:
    assert _problems(objects) == [expected]


def test_a_reserved_recipient_property_is_refused_where_it_is_written() -> None:
    header = HEADER.replace("{region: eu}", "{databricks-account-id: x}")

    assert _problems("      - prod.sales.orders\n", header) == [
        "p.yaml:3:92, recipient[0].properties.databricks-account-id: Property "
        "'databricks-account-id' is reserved (the service's, or sharepack's for the email)"
    ]


def test_a_d2d_recipient_has_no_token_to_expire() -> None:
    header = HEADER.replace(
        "{name: acme, type: D2O, email: d@acme.example.com, properties: {region: eu}}",
        "{name: acme, type: D2D, metastore_id: 'azure:eastus:0f1e2d3c-4b5a-6978-8a9b-"
        "0c1d2e3f4a5b', token_expiration: 2030-01-01}",
    )

    problems = _problems("      - prod.sales.orders\n", header)

    assert len(problems) == 1
    assert problems[0].endswith(
        "recipient[0].token_expiration: token_expiration applies to D2O recipients: a D2D "
        "recipient has no token"
    )


def test_sharepacks_contact_email_key_is_the_one_the_adapter_writes() -> None:
    assert CONTACT_EMAIL_PROPERTY == sdk_sharing.CONTACT_EMAIL_PROPERTY


def test_a_workbooks_objects_sheet_reads_as_the_yaml_does(tmp_path: Path) -> None:
    write_template_xlsx(tmp_path / "t.xlsx")
    sheet = load_workbook(tmp_path / "t.xlsx")["Objects"]
    from_yaml = load_share_pack(template_yaml().encode(), "t.yaml").config

    from_xlsx = load_share_pack((tmp_path / "t.xlsx").read_bytes(), "t.xlsx").config

    assert [c.value for c in sheet[2]][:2] == ["sales_q1_share", "prod_catalog.sales.customers"]
    assert sheet["I2"].value == "(region = CURRENT_RECIPIENT().region, channel LIKE 'web%')"
    assert from_xlsx == from_yaml


def test_an_objects_row_naming_an_undeclared_share_is_located_at_its_cell(
    tmp_path: Path,
) -> None:
    write_template_xlsx(tmp_path / "t.xlsx")
    workbook = load_workbook(tmp_path / "t.xlsx")
    workbook["Objects"]["A2"] = "no_such_share"
    workbook.save(tmp_path / "t.xlsx")

    with pytest.raises(SpecError) as caught:
        load_share_pack((tmp_path / "t.xlsx").read_bytes(), "t.xlsx")

    assert [str(p) for p in caught.value.problems] == [
        "Objects!A2, objects[0].share: Object names share 'no_such_share', which the file "
        "does not declare"
    ]


def test_recipient_properties_and_expiry_round_trip_through_both_writers(tmp_path: Path) -> None:
    text = HEADER.replace(
        "{region: eu}}", "{region: eu}, token_expiration: '2030-06-30T00:00:00Z'}"
    )
    config = load_share_pack((text + "      - prod.sales.orders\n").encode(), "p.yaml").config
    write_xlsx(config, tmp_path / "p.xlsx")

    again = load_share_pack(config_to_yaml(config).encode(), "again.yaml").config
    from_xlsx = load_share_pack((tmp_path / "p.xlsx").read_bytes(), "p.xlsx").config

    assert again == config == from_xlsx
    assert config.recipients[0].properties == {"region": "eu"}
