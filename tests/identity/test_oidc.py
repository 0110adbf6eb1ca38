"""Bearer token verification against a local issuer: what is accepted, what is refused and
why, key rotation, and the identity provider being down."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sharepack.errors import AuthenticationError, IdentityProviderUnavailableError
from sharepack.identity.oidc import OidcVerifier, VerifiedToken
from tests.identity.issuer import LocalIssuer, public_pem, rsa_key

GROUP = "3f2c9a4e-0b6d-4c1e-9f7a-2d5e8b1c0a93"


class Clock:
    """The verifier's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(local_issuer: LocalIssuer, clock: Clock) -> Iterator[OidcVerifier]:
    verifier = OidcVerifier(local_issuer.settings(), clock=clock)
    yield verifier
    verifier.close()


def refused(verifier: OidcVerifier, token: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        verifier.verify(token)
    assert not token or token not in caught.value.message
    return caught.value.message


# -- accepted tokens --------------------------------------------------------------------


def test_a_token_of_the_issuer_for_the_audience_is_accepted(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    token = local_issuer.mint({"groups": [GROUP, "a1b2"], "email": "alice@example.com"})
    verified = verifier.verify(token)
    assert isinstance(verified, VerifiedToken)
    assert verified.user == "alice@example.com"
    assert verified.email == "alice@example.com"
    assert verified.groups == (GROUP, "a1b2")
    assert verified.subject == local_issuer.claims()["sub"]
    assert verified.claims["oid"] == local_issuer.claims()["oid"]
    assert local_issuer.discovery_fetches == 1
    assert local_issuer.jwks_fetches == 1


def test_the_keys_are_fetched_once_for_many_tokens(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    for _ in range(5):
        verifier.verify(local_issuer.mint())
    assert local_issuer.jwks_fetches == 1
    assert local_issuer.discovery_fetches == 1


def test_nothing_is_fetched_before_the_first_token(local_issuer: LocalIssuer) -> None:
    OidcVerifier(local_issuer.settings()).close()
    assert local_issuer.discovery_fetches == local_issuer.jwks_fetches == 0


def test_groups_are_empty_when_the_token_has_none(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    assert verifier.verify(local_issuer.mint(omit=["groups"])).groups == ()


def test_groups_are_read_from_the_configured_claim(local_issuer: LocalIssuer, clock: Clock) -> None:
    verifier = OidcVerifier(local_issuer.settings(groups_claim="roles"), clock=clock)
    token = local_issuer.mint({"roles": [GROUP], "groups": ["other"]})
    assert verifier.verify(token).groups == (GROUP,)


def test_groups_that_are_not_a_list_of_strings_are_refused(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    message = refused(verifier, local_issuer.mint({"groups": GROUP}))
    assert "'groups' claim is not a list" in message


@pytest.mark.parametrize(
    ("claims", "omit", "user", "email"),
    [
        ({"preferred_username": "alice@example.com"}, [], "alice@example.com", "alice@example.com"),
        ({"upn": "bob@example.com"}, ["preferred_username"], "bob@example.com", "bob@example.com"),
        (
            {"email": "carol@example.com"},
            ["preferred_username"],
            "carol@example.com",
            "carol@example.com",
        ),
        ({}, ["preferred_username"], "xV2bT9kQ1mN7pL4sR8uW3yZ6aC0dE5fG", None),
        ({"preferred_username": "svc-reporting"}, [], "svc-reporting", None),
        (
            {"preferred_username": "dave", "email": "dave@example.com"},
            [],
            "dave",
            "dave@example.com",
        ),
    ],
    ids=["preferred_username", "upn", "email", "sub", "no-address", "email-claim"],
)
def test_the_user_falls_back_from_the_user_claim_to_upn_email_and_sub(
    local_issuer: LocalIssuer,
    verifier: OidcVerifier,
    claims: dict[str, Any],
    omit: list[str],
    user: str,
    email: str | None,
) -> None:
    verified = verifier.verify(local_issuer.mint(claims, omit=omit))
    assert verified.user == user
    assert verified.email == email


def test_the_user_claim_is_configurable(local_issuer: LocalIssuer, clock: Clock) -> None:
    verifier = OidcVerifier(local_issuer.settings(user_claim="oid"), clock=clock)
    verified = verifier.verify(local_issuer.mint())
    assert verified.user == local_issuer.claims()["oid"]
    assert verified.email is None


# -- refused tokens ---------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30"])
def test_a_malformed_token_is_refused(verifier: OidcVerifier, token: str) -> None:
    assert "malformed" in refused(verifier, token)


def test_a_token_without_a_kid_is_refused(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    assert "no key id (`kid`)" in refused(verifier, local_issuer.mint(kid=None))
    assert local_issuer.jwks_fetches == 0


def test_alg_none_is_refused(local_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    token = local_issuer.forge({"alg": "none", "typ": "JWT", "kid": local_issuer.kid})
    assert "algorithm 'none'" in refused(verifier, token)


def test_hs256_signed_with_the_public_key_is_refused(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    """The classic confusion: the public key (which anyone can fetch) used as an HMAC
    secret, hoping the verifier picks the algorithm from the token."""
    header = {"alg": "HS256", "typ": "JWT", "kid": local_issuer.kid}
    token = local_issuer.forge(header, hmac_secret=public_pem(local_issuer.key))
    assert "algorithm 'HS256'" in refused(verifier, token)
    assert "only RS256" in refused(verifier, token)


@pytest.mark.parametrize("algorithm", ["RS512", "PS256", "ES256"])
def test_other_algorithms_are_refused(
    local_issuer: LocalIssuer, verifier: OidcVerifier, algorithm: str
) -> None:
    token = local_issuer.forge({"alg": algorithm, "kid": local_issuer.kid})
    assert f"algorithm {algorithm!r}" in refused(verifier, token)


def test_a_token_signed_by_another_key_under_a_known_kid_has_a_bad_signature(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    token = local_issuer.mint(key=rsa_key("stranger"))
    assert "bad signature" in refused(verifier, token)


def test_an_altered_token_has_a_bad_signature(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    header, _, signature = local_issuer.mint().split(".")
    other_payload = local_issuer.mint({"groups": [GROUP]}).split(".")[1]
    assert "bad signature" in refused(verifier, f"{header}.{other_payload}.{signature}")


def test_an_expired_token_is_refused(
    local_issuer: LocalIssuer, verifier: OidcVerifier, clock: Clock
) -> None:
    token = local_issuer.mint({"exp": int(clock.now) - 61})
    assert "expired" in refused(verifier, token)


def test_a_token_expired_within_the_leeway_is_accepted(
    local_issuer: LocalIssuer, verifier: OidcVerifier, clock: Clock
) -> None:
    token = local_issuer.mint({"exp": int(clock.now) - 30})
    verifier.verify(token)
    clock.advance(31)
    assert "expired" in refused(verifier, token)


def test_the_leeway_is_configurable(local_issuer: LocalIssuer, clock: Clock) -> None:
    verifier = OidcVerifier(local_issuer.settings(leeway_seconds=0), clock=clock)
    assert "expired" in refused(verifier, local_issuer.mint({"exp": int(clock.now) - 1}))


def test_a_token_not_yet_valid_is_refused(
    local_issuer: LocalIssuer, verifier: OidcVerifier, clock: Clock
) -> None:
    token = local_issuer.mint({"nbf": int(clock.now) + 120})
    assert "not yet valid" in refused(verifier, token)
    clock.advance(60)
    assert verifier.verify(token).user == "alice@example.com"


def test_a_token_issued_in_the_future_is_refused(
    local_issuer: LocalIssuer, verifier: OidcVerifier, clock: Clock
) -> None:
    token = local_issuer.mint({"iat": int(clock.now) + 600, "nbf": int(clock.now)})
    assert "issued" in refused(verifier, token)


def test_a_token_without_exp_is_refused(local_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    assert "no 'exp' claim" in refused(verifier, local_issuer.mint(omit=["exp"]))


@pytest.mark.parametrize("claim", ["iss", "aud"])
def test_a_token_without_iss_or_aud_is_refused(
    local_issuer: LocalIssuer, verifier: OidcVerifier, claim: str
) -> None:
    assert f"no {claim!r} claim" in refused(verifier, local_issuer.mint(omit=[claim]))


def test_a_non_numeric_exp_is_malformed(local_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    message = refused(verifier, local_issuer.mint({"exp": "tomorrow"}))
    assert "'exp' claim is not a number" in message


def test_a_token_for_another_audience_is_refused(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    message = refused(verifier, local_issuer.mint({"aud": "api://someone-else"}))
    assert f"wrong audience 'api://someone-else' (expected '{local_issuer.audience}')" in message


def test_a_token_of_another_issuer_is_refused(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    other = "https://login.microsoftonline.com/another-tenant/v2.0"
    message = refused(verifier, local_issuer.mint({"iss": other}))
    assert f"wrong issuer '{other}'" in message
    assert local_issuer.issuer in message


def test_groups_overage_is_refused_with_what_to_configure(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    overage = {
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/..."}},
    }
    message = refused(verifier, local_issuer.mint(overage, omit=["groups"]))
    assert "too many groups" in message
    assert "Groups assigned to the application" in message


def test_hasgroups_is_refused_as_overage(local_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    message = refused(verifier, local_issuer.mint({"hasgroups": True}, omit=["groups"]))
    assert "too many groups" in message


# -- key rotation -----------------------------------------------------------------------


def test_a_key_rotation_is_picked_up_with_one_refetch(
    local_issuer: LocalIssuer, verifier: OidcVerifier, clock: Clock
) -> None:
    old_token = local_issuer.mint()
    verifier.verify(old_token)
    assert local_issuer.jwks_fetches == 1

    clock.advance(301)
    new_kid = local_issuer.rotate()
    new_token = local_issuer.mint()
    assert new_kid != "key-1"
    assert verifier.verify(new_token).user == "alice@example.com"
    assert local_issuer.jwks_fetches == 2
    verifier.verify(local_issuer.mint())
    assert local_issuer.jwks_fetches == 2

    # The old key left the JWKS: its tokens are refused, and within the refresh floor an
    # unknown kid does not make another fetch.
    assert "unknown signing key 'key-1'" in refused(verifier, old_token)
    assert "unknown signing key 'forged'" in refused(verifier, local_issuer.mint(kid="forged"))
    assert local_issuer.jwks_fetches == 2
    assert local_issuer.discovery_fetches == 1


def test_an_unknown_kid_within_the_refresh_floor_does_not_refetch(
    local_issuer: LocalIssuer, verifier: OidcVerifier, clock: Clock
) -> None:
    verifier.verify(local_issuer.mint())
    local_issuer.rotate()
    token = local_issuer.mint()
    clock.advance(299)
    assert "unknown signing key" in refused(verifier, token)
    assert local_issuer.jwks_fetches == 1
    clock.advance(2)
    verifier.verify(token)
    assert local_issuer.jwks_fetches == 2


def test_an_unknown_kid_refetches_once_and_then_not_again(
    local_issuer: LocalIssuer, verifier: OidcVerifier, clock: Clock
) -> None:
    verifier.verify(local_issuer.mint())
    clock.advance(301)
    assert "unknown signing key 'made-up'" in refused(verifier, local_issuer.mint(kid="made-up"))
    assert local_issuer.jwks_fetches == 2
    assert "unknown signing key 'other'" in refused(verifier, local_issuer.mint(kid="other"))
    assert local_issuer.jwks_fetches == 2


def test_the_refresh_floor_is_configurable(local_issuer: LocalIssuer, clock: Clock) -> None:
    verifier = OidcVerifier(local_issuer.settings(jwks_min_refresh_seconds=0), clock=clock)
    verifier.verify(local_issuer.mint())
    local_issuer.rotate()
    verifier.verify(local_issuer.mint())
    assert local_issuer.jwks_fetches == 2


def test_concurrent_tokens_with_a_new_kid_make_one_refetch(
    local_issuer: LocalIssuer, verifier: OidcVerifier, clock: Clock
) -> None:
    verifier.verify(local_issuer.mint())
    clock.advance(301)
    local_issuer.rotate()
    token = local_issuer.mint()
    start = threading.Barrier(8)
    users: list[str] = []

    def verify() -> None:
        start.wait()
        users.append(verifier.verify(token).user)

    threads = [threading.Thread(target=verify) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert users == ["alice@example.com"] * 8
    assert local_issuer.jwks_fetches == 2


# -- the identity provider unavailable ---------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"), [(503, None), (404, None), (200, b"<html>maintenance</html>")]
)
def test_jwks_failing_makes_the_provider_unavailable(
    local_issuer: LocalIssuer, verifier: OidcVerifier, status: int, body: bytes | None
) -> None:
    local_issuer.fail(status, body=body)
    with pytest.raises(IdentityProviderUnavailableError) as caught:
        verifier.verify(local_issuer.mint())
    assert local_issuer.jwks_url in caught.value.message
    assert (str(status) if status != 200 else "not JSON") in caught.value.message


def test_the_provider_unreachable_refuses_every_token_then_recovers(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    local_issuer.fail(503)
    for _ in range(2):
        with pytest.raises(IdentityProviderUnavailableError):
            verifier.verify(local_issuer.mint())
    assert local_issuer.jwks_fetches == 2  # no failure is cached: each request tries again
    local_issuer.recover()
    assert verifier.verify(local_issuer.mint()).user == "alice@example.com"


def test_the_provider_stopped_is_unavailable(local_issuer: LocalIssuer, clock: Clock) -> None:
    verifier = OidcVerifier(local_issuer.settings(timeout_seconds=5), clock=clock)
    token = local_issuer.mint()
    local_issuer.stop()
    with pytest.raises(IdentityProviderUnavailableError) as caught:
        verifier.verify(token)
    assert "Could not fetch" in caught.value.message
    assert local_issuer.discovery_url in caught.value.message


def test_cached_keys_verify_while_the_provider_is_down(
    local_issuer: LocalIssuer, verifier: OidcVerifier, clock: Clock
) -> None:
    verifier.verify(local_issuer.mint())
    local_issuer.stop()
    clock.advance(3600)
    token = local_issuer.mint({"exp": int(clock.now) + 600})
    assert verifier.verify(token).user == "alice@example.com"


def test_an_unknown_kid_while_the_provider_is_down_is_unavailable_not_accepted(
    local_issuer: LocalIssuer, verifier: OidcVerifier, clock: Clock
) -> None:
    verifier.verify(local_issuer.mint())
    local_issuer.rotate()
    local_issuer.fail(503)
    clock.advance(301)
    with pytest.raises(IdentityProviderUnavailableError):
        verifier.verify(local_issuer.mint())
    local_issuer.recover()
    verifier.verify(local_issuer.mint())


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [(500, None, "HTTP 500"), (200, b"not json", "not JSON"), (200, b"[1, 2]", "JSON object")],
)
def test_a_bad_discovery_document_makes_the_provider_unavailable(
    local_issuer: LocalIssuer,
    verifier: OidcVerifier,
    status: int,
    body: bytes | None,
    expected: str,
) -> None:
    local_issuer.fail(status, endpoint="discovery", body=body)
    with pytest.raises(IdentityProviderUnavailableError) as caught:
        verifier.verify(local_issuer.mint())
    assert expected in caught.value.message
    assert "discovery document" in caught.value.message
    assert local_issuer.jwks_fetches == 0


def test_a_discovery_document_of_another_issuer_is_refused(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    other = "https://login.microsoftonline.com/{tenantid}/v2.0"
    local_issuer.override_discovery(issuer=other)
    with pytest.raises(IdentityProviderUnavailableError) as caught:
        verifier.verify(local_issuer.mint())
    assert other in caught.value.message
    assert local_issuer.issuer in caught.value.message
    assert local_issuer.jwks_fetches == 0


def test_a_discovery_document_without_jwks_uri_is_refused(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    local_issuer.override_discovery(jwks_uri=None)
    with pytest.raises(IdentityProviderUnavailableError, match="no 'jwks_uri'"):
        verifier.verify(local_issuer.mint())


def test_a_jwks_without_rsa_signing_keys_is_unavailable(
    local_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    keys = b'{"keys": [{"kty": "oct", "kid": "key-1", "k": "c2VjcmV0"}]}'
    local_issuer.fail(200, body=keys)
    with pytest.raises(IdentityProviderUnavailableError, match="no RSA signing key"):
        verifier.verify(local_issuer.mint())


def test_the_discovery_url_is_configurable(local_issuer: LocalIssuer, clock: Clock) -> None:
    elsewhere = f"{local_issuer.base_url}/elsewhere/.well-known/openid-configuration"
    verifier = OidcVerifier(local_issuer.settings(discovery_url=elsewhere), clock=clock)
    with pytest.raises(IdentityProviderUnavailableError, match="HTTP 404"):
        verifier.verify(local_issuer.mint())
    verifier = OidcVerifier(
        local_issuer.settings(discovery_url=local_issuer.discovery_url), clock=clock
    )
    verifier.verify(local_issuer.mint())


def test_a_given_http_client_is_used(local_issuer: LocalIssuer, clock: Clock) -> None:
    seen: list[str] = []
    with httpx.Client(event_hooks={"request": [lambda r: seen.append(str(r.url))]}) as http:
        verifier = OidcVerifier(local_issuer.settings(), http=http, clock=clock)
        verifier.verify(local_issuer.mint())
        verifier.close()
        assert not http.is_closed
    assert seen == [local_issuer.discovery_url, local_issuer.jwks_url]


def test_keys_older_than_their_max_age_are_fetched_again_and_a_withdrawn_one_refused(
    local_issuer: LocalIssuer, clock: Clock
) -> None:
    verifier = OidcVerifier(local_issuer.settings(jwks_max_age_seconds=3600), clock=clock)
    token = local_issuer.mint({"exp": int(clock.now) + 10 * 3600})
    verifier.verify(token)
    local_issuer.rotate()  # the key that signed `token` is withdrawn
    fetches = local_issuer.jwks_fetches

    clock.advance(3599)
    verifier.verify(token)  # still within its max age: no fetch
    assert local_issuer.jwks_fetches == fetches

    clock.advance(1)
    assert "unknown signing key" in refused(verifier, token)
    assert local_issuer.jwks_fetches == fetches + 1
    verifier.close()


def test_stale_keys_still_serve_while_the_provider_cannot_be_reached(
    local_issuer: LocalIssuer, clock: Clock
) -> None:
    verifier = OidcVerifier(local_issuer.settings(jwks_max_age_seconds=3600), clock=clock)
    token = local_issuer.mint({"exp": int(clock.now) + 10 * 3600})
    verifier.verify(token)
    local_issuer.fail(503, endpoint="jwks")

    clock.advance(7200)

    assert verifier.verify(token).user == "alice@example.com"
    verifier.close()
