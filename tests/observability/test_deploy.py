"""The Grafana dashboard and the Prometheus alert rules in `deploy/`: each expression names
only metrics sharepack serves, and the rules do what `alerts.test.yml` says (promtool)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from sharepack.api.metrics import SharedStateCollector
from sharepack.observability.exposition import Exposition
from sharepack.runtime import Runtime
from tests.conftest import REPO_ROOT

DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "sharepack-dashboard.json"
ALERTS = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"
ALERT_TESTS = REPO_ROOT / "deploy" / "prometheus" / "alerts.test.yml"
#: Metrics Prometheus makes itself, which a rule may name besides sharepack's.
PROMETHEUS_OWN = {"up"}
#: What seed 002's checklist asks to be alerted on: failures, errors, queue backlog.
CHECKLIST = {
    "SharePackRunFailed",
    "SharePackRollbackFailed",
    "SharePackRunErrors",
    "SharePackApiErrors",
    "SharePackQueueBacklog",
    "SharePackWorkspaceThrottled",
}
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


@pytest.fixture
def served_names(runtime: Runtime) -> dict[str, set[str]]:
    """Each sharepack metric a scrape has, with the names of its samples."""
    from prometheus_client.parser import text_string_to_metric_families

    text = Exposition(SharedStateCollector(runtime)).render().decode()
    return {
        family.name: {family.name + suffix for suffix in _SUFFIXES[family.type]}
        for family in text_string_to_metric_families(text)
        if family.name.startswith("sharepack_")
    }


def _named(expr: str) -> set[str]:
    return set(re.findall(r"\bsharepack_[a-z0-9_]+", expr))


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_the_dashboard_shows_every_metric_and_names_no_other(
    served_names: dict[str, set[str]],
) -> None:
    samples = set().union(*served_names.values())
    named = set().union(*(_named(expr) for expr in _dashboard_exprs()))

    assert named - samples == set()
    assert {m for m, names in served_names.items() if not names & named} == set()


def test_the_dashboard_is_a_grafana_dashboard_on_a_chosen_prometheus() -> None:
    dashboard = json.loads(DASHBOARD.read_text())

    assert (dashboard["uid"], dashboard["title"]) == ("sharepack-overview", "sharepack")
    assert isinstance(dashboard["schemaVersion"], int)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], panel["title"]
            assert all(target["expr"].strip() for target in panel["targets"])


def test_the_alert_rules_name_only_served_metrics_and_cover_the_checklist(
    served_names: dict[str, set[str]],
) -> None:
    samples = set().union(*served_names.values())
    rules = _rules()

    for rule in rules:
        names = set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*[{\[]", rule["expr"]))
        assert _named(rule["expr"]) - samples == set(), rule["alert"]
        assert names - samples - PROMETHEUS_OWN - {"by"} == set(), rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert {"summary", "description"} <= set(rule["annotations"])
    assert CHECKLIST - {rule["alert"] for rule in rules} == set()


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is not None:
        return found
    message = (
        "promtool is not installed: `apt-get install prometheus` (Debian's package brings "
        "it) to check the alert rules and run their unit tests (with CI set, this fails)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.mark.parametrize(
    ("what", "path"), [("check rules", ALERTS), ("test rules", ALERT_TESTS)], ids=["check", "test"]
)
def test_promtool_accepts_the_rules_and_their_unit_tests_pass(what: str, path: Path) -> None:
    checked = subprocess.run(
        [_promtool(), *what.split(), path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
