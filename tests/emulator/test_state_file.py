"""An emulator kept in a state file serves the same workspace after a restart: its
resources, its workspace id and its URL. Without a state file it keeps nothing (as every
other test's emulator)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, cast

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs, pipelines, sharing, workspace

from databricks_emulator.server import EmulatorServer, free_port
from databricks_emulator.state_file import StateFileError
from tests.emulator._support import EMULATOR_TOKEN, emulator_only, wait_for_update

pytestmark = emulator_only("starts emulators of its own, kept in state files")

TABLE = "kept_cat.kept_schema.orders"
PRODUCED = "kept_cat.kept_schema.orders_copy"
NOTEBOOK = "/Shared/kept/dlt"
SOURCE = "# Databricks notebook source\nprint('kept')\n"
ANY_FINAL = pipelines.UpdateInfoState


def _client(server: EmulatorServer) -> WorkspaceClient:
    return WorkspaceClient(host=server.url, token=EMULATOR_TOKEN, auth_type="pat")


def _provision_one_of_everything(server: EmulatorServer) -> dict[str, Any]:
    """A recipient, a share with an object and a grant, a notebook, a pipeline that ran, a
    job that ran it: what the restarted emulator must still hold."""
    client = _client(server)
    server.add_tables(TABLE)
    client.recipients.create(
        "kept_partner",
        authentication_type=sharing.AuthenticationType.TOKEN,
        ip_access_list=sharing.IpAccessList(allowed_ip_addresses=["10.0.0.0/8"]),
    )
    client.shares.create("kept_share")
    client.shares.update(
        "kept_share",
        updates=[
            sharing.SharedDataObjectUpdate(
                action=sharing.SharedDataObjectUpdateAction.ADD,
                data_object=sharing.SharedDataObject(name=TABLE),
            )
        ],
    )
    client.shares.update_permissions(
        "kept_share", changes=[sharing.PermissionsChange(principal="kept_partner", add=["SELECT"])]
    )
    client.workspace.mkdirs("/Shared/kept")
    client.workspace.import_(
        NOTEBOOK,
        content=base64.b64encode(SOURCE.encode()).decode(),
        format=workspace.ImportFormat.SOURCE,
        language=workspace.Language.PYTHON,
    )
    pipeline_id = client.pipelines.create(
        name="kept_pipeline",
        catalog="kept_cat",
        schema="kept_schema",
        libraries=[pipelines.PipelineLibrary(notebook=pipelines.NotebookLibrary(path=NOTEBOOK))],
        configuration={"sharepack.source_asset": TABLE, "sharepack.target_asset": PRODUCED},
    ).pipeline_id
    assert pipeline_id
    task = jobs.Task(task_key="refresh", pipeline_task=jobs.PipelineTask(pipeline_id=pipeline_id))
    job_id = client.jobs.create(name="kept_job", tasks=[task]).job_id
    assert job_id
    started = cast(jobs.RunNowResponse, client.jobs.run_now(job_id).response)
    (update,) = client.pipelines.list_updates(pipeline_id).updates or []
    assert wait_for_update(client, pipeline_id, update.update_id or "") == ANY_FINAL.COMPLETED
    token = (client.recipients.get("kept_partner").tokens or [])[0]
    return {
        "job_id": job_id,
        "run_id": started.run_id,
        "activation_url": token.activation_url,
    }


def test_a_restarted_emulator_serves_the_same_workspace_at_the_same_url(tmp_path: Path) -> None:
    state_file = tmp_path / "emulator.json"
    with EmulatorServer(token=EMULATOR_TOKEN, state_file=state_file, pipeline_step_ms=20) as first:
        made = _provision_one_of_everything(first)
        before = first.state()
        url, workspace_id = first.url, first.workspace_id

    with EmulatorServer(token=EMULATOR_TOKEN, state_file=state_file) as second:
        client = _client(second)

        assert (second.url, second.workspace_id) == (url, workspace_id)
        assert second.state() == before
        assert [t.name for t in client.tables.list("kept_cat", "kept_schema")] == [
            "orders",
            "orders_copy",
        ]
        token = (client.recipients.get("kept_partner").tokens or [])[0]
        assert token.activation_url == made["activation_url"]
        run = client.jobs.get_run(made["run_id"])
        assert run.state is not None
        assert run.state.result_state == jobs.RunResultState.SUCCESS
        exported = client.workspace.export(NOTEBOOK).content or ""
        assert base64.b64decode(exported).decode() == SOURCE
        assert client.jobs.create(name="after_restart").job_id != made["job_id"]


def test_each_change_is_in_the_file_before_its_answer(tmp_path: Path) -> None:
    """Written as the change is answered, not when the server stops: a killed process
    loses nothing it had confirmed."""
    state_file = tmp_path / "emulator.json"
    with EmulatorServer(token=EMULATOR_TOKEN, state_file=state_file) as server:
        _client(server).shares.create("written_at_once")

        saved = json.loads(state_file.read_text("utf-8"))

        assert saved["port"] == server.port
        assert saved["workspace_id"] == server.workspace_id
        assert "written_at_once" in json.dumps(saved)
        assert not list(tmp_path.glob("*.tmp")), "the temporary file is renamed into place"


def test_a_new_state_file_records_the_port_and_workspace_id_it_was_given(tmp_path: Path) -> None:
    state_file = tmp_path / "data" / "emulator.json"
    port = free_port()

    with EmulatorServer(state_file=state_file, port=port, workspace_id=777) as server:
        pass
    with EmulatorServer(state_file=state_file) as again:
        assert (again.port, again.workspace_id) == (server.port, "777")
    assert server.port == port


def test_an_emulator_without_a_state_file_starts_empty_each_time() -> None:
    with EmulatorServer(token=EMULATOR_TOKEN) as first:
        _client(first).shares.create("forgotten")
    with EmulatorServer(token=EMULATOR_TOKEN) as second:
        assert second.state()["shares"] == []


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "",
        "[]",
        '{"version": 1}',
        '{"version": 99, "port": 8100, "workspace_id": "1", "resources": {}}',
        '{"version": 1, "port": 8100, "workspace_id": "1", "resources": {"shares": 5}}',
        '{"version": 1, "port": "x", "workspace_id": "1", "resources": {}}',
    ],
)
def test_an_unreadable_state_file_is_named_with_what_to_do(tmp_path: Path, content: str) -> None:
    state_file = tmp_path / "emulator.json"
    state_file.write_text(content, encoding="utf-8")

    with pytest.raises(StateFileError) as raised:
        EmulatorServer(state_file=state_file)

    message = str(raised.value)
    assert str(state_file) in message
    assert "move it away" in message
    assert "\n" not in message
    assert state_file.read_text("utf-8") == content, "the file is left as it was"


def test_a_state_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    state_file = tmp_path / "emulator.json"
    state_file.mkdir()

    with pytest.raises(StateFileError, match="move it away"):
        EmulatorServer(state_file=state_file)
