"""Hostile and malformed YAML packs: each gets located problems (never a crash), in
bounded time and memory; every problem of a file is reported together."""

from __future__ import annotations

import json
import re
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from sharepack.cli.main import app
from sharepack.packfile import SpecError, load_share_pack
from sharepack.packfile.templates import json_schema, template_yaml
from sharepack.packfile.xlsx_archive import EXPECTED_FORMATS
from sharepack.packfile.yaml_reader import MAX_DEPTH, MAX_NODES

TEMPLATE = template_yaml()
PROJECT = "project_name: Sales Data Q1 2024"
EXAMPLE = Path(__file__).parents[1] / "examples" / "sharepack.yaml"


def _problems(text: str | bytes, filename: str = "h.yaml") -> list[str]:
    content = text.encode() if isinstance(text, str) else text
    with pytest.raises(SpecError) as caught:
        load_share_pack(content, filename)
    return [str(p) for p in caught.value.problems]


def _edit(*edits: tuple[str, str]) -> str:
    text = TEMPLATE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


# A1: a scalar its tag's constructor cannot read is a located problem.
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!int abc", "'abc' cannot be read as !!int"),
        ("!!float abc", "'abc' cannot be read as !!float"),
        ("!!bool maybe", "'maybe' cannot be read as !!bool"),
        ("!!timestamp 2024-13-45", "'2024-13-45' cannot be read as !!timestamp"),
        ("!!timestamp 2024-01-01 25:00:00", "'2024-01-01 25:00:00' cannot be read as !!timestamp"),
        ("9" * 5000, f"'{'9' * 40}... (5,000 characters)' cannot be read as !!int"),
        (
            "!!python/object:os.system ls",
            "Invalid YAML value: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object:os.system'",
        ),
        (
            "!custom value",
            "Invalid YAML value: could not determine a constructor for the tag '!custom'",
        ),
    ],
)
def test_unreadable_scalar_is_reported_at_its_place(value: str, message: str) -> None:
    problems = _problems(_edit((PROJECT, f"project_name: {value}")))

    assert problems == [f"h.yaml:5:17, metadata.project_name: {message}"]


def test_unreadable_scalars_are_all_reported_with_the_other_problems() -> None:
    text = _edit(
        (PROJECT, "project_name: !!int abc"),
        ('scd_type: "2"', "scd_type: !!float x"),
        ("type: D2O", "type: D3X"),
    )

    problems = _problems(text)

    assert problems == [
        "h.yaml:5:17, metadata.project_name: 'abc' cannot be read as !!int",
        "h.yaml:12:11, recipient[0].type: Input should be 'D2O' or 'D2D'",
        "h.yaml:31:19, share[0].pipelines[0].scd_type: 'x' cannot be read as !!float",
    ]


@pytest.mark.parametrize(
    "written", ["2024-01-01", "2024-13-45", "2024-02-30", "2024-01-01 25:00:00"]
)
def test_a_date_where_text_is_expected_is_read_as_the_text_written(written: str) -> None:
    loaded = load_share_pack(_edit((PROJECT, f"project_name: {written}")).encode(), "d.yaml")

    assert loaded.config.metadata.project_name == written


def test_a_collection_with_a_foreign_tag_is_refused() -> None:
    problems = _problems("metadata: !!set {a, b}\n")

    assert problems == [
        "h.yaml:1:11, metadata: The YAML tag 'tag:yaml.org,2002:set' is not supported"
    ]


# A2: nesting is bounded before anything recurses.
@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("a: " + "[" * 2000 + "]" * 2000, f"h.yaml:1:{3 + MAX_DEPTH}"),
        ("[" * 200_000, f"h.yaml:1:{MAX_DEPTH + 1}"),
        ("a: " + "{b: " * 3000 + "1" + "}" * 3000, f"h.yaml:1:{4 + 4 * (MAX_DEPTH - 1)}"),
    ],
    ids=["lists", "unclosed", "mappings"],
)
def test_deep_nesting_is_refused_at_the_level_past_the_limit(text: str, location: str) -> None:
    problems = _problems(text)

    assert problems == [f"{location}: Lists and mappings nest deeper than {MAX_DEPTH} levels"]


def test_nesting_up_to_the_limit_is_read() -> None:
    text = "metadata: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"

    assert _problems(text) == ["h.yaml:1:11, metadata: 'metadata' must be a mapping of fields"]


def test_deep_nesting_is_refused_by_the_pure_loader_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sharepack.packfile.yaml_reader._EventLoader", None)

    problems = _problems("a: " + "[" * 2000 + "]" * 2000)

    assert problems == [f"h.yaml:1:{3 + MAX_DEPTH}: Lists and mappings nest deeper than 32 levels"]


# A3: names that are not strings are reported, never hashed.
@pytest.mark.parametrize("name", ["[a]", "{a: 1}"])
def test_a_share_name_that_is_not_a_string_is_reported_at_its_place(name: str) -> None:
    problems = _problems(_edit(("  - name: sales_q1_share", f"  - name: {name}")))

    assert problems == ["h.yaml:21:11, share[0].name: Input should be a valid string"]


