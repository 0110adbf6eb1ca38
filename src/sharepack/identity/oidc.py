"""Bearer tokens from an OpenID Connect provider (Microsoft Entra ID v2.0 tokens).

The signature, issuer and audience are checked by PyJWT against RSA keys published at the
provider's `jwks_uri`, found through its discovery document. Only RS256 is accepted, so a
token cannot pick its own algorithm (`none`, or HS256 "signed" with the public key).

The JWKS is cached: a token whose `kid` is known is verified without the network, and an
unknown `kid` makes one refetch (that is how a key rotation is picked up), at most once per
`jwks_min_refresh_seconds`, so tokens with made-up key ids cannot make sharepack hammer the
provider. When the provider cannot be reached and the key is not cached, no token is
accepted: `IdentityProviderUnavailableError` (a 503, not a 401: the caller did nothing
wrong).

Token lifetimes are checked here against the injected clock rather than by PyJWT (which
reads the system time), so the same clock drives expiry and the refresh floor.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import httpx
import jwt

from sharepack.errors import AuthenticationError, IdentityProviderUnavailableError

logger = logging.getLogger(__name__)

ALGORITHM = "RS256"
_USER_FALLBACKS = ("upn", "email", "sub")


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    """The token's `iss`, e.g. https://login.microsoftonline.com/<tenant>/v2.0."""
    audience: str
    """The API app registration's Application (client) ID: the token's `aud`."""
    discovery_url: str | None = None
    """Default: `issuer` + /.well-known/openid-configuration."""
    user_claim: str = "preferred_username"
    groups_claim: str = "groups"
    leeway_seconds: int = 60
    jwks_min_refresh_seconds: int = 300
    jwks_max_age_seconds: int = 86_400
    """Keys fetched longer ago than this are fetched again before use, so a key the
    provider withdrew stops being trusted (Entra ID's advice: check at least daily)."""
    timeout_seconds: float = 10.0
    ca_bundle: str | None = None
    """A CA bundle to verify the provider's TLS certificate with (default: the system's)."""

    @property
    def resolved_discovery_url(self) -> str:
        if self.discovery_url:
            return self.discovery_url
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class VerifiedToken:
    """What a verified token says about its bearer."""

    subject: str
    user: str
    email: str | None
    groups: tuple[str, ...]
    claims: Mapping[str, Any]


@dataclass(frozen=True)
class _KeySet:
    keys: Mapping[str, jwt.PyJWK]
    fetched_at: float


