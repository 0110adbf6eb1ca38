"""Validation rules on a typed pack: pure functions from a config to located findings.

Each rule yields `Finding`s with the model path they concern, and the paths of the other
values they were derived from; the loader turns paths into file locations, and leaves out
a finding about a value the file got wrong or derived from one. Errors stop a pack;
warnings travel with it.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email

from sharepack.cron import CronError, to_quartz
from sharepack.packfile.findings import Finding
from sharepack.packfile.limits import length_problems
from sharepack.packfile.models import (
    PipelineSpec,
    RecipientSpec,
    RecipientType,
    SharePackConfig,
    ShareSpec,
    Strategy,
)
from sharepack.packfile.object_rules import as_utc, object_rules, property_rules
from sharepack.packfile.yaml_reader import ANY, Path

# Recipient and share names as Unity Catalog accepts them for Delta Sharing: letters,
# digits, underscores and hyphens, starting with a letter or digit. Their length (and that
# of every other text) is checked once, in `spec.limits`.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# Pipeline names become a DLT pipeline's name and its job's `<name>_schedule`, and are
# matched exactly when sharepack finds them again: the same characters as recipient and
# share names (no spaces, slashes or semicolons).
PIPELINE_NAME = NAME
IDENTIFIER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
METASTORE_ID = re.compile(
    r"^[a-z]+:[a-z0-9-]+:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
# Entries of the system's zone database that are not IANA zones (or are the same zones
# again under another tree): Databricks jobs take IANA names only.
NOT_IANA_ZONES = frozenset({"localtime", "Factory", "posixrules"})
NOT_IANA_TREES = ("posix/", "right/")
MAX_IPS = 100


#: Whether a share's recipient is declared can be told only from every recipient's name.
EVERY_RECIPIENT_NAME: Path = ("recipients", ANY, "name")


Rule = Callable[[SharePackConfig], Iterator[Finding]]


def _email_problem(value: str | None) -> str | None:
    if not value:
        return "An email address is required"
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return f"'{value}' is not a valid email address: {exc}"
    return None


def metadata_rules(config: SharePackConfig) -> Iterator[Finding]:
    metadata = config.metadata
    if problem := _email_problem(metadata.requestor):
        yield Finding(("metadata", "requestor"), problem)
    for field in ("project_name", "business_line"):
        if not getattr(metadata, field).strip():
            yield Finding(("metadata", field), f"'{field}' must not be empty")
    if metadata.not_before is not None and as_utc(metadata.not_before) <= datetime.now(UTC):
        yield Finding(
            ("metadata", "not_before"),
            f"not_before {as_utc(metadata.not_before).isoformat()} has passed: the pack is "
            "queued at once",
            warning=True,
        )


def _duplicates(names: list[str]) -> set[str]:
    return {name for name, count in Counter(names).items() if count > 1}


def _repeats(values: tuple[str, ...] | list[str]) -> Iterator[int]:
    """Positions of values already seen earlier in the list."""
    seen: set[str] = set()
    for position, value in enumerate(values):
        if value in seen:
            yield position
        seen.add(value)


def name_rules(config: SharePackConfig) -> Iterator[Finding]:
    groups: list[tuple[str, list[str]]] = [
        ("recipients", [r.name for r in config.recipients]),
        ("shares", [s.name for s in config.shares]),
    ]
    for key, names in groups:
        repeated = _duplicates(names)
        for index, name in enumerate(names):
            if not NAME.match(name):
                yield Finding(
                    (key, index, "name"),
                    f"'{_shortened(name)}' is not a valid name: use letters, digits, '_' or "
                    "'-', starting with a letter or digit",
                )
            if name in repeated:
                yield Finding((key, index, "name"), f"The name '{name}' is used more than once")
    yield from _pipeline_name_rules(config)


def _pipeline_name_rules(config: SharePackConfig) -> Iterator[Finding]:
    # Workspace pipeline names keep their case, but two that differ only by it confuse
    # whoever reads the workspace: they count as the same name.
    repeated = _duplicates([p.name.lower() for s in config.shares for p in s.pipelines])
    for share_index, share in enumerate(config.shares):
        for index, pipeline in enumerate(share.pipelines):
            path = ("shares", share_index, "pipelines", index, "name")
            if not PIPELINE_NAME.match(pipeline.name):
                yield Finding(
                    path,
                    f"'{_shortened(pipeline.name)}' is not a valid pipeline name: use "
                    "letters, digits, '_' or '-', starting with a letter or digit",
                )
            if pipeline.name.lower() in repeated:
                yield Finding(path, f"The pipeline name '{pipeline.name}' is used more than once")


def _shortened(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def recipient_rules(config: SharePackConfig) -> Iterator[Finding]:
    for index, recipient in enumerate(config.recipients):
        yield from _recipient(recipient, ("recipients", index))


def _recipient(recipient: RecipientSpec, path: Path) -> Iterator[Finding]:
    if recipient.email is not None and (problem := _email_problem(recipient.email)):
        yield Finding((*path, "email"), problem)
    by_type = ((*path, "type"),)
    for finding in _by_type(recipient, path):
        yield Finding(
            finding.path, finding.message, finding.warning, (*by_type, *finding.depends_on)
        )


def _by_type(recipient: RecipientSpec, path: Path) -> Iterator[Finding]:
    """What a recipient's type asks of its other fields."""
    if recipient.type is RecipientType.D2D:
        if not recipient.metastore_id:
            yield Finding((*path, "metastore_id"), "A D2D recipient needs its metastore_id")
        elif not METASTORE_ID.match(recipient.metastore_id):
            yield Finding(
                (*path, "metastore_id"),
                f"'{recipient.metastore_id}' is not a sharing identifier of the form "
                "cloud:region:uuid (e.g. azure:eastus:0f1e...)",
            )
        if recipient.allowed_ips:
            yield Finding((*path, "allowed_ips"), "IP access lists apply to D2O recipients only")
        return
    if recipient.metastore_id:
        yield Finding((*path, "metastore_id"), "metastore_id applies to D2D recipients only")
    if recipient.email is None:
        # Removing a contact email is a supported change: a warning, not an error.
        yield Finding(
            (*path, "email"),
            f"Recipient '{recipient.name}' is D2O (open sharing) and has no email: its "
            "activation link must be handed over by hand",
            warning=True,
            depends_on=((*path, "name"),),
        )
    yield from _ip_rules(recipient.allowed_ips, (*path, "allowed_ips"))


