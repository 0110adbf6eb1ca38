"""Apply through the SDK adapter: its calls reach the workspace side by side, as many at
once as the concurrency allows (observed by the emulator: the most calls it served at once).
The engine's own scheduling is tested on an in-memory workspace in `tests/engine`."""

from __future__ import annotations

import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.engine import InMemoryJournal, apply, names_of, plan, read_names
from sharepack.packfile.models import (
    Metadata,
    RecipientSpec,
    RecipientType,
    SharePackConfig,
    ShareSpec,
)
from sharepack.workspace.sdk import SdkWorkspace, make_client
from tests.conftest import EMULATOR_TOKEN

LATENCY_MS = 50


def _pack() -> SharePackConfig:
    names = tuple(f"http-r{i:02d}" for i in range(10))
    return SharePackConfig(
        metadata=Metadata(requestor="a@example.com", project_name="P", business_line="B"),
        recipients=tuple(
            RecipientSpec(name=n, type=RecipientType.D2O, email=f"{n}@partner.example.com")
            for n in names
        ),
        shares=(
            ShareSpec(
                name="http_share",
                recipients=names,
                data_objects=("prod_catalog.sales.transactions",),
            ),
        ),
    )


@pytest.mark.parametrize(("concurrency", "overlap"), [(8, True), (1, False)])
def test_the_sdk_adapter_sends_independent_calls_side_by_side(
    emulator: EmulatorServer, concurrency: int, overlap: bool
) -> None:
    workspace = SdkWorkspace(make_client(emulator.url, token=EMULATOR_TOKEN))
    the_plan = plan(_pack(), read_names(workspace, names_of(_pack())))
    emulator.reset()  # nothing was written; the reads, side by side, must not count
    emulator.set_latency(LATENCY_MS)

    result = apply(the_plan, workspace, InMemoryJournal(), concurrency=concurrency)

    assert result.ok, result.error
    peak = emulator.stats()["peak_in_flight"]
    if overlap:
        assert 2 <= peak <= concurrency
    else:
        assert peak == 1