class OidcVerifier:
    """Verifies bearer tokens of one issuer for one audience; safe to share between threads."""

    def __init__(
        self,
        settings: OidcSettings,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._owns_http = http is None
        self._http = http or httpx.Client(
            timeout=settings.timeout_seconds,
            verify=settings.ca_bundle if settings.ca_bundle else True,
        )
        self._clock = clock
        self._lock = threading.Lock()
        self._jwks_uri: str | None = None
        self._key_set: _KeySet | None = None

    def close(self) -> None:
        """Close the HTTP client if this verifier made it."""
        if self._owns_http:
            self._http.close()

    def verify(self, token: str) -> VerifiedToken:
        """The verified token; `AuthenticationError` saying what is wrong with it, or
        `IdentityProviderUnavailableError` when its signing key cannot be fetched."""
        header = self._header(token)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationError(
                "The bearer token has no key id (`kid`) in its header: cannot tell which of "
                "the identity provider's keys signed it"
            )
        key = self._key(kid)
        claims = self._decode(token, key)
        self._check_lifetime(claims)
        return self._verified(claims)

    # -- the token -----------------------------------------------------------------------

    @staticmethod
    def _header(token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationError(
                "The bearer token is malformed: not a signed JWT (header.payload.signature)"
            ) from None
        algorithm = header.get("alg")
        if algorithm != ALGORITHM:
            raise AuthenticationError(
                f"The bearer token is signed with algorithm {algorithm!r}; only {ALGORITHM} "
                "tokens from the identity provider are accepted"
            )
        return header

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        settings = self._settings
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=settings.audience,
                issuer=settings.issuer,
                options={
                    "require": ["exp", "iss", "aud", "sub"],
                    # Checked in `_check_lifetime` against this verifier's clock.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidSignatureError:
            raise AuthenticationError(
                "The bearer token has a bad signature: it was not signed by the identity "
                "provider's key it names, or it was altered"
            ) from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthenticationError(
                f"The bearer token has no {exc.claim!r} claim, which is required"
            ) from None
        except jwt.InvalidAudienceError:
            found = _unverified_claim(token, "aud")
            raise AuthenticationError(
                f"The bearer token has the wrong audience {found!r} (expected "
                f"{settings.audience!r}): it was issued for another application"
            ) from None
        except jwt.InvalidIssuerError:
            found = _unverified_claim(token, "iss")
            raise AuthenticationError(
                f"The bearer token has the wrong issuer {found!r} (expected {settings.issuer!r})"
            ) from None
        except jwt.InvalidAlgorithmError:
            raise AuthenticationError(
                f"The bearer token is not signed with {ALGORITHM}, the only algorithm accepted"
            ) from None
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"The bearer token is malformed: {exc}") from None
        return claims

    def _check_lifetime(self, claims: Mapping[str, Any]) -> None:
        now = self._clock()
        leeway = self._settings.leeway_seconds
        exp = _timestamp(claims, "exp")
        if exp is not None and exp <= now - leeway:
            raise AuthenticationError(
                f"The bearer token expired {_ago(now - exp)} ago (leeway {leeway} s); get a new one"
            )
        nbf = _timestamp(claims, "nbf")
        if nbf is not None and nbf > now + leeway:
            raise AuthenticationError(
                f"The bearer token is not yet valid: its 'nbf' is {_ago(nbf - now)} in the "
                f"future (leeway {leeway} s); check this server's clock"
            )
        iat = _timestamp(claims, "iat")
        if iat is not None and iat > now + leeway:
            raise AuthenticationError(
                f"The bearer token is not yet valid: it was issued {_ago(iat - now)} in the "
                f"future (leeway {leeway} s); check this server's clock"
            )

    def _verified(self, claims: dict[str, Any]) -> VerifiedToken:
        settings = self._settings
        names = claims.get("_claim_names")
        overage = isinstance(names, Mapping) and (
            "groups" in names or settings.groups_claim in names
        )
        if overage or claims.get("hasgroups") is True:
            raise AuthenticationError(
                "The user is in too many groups for the token to list them (Entra ID's groups "
                "overage): on the API's app registration, under Token configuration, emit only "
                "the groups assigned to the application ('Groups assigned to the application') "
                "and assign the groups the role mapping names"
            )
        groups = claims.get(settings.groups_claim, [])
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise AuthenticationError(
                f"The bearer token's {settings.groups_claim!r} claim is not a list of group ids"
            )
        user = next(
            (
                value
                for name in (settings.user_claim, *_USER_FALLBACKS)
                if isinstance(value := claims.get(name), str) and value.strip()
            ),
            None,
        )
        subject = claims["sub"]
        if user is None:  # only when `sub` is empty: PyJWT checked it is a string
            raise AuthenticationError(
                f"The bearer token names no user: no {settings.user_claim!r}, 'upn', 'email' "
                "or 'sub' claim"
            )
        email = claims.get("email")
        if not (isinstance(email, str) and "@" in email):
            email = user if "@" in user else None
        return VerifiedToken(
            subject=subject,
            user=user,
            email=email,
            groups=tuple(groups),
            claims=MappingProxyType(claims),
        )

    # -- the provider's keys -------------------------------------------------------------

    def _key(self, kid: str) -> jwt.PyJWK:
        key_set = self._key_set
        if key_set is not None and kid in key_set.keys and not self._stale(key_set):
            return key_set.keys[kid]
        with self._lock:
            key_set = self._key_set  # another thread may have refreshed meanwhile
            if key_set is not None and self._stale(key_set):
                key_set = self._refreshed(key_set)
            if key_set is not None and kid in key_set.keys:
                return key_set.keys[kid]
            floor = self._settings.jwks_min_refresh_seconds
            if key_set is not None and self._clock() - key_set.fetched_at < floor:
                raise AuthenticationError(
                    f"The bearer token is signed with an unknown signing key {kid!r}: not "
                    f"among the identity provider's published keys (refreshed less than "
                    f"{floor} s ago)"
                )
            key_set = self._fetch_keys()
            self._key_set = key_set
        if kid not in key_set.keys:
            raise AuthenticationError(
                f"The bearer token is signed with an unknown signing key {kid!r}: not among "
                "the identity provider's published keys"
            )
        return key_set.keys[kid]

    def _stale(self, key_set: _KeySet) -> bool:
        return self._clock() - key_set.fetched_at >= self._settings.jwks_max_age_seconds

    def _refreshed(self, stale: _KeySet) -> _KeySet:
        """The keys fetched again, under the lock; while the provider cannot be reached the
        stale ones still serve (an outage must not turn every token away) and a later
        request tries again."""
        try:
            self._key_set = self._fetch_keys()
        except IdentityProviderUnavailableError as exc:
            logger.warning("Keeping the identity provider's keys fetched earlier: %s", exc)
            return stale
        return self._key_set

    def _fetch_keys(self) -> _KeySet:
        """The provider's current RSA signing keys by key id; called under the lock."""
        if self._jwks_uri is None:
            self._jwks_uri = self._discover()
        document = self._get_json(self._jwks_uri, "JWKS (signing keys)")
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise IdentityProviderUnavailableError(
                f"The identity provider's JWKS at {self._jwks_uri} has no 'keys' list"
            )
        keys: dict[str, jwt.PyJWK] = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            kid = entry.get("kid")
            if not isinstance(kid, str) or entry.get("alg", ALGORITHM) != ALGORITHM:
                continue
            try:
                keys[kid] = jwt.PyJWK(entry, algorithm=ALGORITHM)
            except jwt.PyJWTError:
                continue  # not an RSA key: no token we accept can be signed with it
        if not keys:
            raise IdentityProviderUnavailableError(
                f"The identity provider's JWKS at {self._jwks_uri} has no RSA signing key"
            )
        return _KeySet(keys=MappingProxyType(keys), fetched_at=self._clock())

    def _discover(self) -> str:
        url = self._settings.resolved_discovery_url
        document = self._get_json(url, "OpenID discovery document")
        issuer = document.get("issuer")
        if issuer != self._settings.issuer:
            raise IdentityProviderUnavailableError(
                f"The OpenID discovery document at {url} is for issuer {issuer!r}, not the "
                f"configured issuer {self._settings.issuer!r}"
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise IdentityProviderUnavailableError(
                f"The OpenID discovery document at {url} has no 'jwks_uri'"
            )
        return jwks_uri

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, timeout=self._settings.timeout_seconds)
        except httpx.HTTPError as exc:
            raise IdentityProviderUnavailableError(
                f"Could not fetch the identity provider's {what} from {url}: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if response.status_code != 200:
            raise IdentityProviderUnavailableError(
                f"The identity provider's {what} at {url} answered HTTP {response.status_code}"
            )
        try:
            document = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise IdentityProviderUnavailableError(
                f"The identity provider's {what} at {url} is not JSON"
            ) from None
        if not isinstance(document, dict):
            raise IdentityProviderUnavailableError(
                f"The identity provider's {what} at {url} is not a JSON object"
            )
        return document


def _unverified_claim(token: str, name: str) -> Any:
    """A claim of a token whose signature was verified but a claim refused, for a message."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return claims.get(name)


def _timestamp(claims: Mapping[str, Any], name: str) -> float | None:
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AuthenticationError(
            f"The bearer token is malformed: its {name!r} claim is not a number of seconds"
        )
    return float(value)


def _ago(seconds: float) -> str:
    return f"{int(seconds)} s"