def _top_level_pipeline(share: str) -> str:
    nested = TEMPLATE[TEMPLATE.index("    pipelines:\n") :]
    body = nested.replace(
        "    pipelines:\n      - name:", f"pipelines:\n  - share: {share}\n    name:"
    )
    body = body.replace("\n        ", "\n    ")
    return TEMPLATE.replace(nested, "") + body


@pytest.mark.parametrize("share", ["[sales_q1_share]", "{a: 1}", "5"])
def test_a_top_level_pipeline_share_that_is_not_a_name_is_reported(share: str) -> None:
    problems = _problems(_top_level_pipeline(share))

    assert problems == [
        "h.yaml:28:12, pipelines[0].share: 'share' must be the name of a share in this file"
    ]


# G27: top-level pipelines, junk, repeated names.
def test_top_level_pipeline_equals_the_nested_one() -> None:
    text = _top_level_pipeline("SALES_Q1_SHARE")

    top = load_share_pack(text.encode(), "t.yaml").config

    assert "  - share: SALES_Q1_SHARE\n" in text
    assert top == load_share_pack(TEMPLATE.encode(), "n.yaml").config


def test_top_level_pipeline_without_share_is_reported() -> None:
    text = _top_level_pipeline("x").replace("  - share: x\n    name:", "  - name:")

    assert _problems(text) == ["h.yaml:28:5, pipelines[0]: A top-level pipeline needs 'share:'"]


def test_top_level_pipeline_naming_an_undeclared_share_is_reported() -> None:
    problems = _problems(_top_level_pipeline("nosuch"))

    assert problems == [
        "h.yaml:28:12, pipelines[0].share: "
        "Pipeline names share 'nosuch', which the file does not declare"
    ]


def test_top_level_pipeline_joins_the_first_of_two_shares_with_one_name() -> None:
    second = "  - name: Sales_Q1_Share\n    data_objects: [a.b.c]\n"
    text = _top_level_pipeline("sales_q1_share").replace("pipelines:\n", second + "pipelines:\n")

    problems = _problems(text)

    assert problems == [
        "h.yaml:21:11, share[0].name: The name 'sales_q1_share' is used more than once",
        "h.yaml:27:11, share[1].name: The name 'sales_q1_share' is used more than once",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"metadata:\n  requestor: a\x00b\n", f"h.yaml: The file is binary: {EXPECTED_FORMATS}"),
        (bytes(range(256)) * 4, f"h.yaml: The file is binary: {EXPECTED_FORMATS}"),
        (
            b"\x89PNG\r\n\x1a\n" + b"\x01" * 64,
            f"h.yaml: The file is not UTF-8 text (byte 0 is invalid): {EXPECTED_FORMATS}",
        ),
        (b"a: \x07\n", "h.yaml:1:4: Character 0x0007 is not allowed in YAML"),
    ],
    ids=["nul", "all bytes", "png", "control character"],
)
def test_binary_junk_is_refused_as_a_whole(content: bytes, message: str) -> None:
    assert _problems(content) == [message]


# C8: every problem of a file, from every stage, together and in file order.
def test_unknown_field_field_errors_and_rule_errors_are_reported_together() -> None:
    text = _edit(
        ("strategy: NEW", "strategy: NEW\n  owner: x"),
        ("requestor: john.doe@example.com", "requestor: nope"),
        ("type: D2O", "type: D3X"),
    )

    problems = _problems(text)

    assert [p.split(": ", 1)[0] for p in problems] == [
        "h.yaml:4:14, metadata.requestor",
        "h.yaml:8:3, metadata",
        "h.yaml:13:11, recipient[0].type",
    ]
    assert "Unknown field 'owner'" in problems[1]


def test_warnings_of_valid_parts_are_kept_when_another_part_is_invalid() -> None:
    text = _edit(
        ("[192.168.1.0/24, 198.51.100.50]", "[0.0.0.0/0]"),
        ('scd_type: "2"', "scd_type: [2]"),
    )

    with pytest.raises(SpecError) as caught:
        load_share_pack(text.encode(), "w.yaml")

    assert [str(w) for w in caught.value.warnings] == [
        "w.yaml:14:19, recipient[0].allowed_ips[0]: '0.0.0.0/0' allows access from anywhere"
    ]
    assert [str(p) for p in caught.value.problems] == [
        "w.yaml:31:19, share[0].pipelines[0].scd_type: Input should be a valid string"
    ]


def test_an_invalid_recipient_does_not_make_the_shares_recipients_undeclared() -> None:
    text = _edit(("type: D2O", "type: D3X"), ("comment: Q1 sales data", "comment: [x]"))

    assert _problems(text) == [
        "h.yaml:12:11, recipient[0].type: Input should be 'D2O' or 'D2D'",
        "h.yaml:22:14, share[0].comment: Input should be a valid string",
    ]


def test_an_entry_that_is_not_a_mapping_is_reported_once_and_keeps_later_indices() -> None:
    text = _edit(("recipient:\n", "recipient:\n  - just-a-name\n"), ("type: D2O", "type: D3X"))

    assert _problems(text) == [
        "h.yaml:11:5, recipient[0]: Each entry must be a mapping",
        "h.yaml:13:11, recipient[1].type: Input should be 'D2O' or 'D2D'",
    ]