def _ip_rules(ips: tuple[str, ...], path: Path) -> Iterator[Finding]:
    if len(ips) > MAX_IPS:
        yield Finding(path, f"At most {MAX_IPS} IP addresses or blocks, found {len(ips)}")
    for index, ip in enumerate(ips):
        _, slash, prefix = ip.partition("/")
        if slash and not prefix.isdigit():
            message = f"'{ip}' is not a CIDR block: write the prefix length, as in 10.0.0.0/8"
            yield Finding((*path, index), message)
            continue
        try:
            network = ipaddress.IPv4Network(ip, strict=True)
        except ValueError as exc:
            yield Finding((*path, index), f"'{ip}' is not an IPv4 address or CIDR block: {exc}")
            continue
        if network.prefixlen == 0:
            yield Finding((*path, index), f"'{ip}' allows access from anywhere", warning=True)


def share_rules(config: SharePackConfig) -> Iterator[Finding]:
    declared = {r.name for r in config.recipients}
    under_update = config.metadata.strategy is Strategy.UPDATE
    for index, share in enumerate(config.shares):
        path: Path = ("shares", index)
        for position in _repeats(share.recipients):
            name = share.recipients[position]
            message = f"Recipient '{name}' is listed more than once"
            yield Finding((*path, "recipients", position), message)
        for position, name in enumerate(share.recipients):
            if name in declared:
                continue
            where = (*path, "recipients", position)
            known = (EVERY_RECIPIENT_NAME,)
            if under_update:
                message = f"Recipient '{name}' is not declared here; it must already exist"
                yield Finding(where, message, warning=True, depends_on=known)
            else:
                message = f"Recipient '{name}' is not declared in this pack"
                yield Finding(where, message, depends_on=known)
        yield from object_rules(share, path)
        for position, pipeline in enumerate(share.pipelines):
            yield from _pipeline(pipeline, share, path, position)


