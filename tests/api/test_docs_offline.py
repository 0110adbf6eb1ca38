"""`/docs` and `/redoc` work without the internet: every script, stylesheet and icon they
load comes from the API itself."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The pages read no database: one backend is enough."""
    return f"sqlite:///{(tmp_path / 'sharepack.db').as_posix()}"


class _References(HTMLParser):
    """Every URL a page loads: `src` and `href` attributes, and ReDoc's `spec-url`."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls.extend(
            value for name, value in attrs if name in ("src", "href", "spec-url") and value
        )


def _references(page: str) -> list[str]:
    parser = _References()
    parser.feed(page)
    return parser.urls


ASSET_TYPES = ("javascript", "text/css", "image/")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_documentation_pages_load_only_what_the_api_serves(
    client: httpx.Client, page: str
) -> None:
    response = client.get(page)
    urls = _references(response.text)

    assert response.status_code == 200
    assert "cdn.jsdelivr.net" not in response.text
    assert "fonts.googleapis.com" not in response.text
    foreign = [url for url in urls if urlsplit(url).scheme or urlsplit(url).netloc]
    assert foreign == []
    assets = [url for url in urls if url != "/openapi.json"]
    assert any(url.endswith(".js") for url in assets)
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert any(kind in asset.headers["content-type"] for kind in ASSET_TYPES), url
        assert asset.content


def test_swagger_ui_loads_its_stylesheet_and_icon_from_the_api(client: httpx.Client) -> None:
    urls = _references(client.get("/docs").text)

    stylesheet = [url for url in urls if url.endswith(".css")]
    icon = [url for url in urls if url.endswith((".png", ".ico", ".svg"))]

    assert [urlsplit(url).netloc for url in stylesheet + icon] == ["", ""]
    assert client.get(stylesheet[0]).headers["content-type"].startswith("text/css")
    assert client.get(icon[0]).headers["content-type"].startswith("image/")
