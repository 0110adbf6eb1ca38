"""The promise, tried at random: faults of every kind at random points, owners changing
what a run touches, workers killed after a call, and holders paused past their lease
while another takes the run over. Seeded and bounded in count and time.

Each trial must end with the workspace equal to the pack's declared state (COMPLETED),
or to the state before the run plus only others' changes (FAILED, ROLLED_BACK or
ROLLED_BACK_WITH_CONFLICTS as the case is), every resource once, and the history saying
which records exist exactly as the workspace does.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sharing import AuthenticationType, IpAccessList

from databricks_emulator.server import EmulatorServer
from sharepack.running.provision import make_worker
from sharepack.runtime import Runtime
from sharepack.usecases.submit import submit_share_pack
from tests.api_server import TEST_OPERATOR
from tests.workspace_hooks import Hook, Killed, expire_leases, hooked

SEED = int(os.environ.get("SHAREPACK_PROMISE_SEED", "20261202"))
TRIALS = int(os.environ.get("SHAREPACK_PROMISE_TRIALS", "40"))
TIME_BUDGET_SECONDS = 240.0
ADMIN_IP = "203.0.113.99"
TABLES = [
    "prod_catalog.sales.transactions",
    "prod_catalog.sales.customers",
    "prod_catalog.sales.orders",
    "prod_catalog.finance.revenue",
    "prod_catalog.hr.employees",
]
#: (SDK method a hook may stop at, emulator path of a fault), for every write a run makes.
WRITES = [
    ("create_recipient", "POST", r"/unity-catalog/recipients$"),
    ("update_recipient", "PATCH", r"/unity-catalog/recipients/[^/]+$"),
    ("create_share", "POST", r"/unity-catalog/shares$"),
    ("update_share_objects", "PATCH", r"/unity-catalog/shares/[^/]+$"),
    ("update_share_grants", "PATCH", r"/unity-catalog/shares/[^/]+/permissions$"),
    ("create_pipeline", "POST", r"^/api/2.0/pipelines$"),
    ("create_schedule_job", "POST", r"^/api/2.2/jobs/create$"),
]
DISTURBANCES = ["fault", "fault", "applied-fault", "owner", "kill", "pause", "none"]


@dataclass
class Trial:
    number: int
    recipients: dict[str, list[str]]
    shares: dict[str, tuple[list[str], list[str]]]  # name -> (objects, grantees)
    existing: dict[str, list[str]]  # recipients that exist before, with their IPs
    disturbance: str
    write: tuple[str, str, str]
    nth: int
    #: A pipeline feeding the first share's first table, on a cron: its schedule job is
    #: the one create the service does not deduplicate by name.
    pipeline: str | None = None
    owner_changed: list[str] = field(default_factory=list)

    def yaml(self) -> bytes:
        lines = [
            "metadata:",
            "  requestor: trial@example.com",
            f"  project_name: Promise trial {self.number}",
            "  business_line: Chaos",
            f"  strategy: {'UPDATE' if self.existing else 'NEW'}",
            "recipient:",
        ]
        for name, ips in self.recipients.items():
            lines += [f"  - name: {name}", "    type: D2O", f"    allowed_ips: [{', '.join(ips)}]"]
        lines.append("share:")
        for index, (name, (objects, grantees)) in enumerate(self.shares.items()):
            lines += [
                f"  - name: {name}",
                f"    recipients: [{', '.join(grantees)}]",
                f"    data_objects: [{', '.join(objects)}]",
            ]
            if index == 0 and self.pipeline is not None:
                lines += [
                    "    pipelines:",
                    f"      - name: {self.pipeline}",
                    "        source_asset: raw_catalog.sales.transactions",
                    f"        target_asset: {objects[0]}",
                    "        key_columns: [transaction_id]",
                    '        schedule: {cron: "0 2 * * *", timezone: UTC}',
                ]
        return ("\n".join(lines) + "\n").encode()


def _trial(rng: random.Random, number: int) -> Trial:
    tag = uuid.uuid4().hex[:6]
    recipients = {
        f"r{number}_{i}_{tag}": [f"10.{number}.{i}.{n}" for n in range(rng.randint(1, 2))]
        for i in range(rng.randint(1, 3))
    }
    names = list(recipients)
    shares = {
        f"s{number}_{i}_{tag}": (
            rng.sample(TABLES, rng.randint(1, 3)),
            rng.sample(names, rng.randint(1, len(names))),
        )
        for i in range(rng.randint(1, 2))
    }
    existing = {
        name: [f"172.16.{number}.{i}"] for i, name in enumerate(names) if rng.random() < 0.4
    }
    with_pipeline = rng.random() < 0.4
    writes = WRITES if with_pipeline else WRITES[:5]
    return Trial(
        number,
        recipients,
        shares,
        existing,
        rng.choice(DISTURBANCES),
        rng.choice(writes),
        rng.randint(1, 2),
        f"p{number}_{tag}" if with_pipeline else None,
    )


def _view(emulator: EmulatorServer, trial: Trial) -> dict[str, Any]:
    """What the trial's names hold in the workspace: every field a run could change."""
    state = emulator.state()
    recipients = {
        r["name"]: (
            r.get("authentication_type"),
            r.get("comment"),
            sorted((r.get("ip_access_list") or {}).get("allowed_ip_addresses") or []),
            r.get("properties_kvpairs"),
        )
        for r in state["recipients"]
        if r["name"] in trial.recipients
    }
    shares = {
        s["name"]: (
            s.get("comment"),
            sorted(o["name"] for o in s.get("objects", [])),
            sorted(state["grants"].get(s["name"], {})),
        )
        for s in state["shares"]
        if s["name"] in trial.shares
    }
    ours = {trial.pipeline, f"{trial.pipeline}_schedule"} if trial.pipeline else set()
    pipelines = sorted(p["spec"]["name"] for p in state["pipelines"] if p["spec"]["name"] in ours)
    jobs = sorted(j["name"] for j in state["jobs"] if j["name"] in ours)
    counts = [r["name"] for r in state["recipients"]] + [s["name"] for s in state["shares"]]
    counts += pipelines + jobs
    assert len(counts) == len(set(counts)), f"a resource exists twice: {counts}"
    return {"recipients": recipients, "shares": shares, "pipelines": pipelines, "jobs": jobs}


