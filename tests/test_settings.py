"""Settings come from the environment or `.env`, under the original deployment's names."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from sharepack.errors import ConfigurationError
from sharepack.runtime import build_runtime, sdk_workspace_factory
from sharepack.settings import DEFAULT_DATA_DIR, INERT_SETTINGS, Settings, load_settings
from sharepack.workspace.sdk_client import PRINCIPAL_SETTINGS, TOKEN_SETTING


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the caller's environment, and no `.env` but the test's own."""
    for key in list(os.environ):
        if key.lower() in Settings.model_fields:
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_the_embedded_ones() -> None:
    settings = Settings()

    assert settings.sharepack_data_dir == DEFAULT_DATA_DIR
    assert settings.database_url == "sqlite:///.sharepack/sharepack.db"
    assert settings.azure_queue_connection_string is None
    assert settings.azure_queue_name == "sharepack-processing"
    assert settings.sharepack_workspace_urls == []
    assert settings.databricks_token is None
    assert settings.enable_workflow is True
    assert settings.sharepack_max_upload_bytes == 5 * 1024 * 1024
    assert settings.sharepack_apply_concurrency == 16
    assert settings.sharepack_adaptive_rate_limit is True
    assert settings.sharepack_workspace_start_rate == 10.0
    assert settings.sharepack_auto_rollback is True
    assert settings.sharepack_fail_on_existing_with_new is False
    assert settings.sharepack_worker_poll_seconds == 0.5
    assert settings.sharepack_lease_seconds == 300
    assert settings.sharepack_pipeline_wait_seconds == 1800
    assert settings.sharepack_lock_wait_seconds == 1800
    assert settings.sharepack_workspace_timeout_seconds == 60
    assert settings.sharepack_workspace_retry_seconds == 60
    assert settings.metrics_dir == DEFAULT_DATA_DIR / "metrics"
    assert settings.sharepack_metrics_token is None


def test_dotenv_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "DOMAIN_DB_CONNECTION_STRING=postgresql://sp@db.example.com/sharepack\n"
        "DATABRICKS_TOKEN=dapi-from-dotenv\n"
        "SHAREPACK_APPLY_CONCURRENCY=3\n",
        encoding="utf-8",
    )

    settings = Settings()

    assert settings.database_url == "postgresql://sp@db.example.com/sharepack"
    assert settings.databricks_token is not None
    assert settings.databricks_token.get_secret_value() == "dapi-from-dotenv"
    assert settings.sharepack_apply_concurrency == 3


def test_dotenv_file_can_be_named(tmp_path: Path) -> None:
    elsewhere = tmp_path / "conf" / "sharepack.env"
    elsewhere.parent.mkdir()
    elsewhere.write_text("AZURE_QUEUE_NAME=from-named-file\n", encoding="utf-8")

    settings = Settings(_env_file=elsewhere)

    assert settings.azure_queue_name == "from-named-file"


def test_environment_wins_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("AZURE_QUEUE_NAME=from-dotenv\n", encoding="utf-8")
    monkeypatch.setenv("AZURE_QUEUE_NAME", "from-environment")

    assert Settings().azure_queue_name == "from-environment"


def test_workspace_urls_are_split_on_commas_and_normalised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "SHAREPACK_WORKSPACE_URLS",
        " https://ADB-1.azuredatabricks.net/ ,, http://127.0.0.1:8001/,https://adb-2.net ",
    )

    settings = Settings()

    assert settings.sharepack_workspace_urls == [
        "https://adb-1.azuredatabricks.net",
        "http://127.0.0.1:8001",
        "https://adb-2.net",
    ]
    assert settings.is_workspace_allowed("HTTPS://adb-1.azuredatabricks.net/")
    assert not settings.is_workspace_allowed("https://adb-3.net")


def test_workspace_urls_from_dotenv_are_split_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "SHAREPACK_WORKSPACE_URLS=https://a.example.com/,https://B.example.com\n",
        encoding="utf-8",
    )

    assert Settings().sharepack_workspace_urls == ["https://a.example.com", "https://b.example.com"]


@pytest.mark.parametrize(
    "variable", ["SHAREPACK_DATA_DIR", "sharepack_data_dir", "Sharepack_Data_Dir"]
)
def test_names_are_case_insensitive(
    variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, str(tmp_path / "data"))

    settings = Settings()

    assert settings.sharepack_data_dir == tmp_path / "data"
    assert settings.database_url == f"sqlite:///{(tmp_path / 'data' / 'sharepack.db').as_posix()}"


def test_names_in_dotenv_are_case_insensitive(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("sharepack_auto_rollback=false\n", encoding="utf-8")

    assert Settings().sharepack_auto_rollback is False


def test_the_originals_names_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    original = {
        "enable_workflow": "false",
        "azure_queue_connection_string": "UseDevelopmentStorage=true",
        "sync_queue_name": "sync-original",
        "azure_tenant_id": "tenant-1",
        "graph_client_id": "graph-1",
        "graph_client_secret": "graph-secret",
        "smtp_host": "smtp.example.com",
        "smtp_port": "25",
        "smtp_username": "mailer",
        "smtp_password": "mail-secret",
        "notification_from_email": "noreply@example.com",
        "azure_subscription_id": "sub-1",
        "account_id": "account-1",
        "client_id": "sp-1",
        "client_secret": "sp-secret",
    }
    for name, value in original.items():
        monkeypatch.setenv(name.upper(), value)

    settings = Settings()

    assert settings.enable_workflow is False
    assert settings.azure_queue_connection_string is not None
    assert settings.azure_queue_connection_string.get_secret_value() == (
        "UseDevelopmentStorage=true"
    )
    assert settings.sync_queue_name == "sync-original"
    assert (settings.azure_tenant_id, settings.graph_client_id) == ("tenant-1", "graph-1")
    assert settings.graph_client_secret is not None
    assert settings.graph_client_secret.get_secret_value() == "graph-secret"
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_username) == (
        "smtp.example.com",
        25,
        "mailer",
    )
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == "mail-secret"
    assert settings.notification_from_email == "noreply@example.com"
    assert (settings.azure_subscription_id, settings.account_id) == ("sub-1", "account-1")
    assert settings.client_id == "sp-1"
    assert settings.client_secret is not None
    assert settings.client_secret.get_secret_value() == "sp-secret"


