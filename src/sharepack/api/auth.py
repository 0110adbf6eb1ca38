"""Authentication at the edge: every `/workflow` route but health depends on
`authenticated_caller`, which turns the Authorization header into a `Caller` (or a 401,
429 or 503 answer through `ANSWERS`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sharepack.errors import ConfigurationError, RoleMappingError
from sharepack.identity.oidc import OidcSettings, OidcVerifier
from sharepack.identity.principal import Caller
from sharepack.identity.role_mapping import RoleMapping, load_role_mapping
from sharepack.runtime import Runtime
from sharepack.settings import Settings
from sharepack.usecases.directory_check import check_mapped_groups
from sharepack.usecases.identity import Authenticator

#: Documents the scheme in OpenAPI (the "Authorize" button of /docs); the header itself is
#: read by `Authenticator`, which answers a missing one in the API's own words.
_BEARER = HTTPBearer(
    auto_error=False,
    description="An API key (spk_..., from `sharepack keys create`) or an OIDC access token",
)


def oidc_verifier(settings: Settings) -> OidcVerifier | None:
    """The token verifier the settings describe, or None without an issuer."""
    if not settings.oidc_configured:
        return None
    issuer = settings.sharepack_oidc_issuer or ""
    if not settings.sharepack_oidc_audience:
        raise ConfigurationError(
            "SHAREPACK_OIDC_AUDIENCE is not set: with SHAREPACK_OIDC_ISSUER, name the "
            "audience tokens are issued for (the API app registration's Application ID)"
        )
    return OidcVerifier(
        OidcSettings(
            issuer=issuer,
            audience=settings.sharepack_oidc_audience,
            discovery_url=settings.sharepack_oidc_discovery_url,
            user_claim=settings.sharepack_oidc_user_claim,
            groups_claim=settings.sharepack_oidc_groups_claim,
            leeway_seconds=settings.sharepack_oidc_leeway_seconds,
            jwks_min_refresh_seconds=settings.sharepack_oidc_jwks_min_refresh_seconds,
            jwks_max_age_seconds=settings.sharepack_oidc_jwks_max_age_seconds,
        )
    )


def role_mapping(settings: Settings) -> RoleMapping | None:
    path = settings.sharepack_role_mapping_file
    return load_role_mapping(path) if path is not None else None


def build_authenticator(runtime: Runtime) -> Authenticator:
    """Checked when the app is made: a bad role mapping or OIDC setting stops the start,
    as does a mapped group the directory (when configured) does not know."""
    settings = runtime.settings
    roles = role_mapping(settings)
    if roles is not None:
        unknown = check_mapped_groups(
            {f"{roles.path}:{g.line}: groups[{i}].id": g.id for i, g in enumerate(roles.groups)},
            runtime.directory,
        )
        if unknown:
            raise RoleMappingError("; ".join(unknown))
    return Authenticator(runtime, verifier=oidc_verifier(settings), roles=roles)


def authenticated_caller(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
) -> Caller:
    authenticator: Authenticator = request.app.state.authenticator
    client = request.client.host if request.client is not None else None
    return authenticator.authenticate(
        request.headers.get("authorization"),
        client_address=client,
        user_agent=request.headers.get("user-agent"),
    )


CALLER = Annotated[Caller, Depends(authenticated_caller)]
