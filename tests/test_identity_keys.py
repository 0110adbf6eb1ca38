"""API keys and the failure throttle: the pieces of key authentication without a server."""

from __future__ import annotations

import pytest

from sharepack.errors import AuthenticationError, TooManyFailuresError
from sharepack.identity.api_keys import looks_like_api_key, make_key, matches, parse_key
from sharepack.identity.principal import ALL_BUSINESS_LINES, AuthMethod, Grant, Principal, Role
from sharepack.identity.throttle import FailureThrottle

PEPPER = b"p" * 32


def test_a_key_parses_back_and_matches_its_hash_only_under_its_pepper() -> None:
    key = make_key(PEPPER)
    presented = parse_key(key.plaintext)
    assert presented.key_id == key.key_id
    assert matches(presented, key.key_hash, PEPPER)
    assert not matches(presented, key.key_hash, b"q" * 32)
    assert key.plaintext not in key.key_hash
    assert looks_like_api_key(key.plaintext)


def test_keys_are_random_with_at_least_128_bits() -> None:
    keys = [make_key(PEPPER) for _ in range(200)]
    assert len({k.plaintext for k in keys}) == 200
    secret = parse_key(keys[0].plaintext).secret
    assert len(secret) * 6 >= 128  # urlsafe base64: 6 bits per character


def test_a_changed_secret_does_not_match() -> None:
    key = make_key(PEPPER)
    presented = parse_key(key.plaintext)
    flipped = presented.secret[:-1] + ("A" if presented.secret[-1] != "A" else "B")
    assert not matches(parse_key(f"spk_{key.key_id}_{flipped}"), key.key_hash, PEPPER)


@pytest.mark.parametrize(
    "credential", ["spk_", "spk_zz_abc", "spk_0123456789ab_short", "Bearer spk_x", ""]
)
def test_a_malformed_key_is_refused_saying_what_shape_is_expected(credential: str) -> None:
    with pytest.raises(AuthenticationError, match="malformed"):
        parse_key(credential)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_throttle_refuses_after_max_failures_until_the_oldest_ages_out() -> None:
    clock = Clock()
    throttle = FailureThrottle(3, 60, clock=clock)
    for _ in range(3):
        throttle.check("10.0.0.1")
        throttle.failed("10.0.0.1")
        clock.now += 10
    with pytest.raises(TooManyFailuresError) as refused:
        throttle.check("10.0.0.1")
    assert refused.value.retry_after == 30
    throttle.check("10.0.0.2")  # another client is not slowed
    clock.now += 30
    throttle.check("10.0.0.1")


def test_principal_roles_are_per_business_line() -> None:
    requestor = Principal(
        "key:ci",
        AuthMethod.API_KEY,
        (Grant(Role.REQUESTOR, ("Sales Operations",)),),
        email="ci@example.com",
    )
    assert requestor.may_submit("sales operations ")
    assert not requestor.may_submit("Finance")
    assert requestor.may_read("Sales Operations")
    assert not requestor.may_read("Finance")
    assert requestor.may_act_for("CI@example.com")
    assert not requestor.may_act_for("someone@example.com")
    auditor = Principal("a", AuthMethod.OIDC, (Grant(Role.AUDITOR, (ALL_BUSINESS_LINES,)),))
    assert auditor.may_read("Finance")
    assert not auditor.may_submit("Finance")
    admin = Principal("b", AuthMethod.OIDC, (Grant(Role.ADMIN, (ALL_BUSINESS_LINES,)),))
    assert admin.is_admin
    assert admin.may_submit("Finance")
    assert admin.may_act_for("x@y.z")
