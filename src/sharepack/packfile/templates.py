"""What helps people write packs: a JSON Schema for editors, and templates that validate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sharepack.packfile.loader import load_share_pack
from sharepack.packfile.normalise import (
    METADATA_KEYS,
    OBJECT_KEYS,
    PIPELINE_KEYS,
    RECIPIENT_KEYS,
    SHARE_KEYS,
)
from sharepack.packfile.writer import write_xlsx

_STRING = {"type": "string"}
_STRINGS = {"oneOf": [{"type": "array", "items": _STRING}, _STRING]}


def _any_case(*words: str) -> dict[str, Any]:
    """A string equal to one of `words` in any case, as the reader takes it."""
    # JSON Schema patterns are ECMA-262, without an ignore-case flag: spell each letter.
    spelled = ["".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in w) for w in words]
    return {
        "type": "string",
        "pattern": f"^\\s*({'|'.join(spelled)})\\s*$",
        "examples": list(words),
    }


_FIELD_TYPES: dict[str, Any] = {
    "strategy": _any_case("NEW", "UPDATE"),
    "prune": {"type": "boolean"},
    "type": _any_case("D2O", "D2D"),
    "allowed_ips": _STRINGS,
    "recipient_ips": _STRINGS,
    "recipients": _STRINGS,
    "share_assets": _STRINGS,
    "properties": {"type": "object", "additionalProperties": _STRING},
    "token_expiration": {"type": "string", "format": "date-time"},
    "not_before": {"type": "string", "format": "date-time"},
    "history_data_sharing_status": _any_case("ENABLED", "DISABLED"),
    "cdf_enabled": {"type": "boolean"},
    "start_version": {"type": "integer", "minimum": 0},
    "partitions": {
        "anyOf": [
            {"type": "string", "description": "(column = 'value', ...), (...) as SQL writes it"},
            {"type": "array"},
        ]
    },
    "key_columns": _STRINGS,
    "notification": _STRINGS,
    "notifications": _STRINGS,
    "scd_type": {"enum": ["1", "2", 1, 2]},
    "serverless": {"type": "boolean"},
    "tags": {"type": "object", "additionalProperties": _STRING},
    # CONTINUOUS (any case) or a cron is a string; anyOf, since CONTINUOUS is both.
    "schedule": {
        "anyOf": [
            _any_case("CONTINUOUS"),
            {"type": "string", "description": "a 5-field Unix cron, or a Quartz expression"},
            {
                "type": "object",
                "properties": {"cron": _STRING, "timezone": _STRING},
                "required": ["cron"],
                "additionalProperties": False,
            },
        ]
    },
}


def _object(keys: dict[str, str], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {k: _FIELD_TYPES.get(k, _STRING) for k in keys},
        "required": list(required),
        "additionalProperties": False,
    }


def json_schema() -> dict[str, Any]:
    """JSON Schema of the YAML format, the original spellings included."""
    pipeline = _object(PIPELINE_KEYS)
    share = _object(SHARE_KEYS)
    share["properties"]["pipelines"] = {"type": "array", "items": pipeline}
    top_pipeline = _object({**PIPELINE_KEYS, "share": "share"}, ("share",))
    data_object = _object(OBJECT_KEYS, ("name",))
    top_object = _object({**OBJECT_KEYS, "share": "share"}, ("share", "name"))
    kinds = _any_case("TABLE", "VIEW", "MATERIALIZED_VIEW", "STREAMING_TABLE", "SCHEMA")
    for entry in (data_object, top_object):
        entry["properties"].update({"type": kinds, "data_object_type": kinds})
    objects = {"oneOf": [{"type": "array", "items": {"anyOf": [_STRING, data_object]}}, _STRING]}
    share["properties"].update({"data_objects": objects, "share_assets": objects})
    recipients = {"type": "array", "items": _object(RECIPIENT_KEYS)}
    shares = {"type": "array", "items": share}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sharepack share pack",
        "type": "object",
        "properties": {
            "metadata": _object(METADATA_KEYS, ("requestor", "project_name", "business_line")),
            "recipient": recipients,
            "recipients": recipients,
            "share": shares,
            "shares": shares,
            "pipelines": {"type": "array", "items": top_pipeline},
            "objects": {"type": "array", "items": top_object},
        },
        "required": ["metadata"],
        "additionalProperties": False,
    }


TEMPLATE_YAML = """\
# A share pack: who may read what, and the pipeline that keeps a shared table fed.
# Check it with: sharepack validate FILE
metadata:
  requestor: john.doe@example.com      # who asks (an email)
  project_name: Sales Data Q1 2024
  business_line: Sales Operations
  strategy: NEW                        # NEW | UPDATE (prune: true removes what is unlisted)
  description: Quarterly sales for partners

recipient:
  - name: sales-analyst                # open sharing: gets an activation link
    type: D2O
    email: analyst@partner.example.com
    allowed_ips: [192.168.1.0/24, 198.51.100.50]
    comment: External analyst
  - name: internal-team                # Databricks-to-Databricks, by sharing identifier
    type: D2D
    metastore_id: "azure:eastus:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"

share:
  - name: sales_q1_share
    comment: Q1 sales data
    recipients: [sales-analyst, internal-team]
    data_objects:                      # catalog.schema.table, or catalog.schema
      - prod_catalog.sales.transactions
      - prod_catalog.sales.daily_summary
    pipelines:
      - name: daily_summary_feed       # keeps daily_summary fed from the raw table
        source_asset: raw_catalog.sales.transactions
        target_asset: prod_catalog.sales.daily_summary
        scd_type: "2"
        key_columns: [transaction_id]
        schedule: {cron: "0 2 * * *", timezone: UTC}   # or CONTINUOUS
        serverless: true
        tags: {cost_center: "123"}
        notification: [owner@example.com]

# Sharing options of a share's objects (each optional; also written in data_objects as
# {name: ..., shared_as: ...}). A recipient may also carry properties: {region: emea}
# (read by CURRENT_RECIPIENT().region) and token_expiration: "2027-06-30T00:00:00Z".
objects:
  - share: sales_q1_share
    name: prod_catalog.sales.customers # added to the share, or the same name's options
    shared_as: partner.customers       # the schema.table the recipient sees
    comment: Customers, one region per partner
    history_data_sharing_status: ENABLED   # time travel and change data feed
    cdf_enabled: true
    start_version: 0                   # the oldest version a recipient may read
    # Only the rows of the recipient's region sold online (several groups: any of them).
    partitions: "(region = CURRENT_RECIPIENT().region, channel LIKE 'web%')"
"""


def template_yaml() -> str:
    return TEMPLATE_YAML


def write_template_xlsx(path: Path) -> None:
    """The same template as a workbook with the four sheets the Excel reader expects."""
    write_xlsx(load_share_pack(TEMPLATE_YAML.encode(), "template.yaml").config, path)
