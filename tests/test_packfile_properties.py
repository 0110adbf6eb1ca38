"""Properties of the readers, over generated packs."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sharepack.packfile import SpecError, load_share_pack
from sharepack.packfile.models import (
    Metadata,
    PipelineSpec,
    RecipientSpec,
    RecipientType,
    ScheduleSpec,
    SharePackConfig,
    ShareSpec,
    Strategy,
)
from sharepack.packfile.templates import template_yaml
from sharepack.packfile.writer import config_to_yaml, write_xlsx

# The explain phase traces every line while shrinking: slow, and not needed to find a bug.
NO_EXPLAIN = (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)
NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True)
TABLES = [f"prod_catalog.sales.t{i}" for i in range(8)] + ["prod_catalog.finance"]
COMMENTS = st.sampled_from([None, "", "Team A", "Q1 data, audited"])
SCHEDULES = st.sampled_from(
    [
        None,
        ScheduleSpec(continuous=True),
        ScheduleSpec(cron="0 0 2 * * ?", timezone="UTC"),
        ScheduleSpec(cron="0 30 6 ? * 2", timezone="Europe/Paris"),
    ]
)


@st.composite
def recipients(draw: st.DrawFn, name: str) -> RecipientSpec:
    local = name.replace("_", "u").replace("-", "h")  # names start with a letter
    email = draw(st.sampled_from([None, f"{local}@partner.example.com"]))
    if draw(st.booleans()):
        return RecipientSpec(
            name=name,
            type=RecipientType.D2O,
            email=email,
            comment=draw(COMMENTS),
            allowed_ips=tuple(
                draw(
                    st.lists(
                        st.sampled_from(["10.0.0.0/8", "192.168.1.7", "198.51.100.0/24"]),
                        unique=True,
                        max_size=3,
                    )
                )
            ),
        )
    region = draw(st.sampled_from(["eastus", "westeurope"]))
    return RecipientSpec(
        name=name,
        type=RecipientType.D2D,
        email=email,
        comment=draw(COMMENTS),
        metastore_id=f"azure:{region}:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
    )


@st.composite
def packs(draw: st.DrawFn) -> SharePackConfig:
    recipient_names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    share_names = draw(st.lists(NAMES, min_size=1, max_size=2, unique=True))
    pipeline_names = iter(draw(st.lists(NAMES, min_size=4, max_size=4, unique=True)))
    shares = []
    for share_name in share_names:
        objects = tuple(
            draw(st.lists(st.sampled_from(TABLES), min_size=1, max_size=4, unique=True))
        )
        tables = [o for o in objects if o.count(".") == 2]
        pipelines = tuple(
            PipelineSpec(
                name=next(pipeline_names),
                source_asset="raw_catalog.sales.transactions",
                target_asset=target,
                key_columns=("id",),
                schedule=draw(SCHEDULES),
                tags=draw(
                    st.none()
                    | st.dictionaries(
                        st.sampled_from(["team", "cost"]), st.sampled_from(["a", "42"]), max_size=2
                    )
                ),
            )
            for target in tables[: draw(st.integers(0, min(2, len(tables))))]
        )
        shares.append(
            ShareSpec(
                name=share_name,
                comment=draw(COMMENTS),
                data_objects=objects,
                recipients=tuple(draw(st.lists(st.sampled_from(recipient_names), unique=True))),
                pipelines=pipelines,
            )
        )
    return SharePackConfig(
        metadata=Metadata(
            requestor="owner@example.com",
            project_name="Project X",
            business_line="Sales",
            strategy=draw(st.sampled_from(list(Strategy))),
        ),
        recipients=tuple(draw(recipients(n)) for n in recipient_names),
        shares=tuple(shares),
    )


@settings(max_examples=40, deadline=None, phases=NO_EXPLAIN)
@given(packs())
def test_model_to_yaml_to_model_is_identity(config: SharePackConfig) -> None:
    assert load_share_pack(config_to_yaml(config).encode(), "pack.yaml").config == config


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=NO_EXPLAIN,
)
@given(packs())
def test_yaml_and_excel_of_the_same_pack_are_equal(config: SharePackConfig) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pack.xlsx"
        write_xlsx(config, path)
        from_xlsx = load_share_pack(path.read_bytes(), "pack.xlsx").config

    from_yaml = load_share_pack(config_to_yaml(config).encode(), "pack.yaml").config
    assert from_xlsx == _as_cells_say(from_yaml)


def _as_cells_say(config: SharePackConfig) -> SharePackConfig:
    """`config` as a workbook can say it: an empty comment or empty tags are an empty cell,
    which is a field left out (None)."""

    def shown(value: Any) -> Any:
        return value or None

    recipients = tuple(
        r.model_copy(update={"comment": shown(r.comment)}) for r in config.recipients
    )
    shares = tuple(
        s.model_copy(
            update={
                "comment": shown(s.comment),
                "pipelines": tuple(
                    p.model_copy(update={"tags": shown(p.tags)}) for p in s.pipelines
                ),
            }
        )
        for s in config.shares
    )
    return config.model_copy(update={"recipients": recipients, "shares": shares})


TEMPLATE = template_yaml().encode()
# Each edit replaces `length` bytes at `position` with `insert`: an insertion when length
# is 0, a deletion when insert is empty, a replacement otherwise.
EDITS = st.lists(
    st.tuples(
        st.integers(0, len(TEMPLATE) - 1),
        st.integers(0, 8),
        st.binary(max_size=3)
        | st.sampled_from([b":", b"-", b"[", b"{", b"\n", b" ", b"&a", b"*a"]),
    ),
    min_size=1,
    max_size=4,
)


def _mutate(content: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    mutated = bytearray(content)
    for position, length, insert in edits:
        start = min(position, len(mutated))
        mutated[start : start + length] = insert
    return bytes(mutated)


@settings(max_examples=300, deadline=None, phases=NO_EXPLAIN)
@given(EDITS)
def test_random_mutations_never_crash_the_reader(edits: list[tuple[int, int, bytes]]) -> None:
    with contextlib.suppress(SpecError):
        load_share_pack(_mutate(TEMPLATE, edits), "mutated.yaml")


def test_mutations_can_insert_delete_and_replace() -> None:
    assert _mutate(b"abcdef", [(1, 0, b"X")]) == b"aXbcdef"
    assert _mutate(b"abcdef", [(1, 2, b"")]) == b"adef"
    assert _mutate(b"abcdef", [(1, 2, b"XY")]) == b"aXYdef"


# Values the constructors of YAML's tags may choke on, or that nest past any limit.
DATES = st.builds(
    "{}-{:02d}-{:02d}{}".format,
    st.integers(0, 9999),
    st.integers(0, 99),
    st.integers(0, 99),
    st.sampled_from(["", " 25:00:00", "T12:61:00Z", " 00:00:00.5+25:00"]),
)
TAGGED = st.builds(
    "{} {}".format,
    st.sampled_from(
        [
            "!!int",
            "!!float",
            "!!bool",
            "!!timestamp",
            "!!binary",
            "!!null",
            "!!str",
            "!!set",
            "!!omap",
            "!!python/object:os.system",
            "!custom",
        ]
    ),
    st.sampled_from(["abc", "maybe", "2024-02-30", "@@@", "1e999", "0x", "9" * 5000, "''"]) | DATES,
)
NESTED = st.builds(
    lambda opener, depth: opener * depth,
    st.sampled_from(["[", "{a: ", "- ", "[{a: "]),
    st.integers(1, 400),
)
HOSTILE_VALUES = DATES | TAGGED | NESTED | st.sampled_from(["9" * 5000, "*a", "&a x", "<<: {}"])
PLACES = [
    b"john.doe@example.com",
    b"Sales Data Q1 2024",
    b"NEW",
    b"D2O",
    b"sales_q1_share",
    b"192.168.1.0/24",
    b'"2"',
    b"UTC",
    b"true",
    b'"123"',
]


@settings(max_examples=200, deadline=None, phases=NO_EXPLAIN)
@given(st.sampled_from(PLACES), HOSTILE_VALUES)
def test_hostile_values_never_crash_the_reader(place: bytes, value: str) -> None:
    assert place in TEMPLATE
    with contextlib.suppress(SpecError):
        load_share_pack(TEMPLATE.replace(place, value.encode(), 1), "hostile.yaml")
