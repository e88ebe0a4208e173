"""prudent.store: the durable prediction log, its feedback and the review queue.

Every prediction is written (SQLite in WAL mode, or PostgreSQL) before the service answers;
labels arrive later as feedback; predictions decided ``review`` wait in a queue for people.
:class:`PredictionLog`, :class:`FeedbackLog` and :class:`ReviewQueue` are the seams the layers
above take (:class:`LogStore` is all three, on one database); :class:`SqlPredictionLog` is the
durable implementation and :class:`InMemoryPredictionLog` the one for unit tests.
The tables themselves (``predictions_table``, ``feedback_table``, with ``window_filter`` for a
time range and ``hour_of``, the hour stored with each prediction) are exported for readers
such as ``prudent.monitor``, which summarise in SQL;
:class:`AlertStore` keeps the monitor's alert states and its evaluator's lease on the same
database, and :class:`ShadowLog` the answers of a shadow model (``prudent serve --shadow``).
"""

from __future__ import annotations

from prudent.store._alert_store import AlertStore, StoredAlert
from prudent.store._engine import normalise_url
from prudent.store._frame import META_COLUMNS
from prudent.store._memory import InMemoryPredictionLog
from prudent.store._migrate import head_revision
from prudent.store._protocol import LogStore, PredictionLog
from prudent.store._queue import (
    AUDIT_REASON,
    DEFAULT_LEASE,
    QueueEntry,
    Triage,
    review_only,
)
from prudent.store._records import (
    DECISIONS,
    CaseStatus,
    FeedbackEntry,
    FeedbackResult,
    FeedbackStatus,
    PredictionRecord,
    ReviewCase,
    new_prediction_id,
    utc_now,
)
from prudent.store._review_protocol import FeedbackLog, ReviewQueue
from prudent.store._rules import check_allowed
from prudent.store._shadow import ShadowLog, ShadowPair, ShadowRecord
from prudent.store._sql import SqlPredictionLog
from prudent.store._sql_read import window_filter
from prudent.store._tables import feedback as feedback_table
from prudent.store._tables import hour_of
from prudent.store._tables import predictions as predictions_table

__all__ = [
    "AUDIT_REASON",
    "DECISIONS",
    "DEFAULT_LEASE",
    "META_COLUMNS",
    "AlertStore",
    "CaseStatus",
    "FeedbackEntry",
    "FeedbackLog",
    "FeedbackResult",
    "FeedbackStatus",
    "InMemoryPredictionLog",
    "LogStore",
    "PredictionLog",
    "PredictionRecord",
    "QueueEntry",
    "ReviewCase",
    "ReviewQueue",
    "ShadowLog",
    "ShadowPair",
    "ShadowRecord",
    "SqlPredictionLog",
    "StoredAlert",
    "Triage",
    "check_allowed",
    "feedback_table",
    "head_revision",
    "hour_of",
    "new_prediction_id",
    "normalise_url",
    "predictions_table",
    "review_only",
    "utc_now",
    "window_filter",
]
