"""The approval policy is read when sharepack starts: a wrong file stops it, every problem
named at its place; and who is told of a pack's outcome."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sharepack.cli.main import app
from sharepack.running.notices import pack_people
from sharepack.store import SharePackRecord


@pytest.mark.usefixtures("operator_environment")
def test_a_wrong_policy_file_stops_the_command_naming_each_problem(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "groups:\n"
        "  data-owners: {id: not-a-uuid}\n"
        "rules:\n"
        "  - name: partners\n"
        "    when: {creates_token_recipient: true}\n"
        "    require: [{level: 1, group: secrity}]\n"
    )
    monkeypatch.setenv("SHAREPACK_APPROVAL_POLICY_FILE", str(policy))

    result = CliRunner().invoke(app, ["approvals"])

    assert result.exit_code == 2
    out = result.stderr
    assert "policy.yaml:2:" in out
    assert "policy.yaml:6:" in out
    assert "'secrity'" in out


def test_outcomes_go_to_the_requestor_and_the_pipelines_notification_addresses() -> None:
    config = {
        "shares": [
            {"pipelines": [{"notification": ["owner@example.com", "oncall@example.com"]}]},
            {"pipelines": []},
        ]
    }
    record = _record(requested_by="ana@example.com", config=config)

    assert pack_people(record) == ("ana@example.com", "owner@example.com", "oncall@example.com")


def _record(**values: object) -> SharePackRecord:
    import dataclasses
    import uuid
    from datetime import UTC, datetime

    fields: dict[str, object] = {f.name: None for f in dataclasses.fields(SharePackRecord)}
    fields.update(share_pack_id=uuid.uuid4(), created_at=datetime.now(UTC), **values)
    return SharePackRecord(**fields)  # type: ignore[arg-type]
