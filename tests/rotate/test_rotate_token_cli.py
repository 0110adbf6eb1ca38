"""`sharepack rotate-token` against the emulator, as an operator runs it: the link printed
once with what to do with it, the old token's expiry as chosen, and each refusal's exit
code and one line."""

from __future__ import annotations

import json
import socket
import time

import pytest
from typer.testing import CliRunner, Result

from databricks_emulator.server import EmulatorServer
from sharepack.cli.exit_codes import ExitCode
from sharepack.cli.main import app
from sharepack.cli.token_commands import DEFAULT_EXPIRE_EXISTING_IN
from sharepack.runtime import Runtime
from sharepack.usecases.rotate_token import DEFAULT_EXISTING_TOKEN_EXPIRE_IN_SECONDS
from tests.rotate.conftest import PARTNER, create_outside_sharepack, rotations, tokens_of

pytestmark = pytest.mark.usefixtures("operator_environment")


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, ["rotate-token", *args])


def _one_line(result: Result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_the_link_is_printed_once_with_how_to_send_it(
    runtime: Runtime, provisioned: EmulatorServer
) -> None:
    (old,) = tokens_of(provisioned, PARTNER)

    before = time.time_ns() // 1_000_000
    result = _run(PARTNER, "--workspace", provisioned.url, "--expire-existing-in", "900")
    after = time.time_ns() // 1_000_000

    assert result.exit_code == ExitCode.DONE, result.output
    (new,) = [t for t in tokens_of(provisioned, PARTNER) if t["id"] != old["id"]]
    assert result.stdout.count(new["activation_url"]) == 1
    assert old["activation_url"] not in result.stdout
    assert "shown only now" in result.stdout
    assert "secure channel" in result.stdout
    assert "The earlier token works until" in result.stdout
    kept = next(t for t in tokens_of(provisioned, PARTNER) if t["id"] == old["id"])
    assert before + 900_000 <= kept["expiration_time"] <= after + 900_000
    (entry,) = rotations(runtime)
    assert entry.outcome == "ok"
    assert entry.performed_by.startswith("cli:")
    assert "(Databricks: " in entry.performed_by


def test_json_gives_the_link_and_both_expiries(provisioned: EmulatorServer) -> None:
    result = _run(PARTNER, "--workspace", provisioned.url, "--expire-existing-in", "0", "--json")

    assert result.exit_code == ExitCode.DONE, result.output
    body = json.loads(result.stdout)
    (token,) = tokens_of(provisioned, PARTNER)  # 0: the old token is gone
    assert body == {
        "recipient": PARTNER,
        "workspace_url": provisioned.url,
        "activation_url": token["activation_url"],
        "token_expiration_time": None,
        "existing_tokens_expire_at": None,
        "message": body["message"],
    }
    assert "stopped working now" in body["message"]


def test_by_default_the_old_token_keeps_working_an_hour() -> None:
    assert DEFAULT_EXPIRE_EXISTING_IN == DEFAULT_EXISTING_TOKEN_EXPIRE_IN_SECONDS == 3600


def test_an_unknown_recipient_exits_1_naming_it(emulator: EmulatorServer) -> None:
    result = _run("nobody", "--workspace", emulator.url)

    assert result.exit_code == ExitCode.FAILED
    assert "nobody" in _one_line(result)


def test_a_d2d_recipient_exits_1_saying_it_has_no_token(emulator: EmulatorServer) -> None:
    create_outside_sharepack(emulator, "partner-metastore", d2d=True)

    result = _run("partner-metastore", "--workspace", emulator.url, "--json")

    assert result.exit_code == ExitCode.FAILED
    assert "(D2D) recipient" in _one_line(result)
    assert "no bearer token" in json.loads(result.stdout)["error"]


def test_a_negative_expiry_is_a_usage_error(emulator: EmulatorServer) -> None:
    result = _run(PARTNER, "--workspace", emulator.url, "--expire-existing-in", "-5")

    assert result.exit_code == ExitCode.USAGE


def test_a_workspace_not_allow_listed_exits_1_before_any_request_is_sent(
    runtime: Runtime,
) -> None:
    host = socket.create_server(("127.0.0.1", 0), backlog=16)
    host.setblocking(False)
    try:
        url = f"http://127.0.0.1:{host.getsockname()[1]}"
        result = _run(PARTNER, "--workspace", url)
        with pytest.raises(BlockingIOError):  # no connection waits in its backlog
            host.accept()
    finally:
        host.close()

    assert result.exit_code == ExitCode.FAILED
    assert "is not allowed" in _one_line(result)
    (entry,) = rotations(runtime)
    assert entry.outcome == "refused"
    assert entry.performed_by.startswith("cli:")