def test_problems_of_a_missing_section_are_not_repeated_for_its_fields() -> None:
    text = "metadata: [1]\nrecipient: []\n"

    assert _problems(text) == ["h.yaml:1:11, metadata: 'metadata' must be a mapping of fields"]


# B5: time and memory are bounded by the node limit, not by the file.
def test_a_5_mb_flat_list_is_refused_within_a_memory_bound() -> None:
    content = ("metadata: [" + "1," * 2_600_000 + "1]\n").encode()

    tracemalloc.start()
    problems = _problems(content, "flat.yaml")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert len(content) > 5_000_000
    # The value past the limit: the mapping, its key and the list come first.
    column = len("metadata: [") + 1 + 2 * (MAX_NODES - 3)
    message = f"The file holds more than {MAX_NODES:,} values, more than a pack needs"
    assert problems == [f"flat.yaml:1:{column}: {message}"]
    assert peak < 40 * 1024 * 1024


def test_a_pack_of_5000_recipients_is_within_the_node_limit() -> None:
    lines = ["metadata:", "  requestor: a@example.com", "  project_name: P", "  business_line: B"]
    lines.append("recipient:")
    for i in range(5000):
        lines += [
            f"  - name: r{i}",
            "    type: D2O",
            f"    email: r{i}@example.com",
            "    allowed_ips: [10.0.0.0/8, 192.168.1.7]",
            "    comment: partner",
        ]
    lines += ["share:", "  - name: s", "    data_objects: [c.s.t]"]
    lines.append("    recipients: [" + ", ".join(f"r{i}" for i in range(5000)) + "]")

    loaded = load_share_pack("\n".join(lines).encode(), "many.yaml")

    assert len(loaded.config.recipients) == 5000


def test_an_alias_is_refused_before_it_is_composed() -> None:
    problems = _problems(_edit(("comment: Q1 sales data", "comment: *nowhere")))

    assert problems == ["h.yaml:22:14: YAML anchors and aliases are not allowed"]


# B7: the validate command refuses an oversized file by its size, without reading it.
def test_validate_refuses_an_oversized_file_before_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as stream:
        stream.truncate(200 * 1024 * 1024)  # sparse: costs no disk

    tracemalloc.start()
    result = CliRunner().invoke(app, ["validate", str(big), "--json"])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert result.exit_code == 1
    (error,) = json.loads(result.stdout)["errors"]
    assert error["message"] == "The file is larger than the limit of 5,242,880 bytes"
    assert peak < 20 * 1024 * 1024


# F25: the JSON Schema accepts what the reader accepts. No JSON Schema validator is
# installed, so a small one covers the keywords the schema uses, oneOf exactly.
def _errors(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    found: list[str] = []
    kinds = {"string": str, "boolean": bool, "integer": int, "object": dict, "array": list}
    if "type" in schema and not isinstance(value, kinds[schema["type"]]):
        return [f"{where}: not {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not in enum")
    if "const" in schema and value != schema["const"]:
        found.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        found.append(f"{where}: {value!r} does not match")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        found += [
            f"{where}: '{key}' is required"
            for key in schema.get("required", ())
            if key not in value
        ]
        for key, item in value.items():
            if key in properties:
                found += _errors(item, properties[key], f"{where}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += _errors(item, schema["additionalProperties"], f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: '{key}' is not allowed")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += _errors(item, schema["items"], f"{where}[{index}]")
    if "anyOf" in schema and all(_errors(value, s, where) for s in schema["anyOf"]):
        found.append(f"{where}: matches no anyOf branch")
    if "oneOf" in schema:
        matching = sum(not _errors(value, s, where) for s in schema["oneOf"])
        if matching != 1:
            found.append(f"{where}: matches {matching} oneOf branches, not 1")
    return found


@pytest.mark.parametrize("source", ["template", "example"])
def test_the_shipped_packs_satisfy_the_json_schema(source: str) -> None:
    text = TEMPLATE if source == "template" else EXAMPLE.read_text()

    assert _errors(yaml.safe_load(text), json_schema()) == []


@pytest.mark.parametrize("schedule", ["CONTINUOUS", "continuous", "0 2 * * *"])
@pytest.mark.parametrize("strategy", ["NEW", "update", "Update"])
def test_the_json_schema_takes_any_case_and_every_schedule(strategy: str, schedule: str) -> None:
    text = _edit(("strategy: NEW", f"strategy: {strategy}"))
    text = text.replace('{cron: "0 2 * * *", timezone: UTC}', f'"{schedule}"')

    assert load_share_pack(text.encode(), "s.yaml").config
    assert _errors(yaml.safe_load(text), json_schema()) == []


def test_the_json_schema_refuses_an_unknown_strategy_and_type() -> None:
    text = _edit(("strategy: NEW", "strategy: REPLACE"), ("type: D2O", "type: D3X"))

    assert _errors(yaml.safe_load(text), json_schema()) == [
        "$.metadata.strategy: 'REPLACE' does not match",
        "$.recipient[0].type: 'D3X' does not match",
    ]
