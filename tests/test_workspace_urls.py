"""Workspace URLs are compared and stored in one canonical form; the allow-list decides on
it, before any request is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from sharepack.settings import Settings
from sharepack.workspace.urls import normalise_workspace_url


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("https://adb-1.azuredatabricks.net", "https://adb-1.azuredatabricks.net"),
        ("HTTPS://ADB-1.AzureDatabricks.NET/", "https://adb-1.azuredatabricks.net"),
        ("https://adb-1.azuredatabricks.net:443", "https://adb-1.azuredatabricks.net"),
        ("https://adb-1.azuredatabricks.net:8443/", "https://adb-1.azuredatabricks.net:8443"),
        ("http://127.0.0.1:80/", "http://127.0.0.1"),
        ("http://127.0.0.1:443", "http://127.0.0.1:443"),
        ("https://host:80", "https://host:80"),
        ("  http://LocalHost:8001//  ", "http://localhost:8001"),
        ("https://host/Proxy/Workspace/", "https://host/Proxy/Workspace"),
        ("https://host/?o=1234567890123456", "https://host"),
        ("https://host#fragment", "https://host"),
        ("https://someone:secret@host:443/", "https://host"),
        ("http://[::1]:8001/", "http://[::1]:8001"),
        ("http://[FE80::1]:80", "http://[fe80::1]"),
    ],
)
def test_urls_are_compared_in_canonical_form(given: str, canonical: str) -> None:
    assert normalise_workspace_url(given) == canonical


@pytest.mark.parametrize(
    "given", ["adb-1.azuredatabricks.net", "ftp://host", "https://", "http://host:port", ""]
)
def test_text_that_is_not_a_workspace_url_is_kept_as_written(given: str) -> None:
    assert normalise_workspace_url(f" {given} ") == given


def test_the_canonical_form_is_its_own_canonical_form() -> None:
    once = normalise_workspace_url("HTTPS://Host.Example:443/A/B/")

    assert normalise_workspace_url(once) == once == "https://host.example/A/B"


def test_two_spellings_of_one_host_stay_two_urls() -> None:
    assert normalise_workspace_url("http://localhost:8001") != normalise_workspace_url(
        "http://127.0.0.1:8001"
    )


def _allowing(*urls: str) -> Settings:
    return Settings(_env_file=None, sharepack_workspace_urls=list(urls))


def test_the_allow_list_is_kept_in_canonical_form() -> None:
    settings = _allowing("HTTPS://ADB-1.azuredatabricks.net:443/", "http://127.0.0.1:8001/")

    assert settings.sharepack_workspace_urls == [
        "https://adb-1.azuredatabricks.net",
        "http://127.0.0.1:8001",
    ]


@pytest.mark.parametrize(
    "spelling",
    [
        "https://adb-1.azuredatabricks.net",
        "https://ADB-1.azuredatabricks.net/",
        "https://adb-1.azuredatabricks.net:443",
        "HTTPS://adb-1.azuredatabricks.net:443/",
    ],
)
def test_any_spelling_of_a_listed_url_is_allowed(spelling: str) -> None:
    assert _allowing("https://adb-1.azuredatabricks.net/").is_workspace_allowed(spelling)


@pytest.mark.parametrize(
    "other",
    [
        "http://adb-1.azuredatabricks.net",  # another scheme
        "https://adb-1.azuredatabricks.net:8443",  # another port
        "https://adb-1.azuredatabricks.net.evil.example",
        "https://evil.example/https://adb-1.azuredatabricks.net",
        "https://adb-1.azuredatabricks.net@evil.example",
        "https://adb-2.azuredatabricks.net",
        "adb-1.azuredatabricks.net",
    ],
)
def test_a_url_that_is_not_listed_is_refused(other: str) -> None:
    assert not _allowing("https://adb-1.azuredatabricks.net").is_workspace_allowed(other)


def test_localhost_and_its_address_must_each_be_listed() -> None:
    settings = _allowing("http://127.0.0.1:8001")

    assert settings.is_workspace_allowed("http://127.0.0.1:8001/")
    assert not settings.is_workspace_allowed("http://localhost:8001")
    assert _allowing("http://127.0.0.1:8001", "http://localhost:8001").is_workspace_allowed(
        "http://LOCALHOST:8001"
    )


def test_the_allow_list_from_the_environment_is_canonical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(
        "SHAREPACK_WORKSPACE_URLS", " https://A.example.com:443/ ,, http://b.example.com:80"
    )

    settings = Settings()

    assert settings.sharepack_workspace_urls == ["https://a.example.com", "http://b.example.com"]
