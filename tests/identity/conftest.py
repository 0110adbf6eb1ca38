"""The local OIDC issuer as a fixture: started for the test, stopped after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.identity.issuer import LocalIssuer


@pytest.fixture
def local_issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer() as issuer:
        yield issuer
