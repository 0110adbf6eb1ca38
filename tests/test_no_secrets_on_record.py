"""After a run, no token, API key or activation link is in any database column or any log
line: the database and the log are searched for each secret the run handled."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import MetaData, select

from databricks_emulator.server import EmulatorServer
from sharepack.identity.api_keys import parse_key
from sharepack.identity.principal import Role
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from tests.api_server import make_key, running_api
from tests.conftest import EMULATOR_TOKEN, REPO_ROOT
from tests.identity.issuer import LocalIssuer

AUDITORS = "0b9d7e41-2222-4f6a-8c1d-abcdef012345"
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


def _with_tokens(settings: Settings, issuer: LocalIssuer) -> list[str]:
    """Requests with OIDC tokens, good and refused, to an API on the same database."""
    mapping = settings.sharepack_data_dir / "roles.yaml"
    mapping.parent.mkdir(parents=True, exist_ok=True)
    mapping.write_text(
        f"groups:\n  - id: {AUDITORS}\n    name: Auditors\n    role: auditor\n"
        '    business_lines: "*"\n',
        encoding="utf-8",
    )
    oidc = build_runtime(
        settings.model_copy(
            update={
                "sharepack_oidc_issuer": issuer.issuer,
                "sharepack_oidc_audience": issuer.audience,
                "sharepack_role_mapping_file": mapping,
            }
        )
    )
    good = issuer.mint({"groups": [AUDITORS]})
    expired = issuer.mint({"groups": [AUDITORS], "exp": 1_000_000_000, "iat": 999_999_000})
    try:
        with running_api(oidc, with_worker=False) as api:
            for token, status in ((good, 404), (expired, 401)):
                answer = httpx.get(
                    f"{api}/workflow/sharepack/{'0' * 32}",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
                assert answer.status_code == status, answer.text
    finally:
        oidc.close()
    return [good, expired]


def test_no_secret_of_a_run_is_in_the_database_or_the_log(
    runtime: Runtime,
    settings: Settings,
    emulator: EmulatorServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with LocalIssuer() as issuer:
        tokens = _with_tokens(settings, issuer)
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
        status = api.ended(pack_id)
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
        "requestor's API key secret": parse_key(requestor_key).secret,
        "refused API key secret": parse_key(wrong).secret,
        "admin API key": admin_key,
        "admin API key secret": parse_key(admin_key).secret,
        **{f"OIDC token {i}": token for i, token in enumerate(tokens)},
        **{f"OIDC token {i}'s signature": t.rsplit(".", 1)[1] for i, t in enumerate(tokens)},
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
