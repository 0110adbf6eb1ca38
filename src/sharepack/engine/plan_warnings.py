"""A plan's warnings, each located in the pack: the field a person fixes or checks.

`recipient[i]...` or `share[i]...` for what an entry of the file declares;
`metadata.strategy` for the switch from NEW to UPDATE; `metadata.prune` for what prune
finds that the file no longer names (there is no entry of it to point at).
"""

from __future__ import annotations

from dataclasses import dataclass

from sharepack.packfile.models import SharePackConfig
from sharepack.workspace.state import AuthenticationType, WorkspaceState

STRATEGY = "metadata.strategy"
PRUNE = "metadata.prune"


@dataclass(frozen=True)
class PlanWarning:
    """What a person should know before the plan runs, and the field of the pack it is
    about (a path as file problems give it: `recipient[1].allowed_ips`)."""

    message: str
    field: str

    def __str__(self) -> str:
        return self.message


def recipient_field(config: SharePackConfig, name: str, field: str = "") -> str:
    """`recipient[i]` (with `.field`) of the recipient `name` in the file."""
    index = next(i for i, r in enumerate(config.recipients) if r.name == name)
    return f"recipient[{index}]{'.' + field if field else ''}"


def access_warnings(config: SharePackConfig, actual: WorkspaceState) -> list[PlanWarning]:
    """An IP access list the pack leaves out is removed (access lists are declared whole):
    the recipient then accepts its activation link from anywhere. Said before it happens,
    at the recipient, since an API caller sees warnings and not the plan."""
    warnings: list[PlanWarning] = []
    for spec in config.recipients:
        existing = actual.recipients.get(spec.name)
        if existing is None or existing.authentication_type is not AuthenticationType.TOKEN:
            continue
        if existing.allowed_ips and not spec.allowed_ips:
            warnings.append(
                PlanWarning(
                    f"Recipient '{spec.name}' accepts connections only from "
                    f"{', '.join(existing.allowed_ips)}; the pack lists no allowed_ips, so "
                    "that list is removed and anyone holding the activation link can connect. "
                    "List the addresses in allowed_ips to keep them.",
                    recipient_field(config, spec.name, "allowed_ips"),
                )
            )
    return warnings
