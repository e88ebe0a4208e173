"""Alert states and named leases, on the prediction log's database.

The monitor's rules remember what they last said (pending, firing, resolved, with the incident's
record) in ``alert_states``, one row per rule and label set, so one incident is one
notification whichever replica evaluates it. A *lease* is a row of ``leases``: a name, who holds
it and until when. Taking it is one conditional ``UPDATE`` (free, expired, or already ours) or,
for a name never taken, an ``INSERT`` that a concurrent taker's primary key refuses; SQLite
serialises the writers (``BEGIN IMMEDIATE``), PostgreSQL locks the row. So at most one holder
at a time, on both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from prudent.errors import StoreError
from prudent.store._opened import OpenedStore
from prudent.store._tables import alert_states, leases

__all__ = ["AlertStore", "StoredAlert"]


@dataclass(frozen=True)
class StoredAlert:
    """One rule's stored state for one label set.

    Parameters
    ----------
    rule
        The rule's name.
    labels_key
        Its labels as one sorted ``k=v,…`` string (the de-duplication key with ``rule``).
    state
        ``"inactive"``, ``"pending"``, ``"firing"`` or ``"resolved"``.
    record
        Everything else, as JSON data (times as ISO strings).
    """

    rule: str
    labels_key: str
    state: str
    record: Mapping[str, Any]


class AlertStore(OpenedStore):
    """Alert states and leases on the log's database (migrated on open); build it
    with :meth:`open`, which it takes from :class:`OpenedStore` with its engines and URL."""

    what = "the alert states"

    def acquire(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        """Take or renew the lease ``name`` for ``ttl`` when it is free, expired or ours.

        Parameters
        ----------
        name
            The lease (e.g. ``"monitor"``).
        holder
            Who takes it (unique per process).
        ttl
            How long it lasts unless renewed.
        now
            The current time.

        Returns
        -------
        bool
            Whether ``holder`` holds it now.
        """
        t = leases.c
        free = (t.name == name) & ((t.holder == holder) | (t.expires_at < now))
        values = {"holder": holder, "expires_at": now + ttl}
        try:
            with self._engines.write.begin() as c:
                if c.execute(sa.update(leases).where(free).values(**values)).rowcount:
                    return True
                if c.execute(sa.select(t.name).where(t.name == name)).first() is not None:
                    return False
                c.execute(sa.insert(leases).values(name=name, **values))
            return True
        except IntegrityError:
            return False  # another holder inserted it first
        except SQLAlchemyError as exc:
            raise StoreError(f"Cannot take the lease {name!r} at {self.url}: {exc}") from exc

    def release(self, name: str, holder: str) -> None:
        """Give the lease ``name`` up at once when ``holder`` holds it.

        Parameters
        ----------
        name
            The lease.
        holder
            Its holder.
        """
        t = leases.c
        with self._engines.write.begin() as c:
            c.execute(sa.delete(leases).where((t.name == name) & (t.holder == holder)))

    def holder(self, name: str, now: datetime) -> str | None:
        """Return who holds the lease ``name`` at ``now`` (None when free or expired).

        Parameters
        ----------
        name
            The lease.
        now
            The current time.

        Returns
        -------
        str or None
            The holder.
        """
        t = leases.c
        query = sa.select(t.holder).where((t.name == name) & (t.expires_at >= now))
        with self._engines.read.connect() as c:
            return c.execute(query).scalar()

    def states(self) -> list[StoredAlert]:
        """Return every stored alert state, by rule and labels.

        Returns
        -------
        list of StoredAlert
            The states.
        """
        t = alert_states.c
        query = sa.select(t.rule, t.labels_key, t.state, t.record).order_by(t.rule, t.labels_key)
        try:
            with self._engines.read.connect() as c:
                return [StoredAlert(*row) for row in c.execute(query)]
        except SQLAlchemyError as exc:
            raise StoreError(f"Cannot read the alert states at {self.url}: {exc}") from exc

    def save(self, alerts: Sequence[StoredAlert], now: datetime) -> None:
        """Replace the stored states of these rules and label sets, in one transaction.

        Parameters
        ----------
        alerts
            The new states.
        now
            When they were evaluated.
        """
        t = alert_states.c
        rows = [
            {"rule": a.rule, "labels_key": a.labels_key, "state": a.state,
             "record": dict(a.record), "updated_at": now}
            for a in alerts
        ]  # fmt: skip
        with self._engines.write.begin() as c:
            for a in alerts:
                c.execute(
                    sa.delete(alert_states).where(
                        (t.rule == a.rule) & (t.labels_key == a.labels_key)
                    )
                )
            if rows:
                c.execute(sa.insert(alert_states), rows)
