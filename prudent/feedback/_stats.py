"""How fast labels arrive: counts of feedback by the hour it was received."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from prudent.errors import StoreError
from prudent.store import feedback_table, normalise_url

__all__ = ["LabelRate", "label_rate"]


@dataclass(frozen=True, slots=True)
class LabelRate:
    """Labels received lately.

    Parameters
    ----------
    last_hour
        Labels received in the hour before ``now``.
    last_day
        Labels received in the 24 hours before ``now``.
    """

    last_hour: int
    last_day: int

    @property
    def per_hour(self) -> float:
        """The mean number of labels an hour over the last day."""
        return self.last_day / 24


def label_rate(url: str | Path, now: datetime) -> LabelRate:
    """Count the labels (every stored one: corrections too) received lately.

    Parameters
    ----------
    url
        The log database.
    now
        The current time (timezone-aware).

    Returns
    -------
    LabelRate
        The counts.

    Raises
    ------
    StoreError
        When the database cannot be read.
    """
    t = feedback_table.c.received_at
    hour = sa.func.count().filter(t >= now - timedelta(hours=1))
    query = sa.select(hour, sa.func.count()).where(t >= now - timedelta(days=1), t <= now)
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            last_hour, last_day = connection.execute(query).one()
    except SQLAlchemyError as exc:
        raise StoreError(f"Cannot count the labels in {url}: {exc}") from exc
    finally:
        engine.dispose()
    return LabelRate(int(last_hour), int(last_day))