def _three_part(value: str) -> bool:
    parts = value.split(".")
    return len(parts) == 3 and all(IDENTIFIER.match(p) for p in parts)


def _pipeline(
    pipeline: PipelineSpec, share: ShareSpec, share_path: Path, index: int
) -> Iterator[Finding]:
    path: Path = (*share_path, "pipelines", index)
    for field in ("source_asset", "target_asset"):
        if not _three_part(getattr(pipeline, field)):
            yield Finding(
                (*path, field), f"'{getattr(pipeline, field)}' is not catalog.schema.table"
            )
    if pipeline.source_asset == pipeline.target_asset:
        yield Finding(
            (*path, "source_asset"),
            f"The source '{pipeline.source_asset}' is the target too: a pipeline reads "
            "one table and writes another",
            depends_on=((*path, "target_asset"),),
        )
    if pipeline.target_asset not in share.object_names:
        yield Finding(
            (*path, "target_asset"),
            f"Target '{pipeline.target_asset}' is not among share '{share.name}' data_objects",
            depends_on=((*share_path, "data_objects"), (*share_path, "name")),
        )
    if pipeline.scd_type not in ("1", "2"):
        yield Finding(
            (*path, "scd_type"), f'scd_type must be "1" or "2", not \'{pipeline.scd_type}\''
        )
    if pipeline.scd_type == "2" and not pipeline.key_columns:
        message = "SCD type 2 needs key_columns"
        yield Finding((*path, "key_columns"), message, depends_on=((*path, "scd_type"),))
    for position, column in enumerate(pipeline.key_columns):
        if not column.strip():
            yield Finding((*path, "key_columns", position), "A key column name must not be empty")
    for position in _repeats(pipeline.key_columns):
        message = f"Key column '{pipeline.key_columns[position]}' is listed more than once"
        yield Finding((*path, "key_columns", position), message)
    for position, email in enumerate(pipeline.notification):
        if problem := _email_problem(email):
            yield Finding((*path, "notification", position), problem)
    schedule = pipeline.schedule
    if schedule is None or schedule.continuous:
        return
    if problem := _timezone_problem(schedule.timezone):
        yield Finding((*path, "schedule", "timezone"), problem)


@cache
def iana_timezones() -> frozenset[str]:
    """The IANA zone names of the zone database (`UTC` and `Etc/UTC` always among them)."""
    names = {
        name
        for name in available_timezones()
        if name not in NOT_IANA_ZONES and not name.startswith(NOT_IANA_TREES)
    }
    return frozenset(names | {"UTC", "Etc/UTC"})


def _timezone_problem(timezone: str) -> str | None:
    zones = iana_timezones()
    if timezone in zones:
        return None
    if close := sorted(z for z in zones if z.lower() == timezone.strip().lower()):
        return f"Unknown timezone '{timezone}'; did you mean '{close[0]}'?"
    return f"Unknown timezone '{timezone}': use an IANA name such as 'UTC' or 'Europe/Paris'"


RULES: tuple[Rule, ...] = (
    metadata_rules,
    name_rules,
    recipient_rules,
    share_rules,
    property_rules,
)


def length_rules(config: SharePackConfig) -> Iterator[Finding]:
    """Each text longer than where it is stored (`spec.limits`)."""
    for path, message in length_problems(config):
        yield Finding(path, message)


def check(config: SharePackConfig) -> list[Finding]:
    """Every finding of every rule, in file order of the rules. A text that is too long is
    reported for that alone: other rules' findings about it would repeat it whole."""
    too_long = list(length_rules(config))
    places = {finding.path for finding in too_long}
    others = [
        finding
        for rule in RULES
        for finding in rule(config)
        if not any(finding.path[:end] in places for end in range(len(finding.path) + 1))
    ]
    return [*too_long, *others]


def quartz_or_problem(expression: str) -> tuple[str | None, str | None]:
    """(Quartz expression, None) or (None, why it is invalid)."""
    try:
        return to_quartz(expression), None
    except CronError as exc:
        return None, f"Invalid cron '{expression}': {exc.message}"
