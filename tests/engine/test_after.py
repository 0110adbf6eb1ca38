"""The workspace after a run, worked out from what it was and what the run did, is what a
read afterwards finds: a completed run records it without reading the workspace again."""

from __future__ import annotations

from sharepack.engine import InMemoryJournal, names_of, plan
from sharepack.engine.after import missing_ids, state_after
from sharepack.engine.apply import apply
from sharepack.engine.reading import read_names
from sharepack.packfile import load_share_pack
from sharepack.workspace.memory import InMemoryWorkspace
from sharepack.workspace.state import (
    AuthenticationType,
    RecipientState,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)

TABLES = [f"prod_catalog.sales.t{i}" for i in range(6)]


def _pack(
    strategy: str, objects: list[str], *, prune: bool = False, pipeline: bool = False
) -> bytes:
    feed = """
    pipelines:
      - name: t0_feed
        source_asset: raw_catalog.sales.t0
        target_asset: prod_catalog.sales.t0
        key_columns: [id]
        schedule: {cron: "0 2 * * *", timezone: Europe/London}
"""
    return f"""
metadata:
  requestor: ops@example.com
  project_name: After
  business_line: Sales Operations
  strategy: {strategy}
  prune: {str(prune).lower()}
recipient:
  - name: analyst
    type: D2O
    email: analyst@partner.example.com
  - name: auditor
    type: D2O
    email: auditor@partner.example.com
share:
  - name: sales_share
    recipients: [analyst, auditor]
    data_objects: [{", ".join(objects)}]
{feed if pipeline else ""}""".encode()


def _declared(state: WorkspaceState) -> dict[str, tuple[object, ...]]:
    """What the history records of each recipient (the owner is the server's to fill)."""
    return {
        n: (r.authentication_type, r.comment, r.allowed_ips, r.contact_email)
        for n, r in state.recipients.items()
    }


def _run_and_compare(workspace: InMemoryWorkspace, pack: bytes) -> WorkspaceState:
    config = load_share_pack(pack, "after.yaml").config
    names = names_of(config)
    the_plan = plan(config, read_names(workspace, names))
    result = apply(the_plan, workspace, InMemoryJournal(), concurrency=4)
    assert result.ok, result.error

    after = state_after(the_plan.before, result.done, result.answers)
    live = read_names(workspace, names)

    assert missing_ids(after) == ([], [])
    assert _declared(after) == _declared(live)
    assert {n: (s.comment, s.object_names, s.grantees) for n, s in after.shares.items()} == {
        n: (s.comment, s.object_names, s.grantees) for n, s in live.shares.items()
    }
    assert {n: p.pipeline_id for n, p in after.pipelines.items()} == {
        n: p.pipeline_id for n, p in live.pipelines.items()
    }
    assert {n: j.job_id for n, j in after.jobs.items()} == {
        n: j.job_id for n, j in live.jobs.items()
    }
    return after


def test_a_new_pack_with_a_scheduled_pipeline_is_known_with_the_ids_the_workspace_gave() -> None:
    workspace = InMemoryWorkspace(tables=[*TABLES, "raw_catalog.sales.t0"])

    after = _run_and_compare(workspace, _pack("NEW", TABLES[:3], pipeline=True))

    assert after.pipelines["t0_feed"].pipeline_id
    assert after.jobs["t0_feed_schedule"].job_id is not None


def test_an_update_keeps_what_others_shared_and_granted_beside_the_pack() -> None:
    workspace = InMemoryWorkspace(tables=TABLES)
    workspace.seed(
        WorkspaceState(
            recipients={
                "analyst": RecipientState("analyst", AuthenticationType.TOKEN, comment="kept"),
                "outsider": RecipientState("outsider", AuthenticationType.TOKEN),
            },
            shares={
                "sales_share": ShareState(
                    "sales_share",
                    "theirs",
                    objects=(ShareObjectState(TABLES[5]),),
                    grantees=frozenset({"outsider"}),
                )
            },
        )
    )

    after = _run_and_compare(workspace, _pack("UPDATE", TABLES[:2]))

    assert after.shares["sales_share"].object_names == {TABLES[0], TABLES[1], TABLES[5]}
    assert after.shares["sales_share"].grantees == {"analyst", "auditor", "outsider"}


def test_a_prune_is_known_to_have_removed_what_the_pack_no_longer_names() -> None:
    workspace = InMemoryWorkspace(tables=TABLES)
    _run_and_compare(workspace, _pack("NEW", TABLES[:4]))

    after = _run_and_compare(workspace, _pack("UPDATE", TABLES[:1], prune=True))

    assert after.shares["sales_share"].object_names == {TABLES[0]}
