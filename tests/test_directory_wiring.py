"""The directory in use: an upload's internal addresses checked against Microsoft Graph
(the real msgraph-sdk against the local stand-in, configured through settings), the
warning without Graph, the role mapping's groups checked at start, and the sync's schedule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from databricks_emulator.server import EmulatorServer
from sharepack.api.app import create_app
from sharepack.errors import RoleMappingError
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.usecases.directory_sync import DirectorySyncSchedule, sync_due
from tests.api_server import ServedApi, running_api
from tests.conftest import REPO_ROOT
from tests.directory.graph_standin import GraphStandin, StandinGroup, StandinUser

EXAMPLE = (REPO_ROOT / "examples" / "sharepack.yaml").read_text(encoding="utf-8")
KNOWN_GROUP = "6f1c3a52-1111-4c3e-9a7b-1234567890ab"


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[GraphStandin]:
    server = GraphStandin(tmp_path, page_size=100)
    server.start()
    server.add_users(
        [
            StandinUser("u-1", "john.doe@example.com", "john.doe@example.com", "John Doe"),
            StandinUser("u-2", "gone@example.com", "gone@example.com", enabled=False),
        ]
    )
    server.add_groups([StandinGroup(KNOWN_GROUP, "Sales data requestors", ["u-1"])])
    yield server
    server.stop()


def _with_graph(settings: Settings, standin: GraphStandin, **more: object) -> Settings:
    return settings.model_copy(
        update={
            "azure_tenant_id": standin.tenant,
            "graph_client_id": standin.client_id,
            "graph_client_secret": SecretStr(standin.client_secret),
            "sharepack_graph_url": standin.graph_url,
            "sharepack_graph_authority_host": standin.url,
            "sharepack_graph_ca_bundle": standin.ca_bundle,
            **more,
        }
    )


@pytest.fixture
def graph_runtime(settings: Settings, standin: GraphStandin) -> Iterator[Runtime]:
    runtime = build_runtime(_with_graph(settings, standin))
    yield runtime
    runtime.close()


def _upload(api: ServedApi, workspace_url: str, content: str) -> httpx.Response:
    return httpx.post(
        f"{api}/workflow/sharepack/upload",
        headers={"X-Workspace-URL": workspace_url, **api.headers},
        files={"file": ("pack.yaml", content.encode())},
        timeout=60,
    )


def test_an_unknown_or_disabled_internal_address_is_a_located_error(
    graph_runtime: Runtime, emulator: EmulatorServer
) -> None:
    pack = EXAMPLE.replace("requestor: john.doe@example.com", "requestor: nobody@example.com")
    with running_api(graph_runtime, with_worker=False) as api:
        known = _upload(api, emulator.url, EXAMPLE)
        unknown = _upload(api, emulator.url, pack)
        disabled = _upload(
            api, emulator.url, pack.replace("nobody@example.com", "gone@example.com")
        )

    assert known.status_code == 202, known.text
    assert not [w for w in known.json()["ValidationWarnings"] if "directory" in w]
    assert unknown.status_code == 400, unknown.text
    (detail,) = unknown.json()["ValidationDetails"]
    assert detail["Field"] == "metadata.requestor"
    assert detail["Location"] == "pack.yaml:4:14"
    assert "'nobody@example.com' is not a user of the directory" in detail["Message"]
    assert disabled.status_code == 400
    assert "gone@example.com" in disabled.json()["ValidationErrors"][0]


def test_partner_emails_are_not_looked_up(
    graph_runtime: Runtime, emulator: EmulatorServer, standin: GraphStandin
) -> None:
    with running_api(graph_runtime, with_worker=False) as api:
        assert _upload(api, emulator.url, EXAMPLE).status_code == 202
    asked = " ".join(str(r.query) for r in standin.graph_requests("/users"))
    assert "john.doe@example.com" in asked
    assert "analyst@partner.example.com" not in asked


def test_graph_down_refuses_the_upload_with_503_and_stores_nothing(
    settings: Settings, emulator: EmulatorServer, standin: GraphStandin
) -> None:
    runtime = build_runtime(_with_graph(settings, standin, sharepack_graph_max_retries=0))
    try:
        standin.fail_graph(503, times=100)
        with running_api(runtime, with_worker=False) as api:
            answer = _upload(api, emulator.url, EXAMPLE)
        with runtime.database.unit_of_work() as uow:
            stored = uow.share_packs.list_current()
    finally:
        runtime.close()
    assert answer.status_code == 503, answer.text
    assert answer.json()["ErrorCode"] == "DIRECTORY_UNAVAILABLE"
    assert stored == []


def test_without_graph_the_upload_says_it_skipped_the_check(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    with running_api(runtime, with_worker=False) as api:
        accepted = _upload(api, emulator.url, EXAMPLE)
    assert accepted.status_code == 202
    assert any(
        "metadata.requestor" in w and "not checked against the directory" in w
        for w in accepted.json()["ValidationWarnings"]
    )


def test_a_mapped_group_the_directory_does_not_know_stops_the_start(
    settings: Settings, standin: GraphStandin, tmp_path: Path
) -> None:
    mapping = tmp_path / "roles.yaml"
    mapping.write_text(
        f"groups:\n  - id: {KNOWN_GROUP}\n    name: Sales\n    role: requestor\n"
        '    business_lines: ["Sales Operations"]\n'
        "  - id: 0b9d7e41-2222-4f6a-8c1d-abcdef012345\n    name: Ghosts\n    role: admin\n"
        '    business_lines: "*"\n',
        encoding="utf-8",
    )
    runtime = build_runtime(_with_graph(settings, standin, sharepack_role_mapping_file=mapping))
    try:
        with pytest.raises(RoleMappingError) as refused:
            create_app(runtime)
    finally:
        runtime.close()
    assert f"{mapping}:6: groups[1].id" in refused.value.message
    assert "0b9d7e41-2222-4f6a-8c1d-abcdef012345" in refused.value.message
    assert KNOWN_GROUP not in refused.value.message


def test_the_schedule_syncs_when_due_and_not_again_until_the_interval_passed(
    graph_runtime: Runtime,
) -> None:
    schedule = DirectorySyncSchedule(graph_runtime)
    assert sync_due(graph_runtime)

    first = schedule.run_once()
    second = schedule.run_once()

    assert first is not None
    assert (first.users_added, first.groups_added) == (2, 1)
    assert second is None  # not due: the last success is newer than the interval
    assert not sync_due(graph_runtime)
    with graph_runtime.database.unit_of_work() as uow:
        emails = sorted(v.values["email"] for v in uow.users.list_current())
    assert emails == ["gone@example.com", "john.doe@example.com"]
