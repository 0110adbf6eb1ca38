"""The versions over REST: a project's versions, a dry run that returns the rollback's
plan and stores nothing, and a rollback queued as a pack that a worker applies, verified
and recorded as a new version."""

from __future__ import annotations

from databricks.sdk import WorkspaceClient

from databricks_emulator.server import EmulatorServer
from sharepack.runtime import Runtime
from sharepack.usecases.plan_apply import apply_file, read_file
from tests.api_server import TEST_OPERATOR, running_api
from tests.flow.conftest import work_all
from tests.versions.conftest import V1, V2, view


def _apply(runtime: Runtime, emulator: EmulatorServer, text: str) -> None:
    loaded = read_file(runtime, text.encode(), "pack.yaml")
    record = apply_file(
        runtime, loaded, filename="pack.yaml", workspace_url=emulator.url, caller=TEST_OPERATOR
    )
    assert record.share_pack_status == "COMPLETED", record.error_message


def _pack_count(runtime: Runtime) -> int:
    from sqlalchemy import func, select

    from sharepack.store.tables import share_packs

    with runtime.database.reading() as uow:
        query = select(func.count()).select_from(share_packs).where(share_packs.c.is_current)
        return int(uow.session.execute(query).scalar_one())


def test_versions_dry_run_then_rollback_through_the_api(
    runtime: Runtime, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    _apply(runtime, emulator, V1)
    at_v1 = view(workspace_client)
    _apply(runtime, emulator, V2)
    at_v2 = view(workspace_client)

    with running_api(runtime, with_worker=False) as api, api.client() as client:
        with runtime.database.reading() as uow:
            project_id = uow.versions.listed()[0].project_id
        listed = client.get(f"/workflow/projects/{project_id}/versions")
        assert listed.status_code == 200, listed.text
        versions = listed.json()["Versions"]
        assert [(v["Number"], v["Kind"]) for v in versions] == [(2, "APPLIED"), (1, "APPLIED")]
        v1 = versions[1]["VersionId"]

        packs = _pack_count(runtime)
        dry = client.post(
            f"/workflow/projects/{project_id}/rollback",
            json={"VersionId": v1[:8], "DryRun": True},
        )
        assert dry.status_code == 200, dry.text
        planned = dry.json()
        assert planned["DryRun"] is True
        assert planned["SharePackId"] is None
        assert "  - recipient r-gamma" in planned["Plan"]
        assert any("r-beta" in note and "activation link" in note for note in planned["Notes"])
        assert _pack_count(runtime) == packs
        assert view(workspace_client) == at_v2

        accepted = client.post(f"/workflow/projects/{project_id}/rollback", json={"VersionId": v1})
        assert accepted.status_code == 202, accepted.text
        pack_id = accepted.json()["SharePackId"]
        assert accepted.json()["Status"] == "IN_PROGRESS"

        work_all(runtime)

        status = client.get(f"/workflow/sharepack/{pack_id}").json()
        assert status["Status"] == "COMPLETED", status
        assert view(workspace_client) == at_v1
        newest = client.get(f"/workflow/projects/{project_id}/versions").json()["Versions"][0]
        assert (newest["Number"], newest["Kind"], newest["Restores"]) == (3, "ROLLBACK", v1)
        assert newest["SharePackId"] == pack_id


def test_rollback_requests_that_cannot_be_served_say_why(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    _apply(runtime, emulator, V1)
    with running_api(runtime, with_worker=False) as api, api.client() as client:
        with runtime.database.reading() as uow:
            version = uow.versions.listed()[0]
        path = f"/workflow/projects/{version.project_id}/rollback"

        missing = client.post(path, json={})
        other = client.post(
            "/workflow/projects/00000000-0000-0000-0000-000000000000/rollback",
            json={"VersionId": str(version.version_id)},
        )
        unknown = client.get("/workflow/projects/not-a-uuid/versions")

    assert (missing.status_code, other.status_code, unknown.status_code) == (400, 404, 404)
    assert "VersionId" in missing.json()["Message"]
    assert "is not a version of project" in other.json()["Message"]


def test_a_caller_without_the_role_may_not_see_or_roll_back(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    from sharepack.identity.principal import Role
    from tests.api_server import make_key

    _apply(runtime, emulator, V1)
    with runtime.database.reading() as uow:
        version = uow.versions.listed()[0]
    outsider = make_key(runtime, Role.REQUESTOR, ("Other",), name="outsider")
    with running_api(runtime, with_worker=False) as api, api.client(key=outsider) as client:
        listed = client.get(f"/workflow/projects/{version.project_id}/versions")
        refused = client.post(
            f"/workflow/projects/{version.project_id}/rollback",
            json={"VersionId": str(version.version_id), "DryRun": True},
        )
    assert listed.status_code == 404
    assert refused.status_code == 403
