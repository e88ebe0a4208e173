"""The four expressions in which SQLite and PostgreSQL differ for the monitor's queries (time
truncation, flooring, JSON array length and membership), and the text and byte conversions
that read their results back exactly: :func:`_dialect_parts` picks them by dialect name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from prudent.store import predictions_table

__all__: list[str] = []

_P = predictions_table.c


@dataclass(frozen=True)
class _Parts:
    truncate: Callable[[Any, str], Any]
    floor_int: Callable[[Any], Any]
    set_size: Any
    covered: Callable[[Any, Any], Any]
    joined_text: Callable[[Any], Any]
    float_text: Callable[[Any], Any]
    utf8: Callable[[Any], Any]


def _dialect_parts(dialect: str) -> _Parts:
    if dialect == "sqlite":
        # the store keeps UTC times as 'YYYY-MM-DD HH:MM:SS.ffffff' text: cutting the text
        # is the truncation, and far cheaper than strftime on every row

        def covered_sqlite(sets: Any, label: Any) -> Any:
            each = sa.func.json_each(sets).table_valued("value").alias("each_label")
            return sa.exists(
                sa.select(sa.literal(1)).select_from(each).where(each.c.value == label)
            )

        keep = {"hour": 13, "day": 10}
        return _Parts(
            truncate=lambda c, unit: sa.func.substr(c, 1, keep[unit]),
            floor_int=lambda x: sa.cast(x, sa.Integer),  # truncates; values are >= 0
            set_size=sa.func.json_array_length(_P.prediction_set),
            covered=covered_sqlite,
            joined_text=lambda x: sa.func.group_concat(x, ","),
            float_text=lambda x: sa.func.printf("%.17g", x),  # a cast keeps 15 digits
            utf8=lambda x: sa.cast(x, sa.LargeBinary),  # the stored text's bytes
        )
    return _Parts(
        truncate=lambda c, unit: sa.func.date_trunc(unit, sa.func.timezone("UTC", c)),
        floor_int=lambda x: sa.cast(sa.func.floor(x), sa.Integer),
        set_size=sa.func.jsonb_array_length(_P.prediction_set),
        covered=lambda sets, label: sa.type_coerce(sets, JSONB).has_key(label),
        joined_text=lambda x: sa.func.string_agg(x, ","),
        float_text=lambda x: sa.cast(x, sa.Text),  # the shortest text that reads back exactly
        utf8=lambda x: sa.func.convert_to(sa.cast(x, sa.Text), "UTF8", type_=sa.LargeBinary),
    )