def test_secrets_are_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-very-secret")
    monkeypatch.setenv("AZURE_QUEUE_CONNECTION_STRING", "AccountKey=very-secret")

    shown = repr(Settings())

    assert "very-secret" not in shown


def test_unknown_names_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREPACK_NO_SUCH_SETTING", "x")

    assert Settings().azure_queue_name == "sharepack-processing"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SHAREPACK_APPLY_CONCURRENCY", "0"),
        ("SHAREPACK_WORKER_POLL_SECONDS", "0"),
        ("SHAREPACK_WORKSPACE_TIMEOUT_SECONDS", "0"),
        ("SHAREPACK_WORKSPACE_RETRY_SECONDS", "0"),
        ("SHAREPACK_WORKSPACE_RETRY_SECONDS", "0.5"),
    ],
)
def test_out_of_range_values_are_refused(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError, match=variable.lower()):
        Settings()


def test_each_setting_is_used_or_listed_as_having_no_effect() -> None:
    package = Path(__file__).parents[1] / "src" / "sharepack"
    source = "\n".join(path.read_text() for path in package.rglob("*.py"))
    unused = [
        name
        for name in Settings.model_fields
        if f".{name}" not in source and name not in INERT_SETTINGS
    ]
    assert unused == []
    assert [name for name in INERT_SETTINGS if f".{name}" in source] == []


def test_a_setting_with_no_effect_is_named_in_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ENABLE_WORKFLOW", "false")
    monkeypatch.setenv("SYNC_QUEUE_NAME", "sync-elsewhere")
    settings = Settings(sharepack_data_dir=tmp_path)

    with caplog.at_level(logging.WARNING, logger="sharepack.runtime"):
        build_runtime(settings).close()

    warned = [r.getMessage() for r in caplog.records]
    assert [line.split(" ", 1)[0] for line in warned] == ["ENABLE_WORKFLOW", "SYNC_QUEUE_NAME"]
    assert "no effect" in warned[0]
    assert "drift and sync" in warned[1]


def test_settings_left_unset_warn_of_nothing(tmp_path: Path) -> None:
    assert Settings(sharepack_data_dir=tmp_path).inert_settings() == []


@pytest.mark.parametrize("entry", ["ftp://weird", "adb-1.azuredatabricks.net", "https://"])
def test_an_allow_list_entry_that_is_not_an_http_url_is_refused_naming_it(
    entry: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHAREPACK_WORKSPACE_URLS", f"https://adb-1.example.net,{entry}")

    with pytest.raises(ConfigurationError) as refused:
        load_settings()

    assert str(refused.value) == (
        f"Invalid settings: SHAREPACK_WORKSPACE_URLS: '{entry}' is not an http(s) URL with a "
        "host; list each workspace as https://host"
    )


def test_settings_given_in_code_refuse_an_entry_that_is_not_an_http_url_too() -> None:
    with pytest.raises(ValidationError, match="'ftp://weird' is not an http"):
        Settings(sharepack_workspace_urls=["https://adb-1.example.net", "ftp://weird"])


def test_every_unusable_setting_is_named_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREPACK_WORKSPACE_URLS", "ftp://a,gopher://b")
    monkeypatch.setenv("SHAREPACK_APPLY_CONCURRENCY", "0")

    with pytest.raises(ConfigurationError) as refused:
        load_settings()

    message = str(refused.value)
    assert "\n" not in message
    assert "SHAREPACK_WORKSPACE_URLS: 'ftp://a', 'gopher://b' are not http(s) URLs" in message
    assert "SHAREPACK_APPLY_CONCURRENCY: Input should be greater than or equal to 1" in message


def test_the_workspace_timeouts_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHAREPACK_WORKSPACE_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("SHAREPACK_WORKSPACE_RETRY_SECONDS", "7")

    settings = Settings()

    assert settings.sharepack_workspace_timeout_seconds == 2.5
    assert settings.sharepack_workspace_retry_seconds == 7


def test_every_workspace_client_takes_the_timeouts_of_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        sharepack_data_dir=tmp_path,
        databricks_token=SecretStr("dapi-unused"),
        sharepack_workspace_timeout_seconds=2.5,
        sharepack_workspace_retry_seconds=7,
    )
    made: list[dict[str, object]] = []

    def recording_client(url: str, **options: object) -> object:
        made.append(options)
        raise _MadeError

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sharepack.runtime.make_client", recording_client)
        for workspace_for in (
            build_runtime(settings).workspace_for,
            sdk_workspace_factory(settings, on_request=lambda: None),
        ):
            with pytest.raises(_MadeError):
                workspace_for("https://adb-1.example.net")

    assert [(o["http_timeout_seconds"], o["retry_timeout_seconds"]) for o in made] == [
        (2.5, 7),
        (2.5, 7),
    ]


class _MadeError(Exception):
    """Stops the factory once the client's options are recorded."""


def test_the_credential_settings_errors_name_are_settings() -> None:
    named = {TOKEN_SETTING, *PRINCIPAL_SETTINGS}

    assert named <= {name.upper() for name in Settings.model_fields}