def _declared(trial: Trial, view: dict[str, Any]) -> list[str]:
    """How the workspace differs from the pack (an owner's added IP may stay)."""
    problems = []
    for name, ips in trial.recipients.items():
        found = view["recipients"].get(name)
        held = set(found[2]) - ({ADMIN_IP} if name in trial.owner_changed else set())
        if found is None or held != set(ips):
            problems.append(f"recipient {name}: {found} (declared IPs {ips})")
    for name, (objects, grantees) in trial.shares.items():
        found = view["shares"].get(name)
        if found is None or found[1] != sorted(objects) or found[2] != sorted(grantees):
            problems.append(f"share {name}: {found} (declared {objects}, {grantees})")
    if trial.pipeline is not None:
        if view["pipelines"] != [trial.pipeline]:
            problems.append(f"pipelines {view['pipelines']} (declared {trial.pipeline})")
        if view["jobs"] != [f"{trial.pipeline}_schedule"]:
            problems.append(f"schedule jobs {view['jobs']} (declared one)")
    return problems


def _before_plus_owner(trial: Trial, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    expected = {k: dict(v) if isinstance(v, dict) else v for k, v in before.items()}
    for name in trial.owner_changed:
        was = expected["recipients"].get(name)
        if was is not None:
            expected["recipients"][name] = (was[0], was[1], sorted([*was[2], ADMIN_IP]), was[3])
        elif name in after["recipients"]:  # the run created it, the owner changed it: kept
            expected["recipients"][name] = after["recipients"][name]
    return [] if after == expected else [f"after {after} != before plus owner {expected}"]


def _history_matches(runtime: Runtime, url: str, trial: Trial, view: dict[str, Any]) -> list[str]:
    problems = []
    with runtime.database.unit_of_work() as uow:
        for kind, names, repository in (
            ("recipients", trial.recipients, uow.recipients),
            ("shares", trial.shares, uow.shares),
        ):
            for name in names:
                history = repository.history(url, name)
                recorded = bool(history) and not history[-1].is_deleted
                exists = name in view[kind]
                written_by_run = any(v.created_by == "sharepack-worker" for v in history)
                if written_by_run and recorded != exists:
                    problems.append(f"{kind} {name}: history says {recorded}, workspace {exists}")
    return problems


def _run(runtime: Runtime, emulator: EmulatorServer, client: WorkspaceClient, trial: Trial) -> str:
    """Run the trial's pack to its end, disturbed as the trial says; its outcome."""
    method, http, path = trial.write
    worker_runtime = runtime
    if trial.disturbance in ("fault", "applied-fault"):
        applied = trial.disturbance == "applied-fault"
        emulator.add_fault(
            method=http,
            path_regex=path,
            nth=trial.nth,
            # A change made and then answered 503 is sent again by the SDK itself.
            status=503 if applied and http == "POST" else 500,
            applied=applied,
        )
    elif trial.disturbance == "owner":
        emulator.add_fault(method="PATCH", path_regex=WRITES[4][2], status=500)
        target = next(iter(trial.recipients))

        def owner_adds_an_ip() -> None:
            try:
                info = client.recipients.get(target)
            except Exception:
                return  # not there (yet): nothing to change
            ips = (info.ip_access_list.allowed_ip_addresses or []) if info.ip_access_list else []
            client.recipients.update(
                target, ip_access_list=IpAccessList(allowed_ip_addresses=[*ips, ADMIN_IP])
            )
            trial.owner_changed.append(target)

        # Right after the run's own write of the recipient (its grants all fail, so the
        # run rolls back): the owner's change comes after the run's and must survive. A
        # change made between the run's read and its own write to the same field is
        # overwritten by that write, as any declarative apply does; so the owner acts
        # once that write has returned, not at a call that may run beside it (the apply
        # runs independent actions at once: a grant of another recipient does not wait).
        write = "update_recipient" if target in trial.existing else "create_recipient"
        worker_runtime = hooked(runtime, Hook(write, about=target, after=owner_adds_an_ip))
    elif trial.disturbance == "kill":

        def die() -> None:
            raise Killed

        worker_runtime = hooked(runtime, Hook(method, trial.nth, after=die))
    elif trial.disturbance == "pause":

        def another_takes_over() -> None:
            expire_leases(runtime)
            make_worker(runtime).run_once()

        worker_runtime = hooked(runtime, Hook(method, trial.nth, before=another_takes_over))
    submitted = submit_share_pack(
        runtime,
        content=trial.yaml(),
        filename="trial.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )
    try:
        make_worker(worker_runtime).run_once()
    except Killed:
        expire_leases(runtime)
    for _ in range(6):  # what the killed one left, taken over (bounded)
        with runtime.database.unit_of_work() as uow:
            record = uow.share_packs.get_current(submitted.share_pack_id)
        if record.share_pack_status != "IN_PROGRESS":
            break
        expire_leases(runtime)
        make_worker(runtime).run_once()
    return f"{record.share_pack_status}/{record.rollback_status}: {record.error_message}"


def _prepare(client: WorkspaceClient, trial: Trial) -> None:
    for name, ips in trial.existing.items():
        client.recipients.create(
            name,
            AuthenticationType.TOKEN,
            comment="there before",
            ip_access_list=IpAccessList(allowed_ip_addresses=ips),
        )


@pytest.mark.slow
def test_every_trial_ends_declared_or_restored_with_a_history_that_matches(
    runtime: Runtime, emulator: EmulatorServer, workspace_client: WorkspaceClient
) -> None:
    emulator.set_pipeline_step_ms(20)
    rng = random.Random(SEED)
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    outcomes: dict[str, int] = {}
    failures: list[str] = []
    ran = 0
    with_pipelines = 0
    for number in range(TRIALS):
        if time.monotonic() > deadline:
            break
        trial = _trial(rng, number)
        emulator.clear_faults()
        _prepare(workspace_client, trial)
        before = _view(emulator, trial)
        outcome = _run(runtime, emulator, workspace_client, trial)
        emulator.clear_faults()
        after = _view(emulator, trial)
        status = outcome.split(":", 1)[0]
        key = f"{trial.disturbance} -> {status}"
        outcomes[key] = outcomes.get(key, 0) + 1
        problems: list[str]
        if status.startswith("COMPLETED"):
            problems = _declared(trial, after)
        elif status in ("FAILED/ROLLED_BACK", "FAILED/ROLLED_BACK_WITH_CONFLICTS"):
            problems = _before_plus_owner(trial, before, after)
            conflicted = status.endswith("CONFLICTS")
            if conflicted != bool(trial.owner_changed):
                problems.append(f"outcome {status} but owner changed {trial.owner_changed}")
        else:
            problems = [f"ended {outcome}"]
        problems += _history_matches(runtime, emulator.url, trial, after)
        if problems:
            where = f"{trial.disturbance} at {trial.write[0]} #{trial.nth}"
            failures.append(f"trial {number} ({where}): {problems}")
        ran += 1
        with_pipelines += trial.pipeline is not None
    print(
        f"\npromise trials (seed {SEED}): {ran} run, {with_pipelines} with a scheduled "
        f"pipeline; outcomes {sorted(outcomes.items())}"
    )
    assert ran >= min(TRIALS, 8)
    assert failures == [], "\n".join(failures)
