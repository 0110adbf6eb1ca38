"""Sync ticks: which process runs a scheduled sync job in a given tick.

A tick is one interval of a job's schedule, numbered from the epoch. Each process that
wants to run the job in a tick inserts (job, tick); the primary key lets exactly one
insert succeed, so the job runs once per tick however many processes schedule it.
"""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sharepack.store.dialect import database_now
from sharepack.store.own_tables import sync_ticks


class SyncTickRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def claim(self, job_name: str, tick: int, holder: str) -> bool:
        """Whether `holder` now holds the tick (commit to keep it); False when another
        process claimed it first, which is the ordinary outcome for all but one."""
        row = {
            "job_name": job_name,
            "tick": tick,
            "holder": holder,
            "claimed_at": database_now(self._session),
        }
        try:
            with self._session.begin_nested():
                self._session.execute(insert(sync_ticks).values(**row))
        except IntegrityError:
            return False
        return True

    def holder(self, job_name: str, tick: int) -> str | None:
        """Who claimed the tick; None when no one has."""
        query = select(sync_ticks.c.holder).where(
            sync_ticks.c.job_name == job_name, sync_ticks.c.tick == tick
        )
        return self._session.execute(query).scalar_one_or_none()

    def claimed_count(self, job_name: str) -> int:
        """How many ticks of the job have been claimed, by anyone."""
        query = select(func.count()).where(sync_ticks.c.job_name == job_name)
        return int(self._session.execute(query).scalar_one())
