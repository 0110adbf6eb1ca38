"""After a run, no token, API key or activation link is in any database column or any log
line: the database and the log are searched for each secret the run handled."""

from __future__ import annotations

import logging
import time

import httpx
import pytest
from sqlalchemy import MetaData, select

from databricks_emulator.server import EmulatorServer
from sharepack.identity.principal import Role
from sharepack.runtime import Runtime
from tests.api_server import make_key, running_api
from tests.conftest import EMULATOR_TOKEN, REPO_ROOT

EXAMPLE = (REPO_ROOT / "examples" / "sharepack.yaml").read_bytes()


def _every_value(runtime: Runtime) -> list[str]:
    """Every non-null value of every column of every table, as text."""
    engine = runtime.database.engine
    values: list[str] = []
    schemas = [None] if engine.dialect.name == "sqlite" else ["deltashare", "sharepack"]
    for schema in schemas:
        metadata = MetaData(schema=schema)
        metadata.reflect(engine)
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    values.extend(str(v) for v in row if v is not None)
    return values


def test_no_secret_of_a_run_is_in_the_database_or_the_log(
    runtime: Runtime, emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    requestor_key = make_key(
        runtime, Role.REQUESTOR, ("Sales Operations",), owner_email="john.doe@example.com"
    )
    with running_api(runtime) as api:
        accepted = httpx.post(
            f"{api}/workflow/sharepack/upload",
            headers={"Authorization": f"Bearer {requestor_key}", "X-Workspace-URL": emulator.url},
            files={"file": ("pack.yaml", EXAMPLE)},
            timeout=30,
        )
        assert accepted.status_code == 202, accepted.text
        pack_id = accepted.json()["SharePackId"]
        deadline = time.monotonic() + 60
        while (
            status := httpx.get(
                f"{api}/workflow/sharepack/{pack_id}", headers=api.headers, timeout=30
            ).json()
        )["Status"] == "IN_PROGRESS":
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
        # a refused key is logged nowhere either
        wrong = requestor_key[:-4] + "AAAA"
        refused = httpx.get(
            f"{api}/workflow/sharepack/{pack_id}",
            headers={"Authorization": f"Bearer {wrong}"},
            timeout=30,
        )
        assert refused.status_code == 401
        admin_key = api.key
    assert status["Status"] == "COMPLETED", status

    recipient = httpx.get(
        f"{emulator.url}/api/2.1/unity-catalog/recipients/sales-analyst",
        headers={"Authorization": f"Bearer {EMULATOR_TOKEN}"},
    ).json()
    activation_url = recipient["tokens"][0]["activation_url"]
    secrets = {
        "activation link": activation_url,
        "activation link's token": activation_url.rsplit("?", 1)[-1].rsplit("=", 1)[-1],
        "workspace token": EMULATOR_TOKEN,
        "requestor's API key": requestor_key,
        "requestor's API key secret": requestor_key.rsplit("_", 1)[1],
        "refused API key secret": wrong.rsplit("_", 1)[1],
        "admin API key": admin_key,
        "admin API key secret": admin_key.rsplit("_", 1)[1],
    }

    stored = _every_value(runtime)
    logged = [record.getMessage() for record in caplog.records]
    assert any("sales-analyst" in v for v in stored)  # the search does see the run's rows
    assert logged
    found = {
        name: [where for where in (*stored, *logged) if secret in where]
        for name, secret in secrets.items()
    }
    assert {name: hits for name, hits in found.items() if hits} == {}
