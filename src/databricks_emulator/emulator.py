"""Everything one emulator holds, behind one lock, and the snapshot `/_emulator/state` answers.

`GET /_emulator/state` answers one JSON object, every list sorted, secrets masked:

    {
      "workspace_id": "<this emulator's workspace id>",
      "recipients": [RecipientInfo as GET answers it, "activation_url": "***"],
      "shares": [ShareInfo with "objects": [...] always present, in the order added],
      "grants": {"<share>": {"<principal>": ["SELECT"]}},
      "pipelines": [{"pipeline_id", "spec", "state", "updates": [{"update_id", "state"}],
                     "produced": ["cat.schema.table"]}],
      "jobs": [JobSettings, ... by job id],
      "workspace_files": ["/Shared/...", ...],
      "tables": ["catalog.schema.table", ...]
    }
"""

from __future__ import annotations

import copy
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from databricks_emulator import recipients as rcp
from databricks_emulator.catalog import Catalog, load_seed
from databricks_emulator.control import Controls
from databricks_emulator.jobs import Jobs
from databricks_emulator.paging import Paging
from databricks_emulator.pipelines import Pipelines
from databricks_emulator.rate_limits import RateLimits
from databricks_emulator.sharing import SharingState
from databricks_emulator.table_data import TableFiles
from databricks_emulator.workspace_files import WorkspaceFiles

CURRENT_USER = "sharepack-emulator@example.com"
METASTORE_ID = "11111111-2222-3333-4444-555555555555"
CLOUD = "azure"
REGION = "eastus"
GLOBAL_METASTORE_ID = f"{CLOUD}:{REGION}:{METASTORE_ID}"
MASK = "***"
_WORKSPACE_ID = re.compile(r"[1-9][0-9]{0,17}")


def new_workspace_id() -> str:
    """A random 16-digit workspace id, the length of Azure Databricks ones."""
    return str(10**15 + secrets.randbelow(9 * 10**15))


def checked_workspace_id(workspace_id: str | int | None) -> str:
    """`workspace_id` as text (a new random one for None); `ValueError` unless it is a
    positive whole number of at most 18 digits (the SDK reads it as an int)."""
    if workspace_id is None:
        return new_workspace_id()
    text = str(workspace_id).strip()
    if not _WORKSPACE_ID.fullmatch(text):
        raise ValueError(f"A workspace id is a positive whole number, not '{workspace_id}'")
    return text


class Emulator:
    """Request handlers reach it through `request.app.state.emulator` and hold `lock`.

    `workspace_id` is the instance's identity (random unless given): every answer carries
    it in `x-databricks-org-id`, and a reset keeps it, as a workspace keeps its id.
    Kept in a state file (`keep_with`), it is saved after every change (`changed`)."""

    def __init__(
        self,
        *,
        seed: Path | None,
        token: str | None,
        latency_ms: int,
        pipeline_step_ms: int,
        workspace_id: str | int | None = None,
        rate_limits: Mapping[str, int] | None = None,
        default_rate_limit: int | None = None,
        paging: Paging | None = None,
    ) -> None:
        self.workspace_id = checked_workspace_id(workspace_id)
        self.seed = load_seed(seed)
        self.token = token
        self.initial_latency_ms = latency_ms
        self.initial_step_ms = pipeline_step_ms
        self.lock = threading.RLock()
        self.controls = Controls(latency_ms=latency_ms)
        self.initial_rate_limits = dict(rate_limits or {})
        self.initial_default_rate_limit = default_rate_limit
        self.rate_limits = RateLimits()
        self.initial_paging = paging or Paging()
        self.paging = self.initial_paging
        self._save: Callable[[], None] | None = None
        self.table_files = TableFiles()  # kept across resets: the rows are deterministic
        self.reset()

    def keep_with(self, save: Callable[[], None]) -> None:
        """Call `save` (under the lock) now and after every change from now on."""
        with self.lock:
            self._save = save
            save()

    def changed(self) -> None:
        """The workspace may have changed: save it, when it is kept."""
        if self._save is not None:
            with self.lock:
                self._save()

    def advance(self) -> None:
        """Move pipeline updates on to the state their age gives them (see `Pipelines`)."""
        with self.lock:
            if self.pipelines.advance():
                self.changed()

    def reset(self) -> None:
        """Back to the seed fixture: no faults, no calls, the starting latency, timing,
        rate limits (none unless given) and paging (realistic unless given); the workspace
        id stays."""
        with self.lock:
            self.paging = self.initial_paging
            self.controls.reset(self.initial_latency_ms)
            self.rate_limits.set(self.initial_rate_limits, self.initial_default_rate_limit)
            self.catalog = Catalog(CURRENT_USER, METASTORE_ID)
            self.catalog.add_seed(self.seed)
            self.sharing = SharingState(self.catalog, CURRENT_USER, METASTORE_ID)
            self.sharing.add_seed(self.seed)
            self.files = WorkspaceFiles(CURRENT_USER)
            self.pipelines = Pipelines(self.catalog, self.files, CURRENT_USER, self.initial_step_ms)
            self.jobs = Jobs(self.pipelines, CURRENT_USER)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            self.advance()
            recipients = [rcp.view(r, "") for _, r in sorted(self.sharing.recipients.items())]
            for recipient in recipients:
                for token in recipient.get("tokens", []):
                    if "activation_url" in token:
                        token["activation_url"] = MASK
            return {
                "workspace_id": self.workspace_id,
                "recipients": recipients,
                "shares": [copy.deepcopy(s) for _, s in sorted(self.sharing.shares.items())],
                "grants": {
                    share: {p: sorted(v) for p, v in sorted(principals.items())}
                    for share, principals in sorted(self.sharing.grants.items())
                },
                "pipelines": self.pipelines.snapshot(),
                "jobs": self.jobs.snapshot(),
                "workspace_files": self.files.snapshot(),
                "tables": sorted(self.catalog.tables),
            }
