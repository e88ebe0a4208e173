"""How the log is cut into windows (:class:`WindowSpec`), and the start and bounds of a
calendar window read from the database's window key ``w``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from prudent.errors import ConfigError

__all__ = ["WindowSpec", "parse_window", "window_bounds", "window_start"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """How the log is cut into windows: by ``"hour"``, ``"day"``, or every ``size`` predictions.

    Parameters
    ----------
    kind
        ``"hour"``, ``"day"``, ``"rows"``, or ``"span"``: the whole range is one window (what
        an alert evaluation reads: the last hour, say).
    size
        Predictions per window (``"rows"`` only).

    Examples
    --------
    >>> WindowSpec.parse("day"), WindowSpec.parse("500").size
    (WindowSpec(kind='day', size=0), 500)
    """

    kind: Literal["hour", "day", "rows", "span"]
    size: int = 0

    @classmethod
    def parse(cls, text: str | int) -> WindowSpec:
        """Read ``"hour"``, ``"day"`` or a number of predictions.

        Parameters
        ----------
        text
            The window option as given.

        Returns
        -------
        WindowSpec
            The parsed window.

        Raises
        ------
        ConfigError
            For anything else.
        """
        value = str(text).strip().lower()
        if value in ("hour", "day"):
            return cls(kind=value)  # type: ignore[arg-type]
        if value.isdigit() and int(value) >= 1:
            return cls(kind="rows", size=int(value))
        raise ConfigError(
            f"window must be 'hour', 'day' or a number of predictions such as 1000, but "
            f"{text!r} was received."
        )


def parse_window(value: object) -> datetime:
    """Return the start of a calendar window from the database's ``w`` (a datetime, or the
    SQLite text ``'2024-03-01'`` / ``'2024-03-01 13'``), in UTC.

    Examples
    --------
    >>> parse_window("2024-03-01 13").isoformat()
    '2024-03-01T13:00:00+00:00'
    """
    if isinstance(value, datetime):
        when = value
    else:
        text = str(value)
        when = datetime.fromisoformat(text + ":00" if len(text) == 13 else text)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def window_start(value: Any, spec: WindowSpec) -> datetime:
    """Return the start of the calendar window whose ``w`` is ``value``: an hour or day count
    since 1970-01-01 UTC (keyed, see :func:`window_base`), else as :func:`parse_window` reads it.

    Examples
    --------
    >>> window_start(25, WindowSpec("hour")).isoformat(), window_start(1, WindowSpec("day")).day
    ('1970-01-02T01:00:00+00:00', 2)
    """
    if isinstance(value, int):
        return _EPOCH + (timedelta(hours=value) if spec.kind == "hour" else timedelta(days=value))
    return parse_window(value)


def window_bounds(
    value: Any, spec: WindowSpec, since: datetime | None, until: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """Return ``[start, end)`` of the calendar window whose ``w`` is ``value`` (within
    ``[since, until)``); a span's are ``since`` and ``until``."""
    if spec.kind == "span":
        return since, until
    start = window_start(value, spec)
    end = start + (timedelta(hours=1) if spec.kind == "hour" else timedelta(days=1))
    return (
        start if since is None else max(start, since),
        end if until is None else min(end, until),
    )
