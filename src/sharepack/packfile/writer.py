"""Write a `SharePackConfig` back out, as canonical YAML or as a workbook, that reads equal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook

from sharepack.packfile.models import DataObjectSpec, PipelineSpec, SharePackConfig
from sharepack.packfile.normalise import OBJECT_KEYS
from sharepack.packfile.partitions import partitions_text


def _schedule(pipeline: PipelineSpec) -> Any:
    schedule = pipeline.schedule
    if schedule is None:
        return None
    if schedule.continuous:
        return "CONTINUOUS"
    return {"cron": schedule.cron, "timezone": schedule.timezone}


def _pipeline(pipeline: PipelineSpec) -> dict[str, Any]:
    data = pipeline.model_dump(mode="json", exclude={"schedule"})
    if pipeline.schedule is not None:
        data["schedule"] = _schedule(pipeline)
    return data


def _data_object(obj: str | DataObjectSpec) -> Any:
    """A name alone, or the name and the options that are not their defaults."""
    if isinstance(obj, str):
        return obj
    options = obj.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    return {"name": obj.name, **options}


def config_to_dict(config: SharePackConfig) -> dict[str, Any]:
    return {
        "metadata": config.metadata.model_dump(mode="json", exclude_none=True),
        "recipient": [r.model_dump(mode="json", exclude_none=True) for r in config.recipients],
        "share": [
            {
                **s.model_dump(mode="json", exclude={"pipelines", "data_objects"}),
                "data_objects": [_data_object(o) for o in s.data_objects],
                "pipelines": [_pipeline(p) for p in s.pipelines],
            }
            for s in config.shares
        ],
    }


def config_to_yaml(config: SharePackConfig) -> str:
    """Canonical YAML that `load_share_pack` reads back to an equal model."""
    return yaml.safe_dump(config_to_dict(config), sort_keys=False, allow_unicode=True)


def _cell(values: tuple[str, ...] | list[str]) -> str | None:
    return ", ".join(values) or None


def write_xlsx(config: SharePackConfig, path: Path) -> None:
    """The same pack as a workbook with the four sheets the Excel reader expects."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    metadata = workbook.create_sheet("Metadata")
    metadata.append(["Field", "Value"])
    for field, value in config.metadata.model_dump(mode="json", exclude_none=True).items():
        metadata.append([field, value if value != "" else None])
    recipients = workbook.create_sheet("Recipients")
    recipients.append(
        [
            "name",
            "type",
            "email",
            "metastore_id",
            "allowed_ips",
            "comment",
            "properties",
            "token_expiration",
        ]
    )
    for r in config.recipients:
        properties = ", ".join(f"{k}={v}" for k, v in (r.properties or {}).items())
        expiration = r.token_expiration.isoformat() if r.token_expiration else None
        row = [
            r.name,
            r.type.value,
            r.email,
            r.metastore_id,
            _cell(r.allowed_ips),
            r.comment,
            properties or None,
            expiration,
        ]
        recipients.append([v if v != "" else None for v in row])
    shares = workbook.create_sheet("Shares")
    shares.append(["name", "comment", "recipients", "data_objects"])
    for s in config.shares:
        names = [o for o in s.data_objects if isinstance(o, str)]
        shares.append([s.name, s.comment or None, _cell(s.recipients), _cell(names)])
    _objects_sheet(workbook, config)
    pipelines = workbook.create_sheet("Pipelines")
    pipelines.append(
        [
            "name",
            "share",
            "source_asset",
            "target_asset",
            "scd_type",
            "key_columns",
            "schedule",
            "timezone",
            "serverless",
            "notification",
            "tags",
        ]
    )
    for s in config.shares:
        for p in s.pipelines:
            schedule = p.schedule
            cron = (
                "CONTINUOUS" if schedule and schedule.continuous else (schedule and schedule.cron)
            )
            pipelines.append(
                [
                    p.name,
                    s.name,
                    p.source_asset,
                    p.target_asset,
                    p.scd_type,
                    _cell(p.key_columns),
                    cron or None,
                    schedule.timezone if schedule and not schedule.continuous else None,
                    "true" if p.serverless else "false",
                    _cell(p.notification),
                    ", ".join(f"{k}={v}" for k, v in (p.tags or {}).items()) or None,
                ]
            )
    workbook.save(path)


def _objects_sheet(workbook: Workbook, config: SharePackConfig) -> None:
    """The objects with options, one row each (those without are named on the Shares sheet)."""
    objects = workbook.create_sheet("Objects")
    objects.append(["share", *(k for k, field in OBJECT_KEYS.items() if k == field)])
    for s in config.shares:
        for o in s.data_objects:
            if isinstance(o, str):
                continue
            objects.append(
                [
                    s.name,
                    o.name,
                    o.type.value if o.type else None,
                    o.shared_as,
                    o.comment if o.comment else None,
                    o.history_data_sharing_status.value,
                    "true" if o.cdf_enabled else "false",
                    o.start_version,
                    partitions_text(p.values for p in o.partitions),
                ]
            )
