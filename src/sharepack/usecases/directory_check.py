"""Seed 001's Phase 2: the internal addresses a pack names are users of the directory.

The requestor and each pipeline's notification addresses are looked up in Microsoft Graph
when it is configured; an unknown (or disabled) one is a located validation error, as any
other problem of the file. Partner contact emails (recipients') are not directory users
and are not checked. Without Graph configured the check is skipped, and said so in the
upload's warnings.
"""

from __future__ import annotations

from sharepack.directory.protocol import Directory
from sharepack.directory.validate import check_directory
from sharepack.packfile.findings import Finding
from sharepack.packfile.loader import ExtraRule
from sharepack.packfile.models import SharePackConfig
from sharepack.packfile.normalise import field_name
from sharepack.packfile.yaml_reader import Path

SKIPPED = (
    "not checked against the directory: Microsoft Graph is not configured (set "
    "AZURE_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET)"
)


def internal_addresses(config: SharePackConfig) -> dict[Path, str]:
    """The addresses a pack names that must be directory users, by their path."""
    found: dict[Path, str] = {("metadata", "requestor"): config.metadata.requestor}
    for s, share in enumerate(config.shares):
        for p, pipeline in enumerate(share.pipelines):
            for n, email in enumerate(pipeline.notification):
                found[("shares", s, "pipelines", p, "notification", n)] = email
    return found


def directory_rule(directory: Directory | None) -> ExtraRule:
    """The check as one more rule of the file: errors where the directory does not know an
    address; without a directory, one warning that it was skipped."""

    def rule(config: SharePackConfig) -> list[Finding]:
        addresses = internal_addresses(config)
        if directory is None:
            return [Finding(("metadata", "requestor"), f"The requestor was {SKIPPED}", True)]
        by_name = {field_name(path): path for path in addresses}
        problems = check_directory(
            {field_name(path): email for path, email in addresses.items()}, {}, directory
        )
        return [Finding(by_name[problem.path], problem.message) for problem in problems]

    return rule


def check_mapped_groups(groups: dict[str, str], directory: Directory | None) -> list[str]:
    """The role mapping's groups the directory does not know, as `where: message` lines
    (`groups`: where each is written -> its object id); none without a directory."""
    if directory is None or not groups:
        return []
    return [f"{p.path}: {p.message}" for p in check_directory({}, groups, directory)]
