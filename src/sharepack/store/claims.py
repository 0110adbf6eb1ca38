"""Run claims: a fencing token per run, so that only its current holder's writes commit.

A worker starting a run, or taking it over after a lease ran out, claims it: the run's
`fence` moves on by one and the claim keeps the new value. A Unit of Work opened for a
claim (`Database.fenced`) commits only while the fence is still that value; the check is
a write on the claim's row, so a newer claim either waits for the commit or is seen by it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sharepack.store.dialect import database_now
from sharepack.store.own_tables import run_claims


@dataclass(frozen=True)
class Claim:
    """One holder's claim of a run; `fence` grows with every claim of the run."""

    run_id: uuid.UUID
    fence: int


class RunClaimRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def claim(self, run_id: uuid.UUID, holder: str) -> Claim:
        """Claim the run for `holder`: every earlier claim's writes are refused from now."""
        now = database_now(self._session)
        values = {"holder": holder[:255], "claimed_at": now}
        moved = self._session.execute(
            update(run_claims)
            .where(run_claims.c.run_id == run_id)
            .values(fence=run_claims.c.fence + 1, **values)
            .returning(run_claims.c.fence)
        ).scalar_one_or_none()
        if moved is not None:
            return Claim(run_id, int(moved))
        try:
            with self._session.begin_nested():
                self._session.execute(insert(run_claims).values(run_id=run_id, fence=1, **values))
        except IntegrityError:  # claimed by another at the same moment: move past it
            return self.claim(run_id, holder)
        return Claim(run_id, 1)

    def holds(self, claim: Claim) -> bool:
        """Whether `claim` is still the run's newest; takes the claim's row until commit."""
        result = self._session.execute(
            update(run_claims)
            .where(run_claims.c.run_id == claim.run_id, run_claims.c.fence == claim.fence)
            .values(fence=claim.fence)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
