"""Principals, their roles per business line, and the callers they act as.

A principal is who the request authenticated as; its grants say which role it holds for
which business lines (`ALL_BUSINESS_LINES` for every one). Roles are ordered only in
that an admin may do everything; a requestor, approver and auditor each do their own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

ALL_BUSINESS_LINES = "*"


class Role(enum.StrEnum):
    REQUESTOR = "requestor"
    APPROVER = "approver"
    AUDITOR = "auditor"
    ADMIN = "admin"


class AuthMethod(enum.StrEnum):
    API_KEY = "api_key"
    OIDC = "oidc"
    LOCAL_ADMIN_KEY = "local_admin_key"
    CLI = "cli"


def _same_line(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


@dataclass(frozen=True)
class Grant:
    """One role over some business lines (`ALL_BUSINESS_LINES` for all of them)."""

    role: Role
    business_lines: tuple[str, ...]

    def covers(self, business_line: str | None) -> bool:
        if ALL_BUSINESS_LINES in self.business_lines:
            return True
        if business_line is None:
            return False
        return any(_same_line(line, business_line) for line in self.business_lines)


@dataclass(frozen=True)
class Principal:
    """Who a request authenticated as.

    `name` is what the audit trail records (an email, `key:ci`, `cli:alice`); `email` is
    the address a pack's `requestor` must match (None for keys without an owner).
    """

    name: str
    method: AuthMethod
    grants: tuple[Grant, ...] = ()
    email: str | None = None
    acts_for_others: bool = False
    #: The directory groups (object ids) a token says the principal is in; none for keys.
    groups: tuple[str, ...] = ()

    @property
    def is_admin(self) -> bool:
        return any(
            g.role is Role.ADMIN and ALL_BUSINESS_LINES in g.business_lines for g in self.grants
        )

    def has_role(self, role: Role, business_line: str | None) -> bool:
        """Whether the principal holds `role` (or admin) for `business_line`."""
        return any(
            (g.role is role or g.role is Role.ADMIN) and g.covers(business_line)
            for g in self.grants
        )

    def may_submit(self, business_line: str | None) -> bool:
        """Upload, plan and store packs for this business line."""
        return self.has_role(Role.REQUESTOR, business_line)

    @property
    def submits_anywhere(self) -> bool:
        """Whether any business line's packs may be submitted by this principal: without,
        an upload is refused before its file is read."""
        return any(g.role in (Role.REQUESTOR, Role.ADMIN) for g in self.grants)

    def may_read(self, business_line: str | None) -> bool:
        """See packs, their status and history of this business line."""
        return any(g.covers(business_line) for g in self.grants)

    def may_act_for(self, requestor: str) -> bool:
        """Whether a pack may name `requestor` while this principal submits it."""
        if self.is_admin or self.acts_for_others:
            return True
        return (
            self.email is not None and self.email.strip().casefold() == requestor.strip().casefold()
        )

    @property
    def business_lines(self) -> tuple[str, ...]:
        lines: list[str] = []
        for grant in self.grants:
            lines.extend(line for line in grant.business_lines if line not in lines)
        return tuple(lines)


@dataclass(frozen=True)
class Caller:
    """A principal and where the request came from, as the audit trail records it."""

    principal: Principal
    client_address: str | None = None
    user_agent: str | None = None

    @property
    def name(self) -> str:
        return self.principal.name


def operator(name: str, *, email: str | None = None) -> Caller:
    """An operator at the CLI: an admin of every business line (the CLI holds the
    workspace's own credentials); `name` says who (OS user and Databricks identity)."""
    return Caller(
        Principal(
            name=name,
            method=AuthMethod.CLI,
            grants=(Grant(Role.ADMIN, (ALL_BUSINESS_LINES,)),),
            email=email,
            acts_for_others=True,
        ),
        client_address="local",
        user_agent="sharepack-cli",
    )
