"""Settings from the environment or `.env`; names are those of the original deployment.

With nothing set, sharepack runs on its embedded defaults: a SQLite file under
`./.sharepack/`, the database-table queue, and no workspace allowed until one is listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sharepack.errors import ConfigurationError
from sharepack.workspace.urls import is_workspace_url, normalise_workspace_url

DEFAULT_DATA_DIR = Path(".sharepack")


_PLANNED = "read by the {} work planned for this release; no effect yet"
_PARSED_ONLY = "kept so the original deployment's settings still parse; it has no effect"

#: Settings the original deployment sets that sharepack reads but does not act on (yet),
#: each with why it is kept; setting one logs a warning (`inert_settings`).
INERT_SETTINGS: dict[str, str] = {
    "enable_workflow": f"the original's feature flag, sharepack is the workflow: {_PARSED_ONLY}",
    "account_id": f"workspace-level calls need no account id: {_PARSED_ONLY}",
    "azure_subscription_id": f"the original's cost reports: {_PARSED_ONLY}",
    "sync_queue_name": _PLANNED.format("drift and sync"),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", case_sensitive=False, extra="ignore"
    )

    enable_workflow: bool = True
    sharepack_data_dir: Path = DEFAULT_DATA_DIR
    domain_db_connection_string: str | None = None

    azure_queue_connection_string: SecretStr | None = None
    azure_queue_name: str = "sharepack-processing"
    sync_queue_name: str = "sync-triggers"

    sharepack_workspace_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    databricks_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    account_id: str | None = None

    azure_tenant_id: str | None = None
    graph_client_id: str | None = None
    graph_client_secret: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    notification_from_email: str | None = None
    azure_subscription_id: str | None = None

    #: Notifications (`sharepack.notify`): email over SMTP when SMTP_HOST is set, from
    #: NOTIFICATION_FROM_EMAIL; STARTTLS when the server offers it (refused: no login in
    #: clear), verified against the system CAs or `sharepack_smtp_ca_file`.
    sharepack_smtp_starttls: bool = True
    sharepack_smtp_ca_file: Path | None = None
    sharepack_smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    #: A webhook each notice is POSTed to as JSON, signed with HMAC-SHA256 under the secret
    #: (`notify.webhook` says how a receiver checks it).
    sharepack_webhook_url: str | None = None
    sharepack_webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    sharepack_webhook_timeout_seconds: float = Field(default=30.0, gt=0)
    #: A delivery that failed is tried again after retry_seconds * 2**(attempt - 1), at
    #: most max_attempts times in all.
    sharepack_notification_retry_seconds: float = Field(default=30.0, gt=0)
    sharepack_notification_max_attempts: int = Field(default=5, ge=1, le=50)

    sharepack_max_upload_bytes: int = 5 * 1024 * 1024
    #: Batch uploads (`POST /workflow/sharepack/batch`): the most files one batch holds (its
    #: parts, or the files of one zip), and the most bytes they (and the request) hold together.
    sharepack_batch_max_files: int = Field(default=50, ge=1, le=1000)
    sharepack_batch_max_total_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    #: The most actions an apply runs at once; with the adaptive rate limit, fewer while
    #: the workspace's rate limit cannot take more (`workspace.rate_limit`).
    sharepack_apply_concurrency: int = Field(default=16, ge=1, le=64)
    #: Pace each workspace's calls per endpoint family at a rate learnt from its 429
    #: answers, starting at `sharepack_workspace_start_rate` requests a second; off: calls
    #: go as fast as `sharepack_apply_concurrency` threads send them.
    sharepack_adaptive_rate_limit: bool = True
    sharepack_workspace_start_rate: float = Field(default=10.0, gt=0, le=1000)
    sharepack_auto_rollback: bool = True
    #: `sharepack rollback --cleanup` removes versions' states and run snapshots older.
    sharepack_snapshot_retention_days: float = Field(default=90.0, ge=0)
    #: Minutes between the scheduled drift checks of every project (0: none).
    sharepack_drift_check_minutes: int = Field(default=1440, ge=0)
    sharepack_fail_on_existing_with_new: bool = False
    sharepack_worker_poll_seconds: float = Field(default=0.5, gt=0)
    sharepack_lease_seconds: float = Field(default=300.0, gt=0)
    sharepack_pipeline_wait_seconds: float = Field(default=1800.0, gt=0)
    sharepack_lock_wait_seconds: float = Field(default=1800.0, gt=0)
    #: Every workspace client sharepack makes: how long one HTTP request may take, and how
    #: long a call is retried (connection failures, timeouts, 429 and 503) before it fails.
    #: A minute each, not the SDK's five-minute retry: a person at a terminal hears of an
    #: unreachable workspace within about a minute; the worker's runs ride out throttling
    #: and short outages, and a longer one fails the run (undone) instead of holding it.
    sharepack_workspace_timeout_seconds: float = Field(default=60.0, gt=0)
    sharepack_workspace_retry_seconds: int = Field(default=60, ge=1)

    #: Identity. OIDC bearer tokens (Entra ID): the issuer (or its discovery document) and
    #: the audience, the claims naming the user and their groups. Without an issuer only
    #: API keys authenticate.
    sharepack_oidc_issuer: str | None = None
    sharepack_oidc_audience: str | None = None
    sharepack_oidc_discovery_url: str | None = None
    sharepack_oidc_user_claim: str = "preferred_username"
    sharepack_oidc_groups_claim: str = "groups"
    sharepack_oidc_leeway_seconds: int = Field(default=60, ge=0, le=600)
    sharepack_oidc_jwks_min_refresh_seconds: int = Field(default=300, ge=0)
    sharepack_oidc_jwks_max_age_seconds: int = Field(default=86_400, ge=60)
    #: Directory group object id -> role and business lines (YAML; see the README).
    sharepack_role_mapping_file: Path | None = None
    #: Which plans need whose approval before they run (YAML; `approvals.policy`).
    #: Without it, no pack waits for approval.
    sharepack_approval_policy_file: Path | None = None
    #: An approval older than this no longer counts: the plan waits for a fresh one.
    sharepack_approval_expiry_hours: float = Field(default=168, gt=0)
    #: The key under which API keys are hashed; kept outside the database. Without it,
    #: one is made once in the data folder (readable by its owner only).
    sharepack_api_key_pepper: SecretStr | None = None
    #: Serve on a non-loopback address with API keys only (no identity provider).
    sharepack_allow_api_keys_only: bool = False
    sharepack_auth_max_failures: int = Field(default=10, ge=1)
    sharepack_auth_failure_window_seconds: float = Field(default=60.0, gt=0)
    #: Microsoft Graph (directory checks and the directory sync): the app registration's
    #: tenant, client id and secret are AZURE_TENANT_ID, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET.
    sharepack_graph_url: str = "https://graph.microsoft.com/v1.0"
    sharepack_graph_authority_host: str = "https://login.microsoftonline.com"
    sharepack_graph_timeout_seconds: float = Field(default=30.0, gt=0)
    sharepack_graph_ca_bundle: Path | None = None
    sharepack_graph_max_retries: int = Field(default=3, ge=0, le=10)
    #: Minutes between directory syncs run by the worker; 0 turns the sync off.
    sharepack_directory_sync_minutes: int = Field(default=60, ge=0)
    #: Minutes between the scheduled sync jobs `serve` and `worker` run (once per interval
    #: across all processes); 0 turns a job off. `inventory` records the catalogs, schemas
    #: and tables packs use in `databricks_objects`; `job_metrics` their pipelines' runs.
    sharepack_sync_inventory_minutes: int = Field(default=60, ge=0)
    sharepack_sync_metrics_minutes: int = Field(default=15, ge=0)
    #: Metrics. The directory where `serve` and the `worker` processes of one host add up
    #: their metrics (default: `metrics` in the data folder); a token `/metrics` asks for
    #: as `Authorization: Bearer` (without one it answers without authentication).
    sharepack_metrics_dir: Path | None = None
    sharepack_metrics_token: SecretStr | None = None

    #: Log lines: `text` (level, logger, message) or `json` (one object per line, with the
    #: pack, run and trace they belong to; `observability.logs`).
    sharepack_log_format: Literal["text", "json"] = "text"
    #: Traces, set by OpenTelemetry's own variables: off unless OTEL_TRACES_EXPORTER names
    #: an exporter (`otlp`, `console`) or an OTLP endpoint is set. OTLP is sent over
    #: HTTP/protobuf; OTEL_EXPORTER_OTLP_ENDPOINT is a base (`/v1/traces` is added), the
    #: TRACES one the full URL. The headers (`key=value,...`) often carry an API key.
    otel_sdk_disabled: bool = False
    otel_traces_exporter: Annotated[tuple[str, ...], NoDecode] = ()
    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_traces_endpoint: str | None = None
    otel_exporter_otlp_headers: SecretStr | None = None
    otel_exporter_otlp_protocol: Literal["http/protobuf"] = "http/protobuf"
    otel_service_name: str = "sharepack"

    @field_validator("sharepack_workspace_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [normalise_workspace_url(u) for u in value.split(",") if u.strip()]
        if isinstance(value, list):
            return [normalise_workspace_url(str(u)) for u in value]
        return value

    @field_validator("sharepack_workspace_urls")
    @classmethod
    def _only_http_urls(cls, urls: list[str]) -> list[str]:
        """An entry sharepack could never reach is refused when the settings load, not
        met later by an upload naming it."""
        wrong = [url for url in urls if not is_workspace_url(url)]
        if wrong:
            named = ", ".join(f"'{url}'" for url in wrong)
            raise ValueError(
                f"{named} {'is not an http(s) URL' if len(wrong) == 1 else 'are not http(s) URLs'}"
                " with a host; list each workspace as https://host"
            )
        return urls

    @field_validator("notification_from_email")
    @classmethod
    def _sender_for_smtp(cls, sender: str | None, info: ValidationInfo) -> str | None:
        if sender is None and info.data.get("smtp_host"):
            raise ValueError("SMTP_HOST is set: name the address notifications are sent from")
        return sender

    @field_validator("sharepack_webhook_url")
    @classmethod
    def _webhook_is_http(cls, url: str | None) -> str | None:
        if url is not None and not is_workspace_url(url):
            raise ValueError(f"'{url}' is not an http(s) URL with a host")
        return url

    @field_validator("sharepack_webhook_secret")
    @classmethod
    def _webhook_is_signed(cls, secret: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if info.data.get("sharepack_webhook_url") and not (secret and secret.get_secret_value()):
            raise ValueError(
                "SHAREPACK_WEBHOOK_URL is set: give the secret its notices are signed with"
            )
        return secret

    @field_validator("otel_traces_exporter", mode="before")
    @classmethod
    def _split_exporters(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(name.strip().lower() for name in value.split(",") if name.strip())
        return value

    @field_validator("otel_traces_exporter")
    @classmethod
    def _known_exporters(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(names) - {"otlp", "console", "none"})
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)}: sharepack sends traces with otlp or console (or none)"
            )
        if "none" in names and len(names) > 1:
            raise ValueError("none turns traces off; name it alone")
        return names

    @property
    def traces_exporters(self) -> tuple[str, ...]:
        """The exporters traces go to: those named, else `otlp` when an OTLP endpoint is set;
        none (traces off) by default, or when OTEL_SDK_DISABLED or `none` says so."""
        if self.otel_sdk_disabled or self.otel_traces_exporter == ("none",):
            return ()
        if self.otel_traces_exporter:
            return self.otel_traces_exporter
        endpoint = self.otel_exporter_otlp_traces_endpoint or self.otel_exporter_otlp_endpoint
        return ("otlp",) if endpoint else ()

    @property
    def otlp_traces_endpoint(self) -> str:
        """Where OTLP traces are posted, as OpenTelemetry's variables say (the collector on
        this host by default)."""
        if self.otel_exporter_otlp_traces_endpoint:
            return self.otel_exporter_otlp_traces_endpoint
        base = self.otel_exporter_otlp_endpoint or "http://localhost:4318"
        return f"{base.rstrip('/')}/v1/traces"

    @property
    def database_url(self) -> str:
        """The configured database, or the embedded SQLite file."""
        if self.domain_db_connection_string:
            return self.domain_db_connection_string
        return f"sqlite:///{(self.sharepack_data_dir / 'sharepack.db').as_posix()}"

    @property
    def metrics_dir(self) -> Path:
        """Where this host's sharepack processes add up their metrics."""
        return self.sharepack_metrics_dir or self.sharepack_data_dir / "metrics"

    @property
    def notifications_configured(self) -> bool:
        """Whether any notice goes out: email (SMTP_HOST) or a webhook."""
        return bool(self.smtp_host or self.sharepack_webhook_url)

    @property
    def oidc_configured(self) -> bool:
        return bool(self.sharepack_oidc_issuer or self.sharepack_oidc_discovery_url)

    @property
    def graph_configured(self) -> bool:
        return bool(self.azure_tenant_id and self.graph_client_id and self.graph_client_secret)

    @property
    def local_admin_key_file(self) -> Path:
        """Where `serve` on a loopback address keeps the local admin key it made."""
        return self.sharepack_data_dir / "admin-api-key"

    @property
    def api_key_pepper_file(self) -> Path:
        return self.sharepack_data_dir / "api-key-pepper"

    def inert_settings(self) -> list[str]:
        """One line for each setting given (in the environment or `.env`) that has no effect."""
        return [
            f"{name.upper()} is set but {INERT_SETTINGS[name]}"
            for name in sorted(self.model_fields_set & INERT_SETTINGS.keys())
        ]

    def is_workspace_allowed(self, url: str) -> bool:
        """Whether `url` is listed, both compared in canonical form (`normalise_workspace_url`)."""
        return normalise_workspace_url(url) in self.sharepack_workspace_urls


def load_settings() -> Settings:
    """The settings from the environment and `.env`; a value that cannot be used raises
    `ConfigurationError`, one line naming each such setting and what is wrong with it."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper()}: "
            f"{str(error['msg']).removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"Invalid settings: {problems}") from None
