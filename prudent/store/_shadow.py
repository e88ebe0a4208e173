"""Shadow predictions: a second model's answer to each served request, stored beside the log.

``prudent serve --shadow VERSION`` scores every request with a challenger off the response
path; its rows go to ``shadow_predictions`` under the served prediction's id, so the champion's
answer (in ``predictions``), the challenger's and the label (in ``feedback``) join on that id.
:class:`ShadowLog` writes them (from the shadow's own thread, on its own connection, with
``synchronous = NORMAL`` on SQLite: a shadow row lost in a power cut costs nothing, and a short
commit holds the write lock the prediction log waits for as briefly as it can) and reads the
labelled pairs back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from prudent.errors import StoreError
from prudent.store._opened import OpenedStore
from prudent.store._tables import feedback, predictions, shadow_predictions
from prudent.store._writer import describe_db_error

__all__ = ["ShadowLog", "ShadowPair", "ShadowRecord"]

_S, _P = shadow_predictions.c, predictions.c


@dataclass(frozen=True)
class ShadowRecord:
    """One model's answer to one served row.

    Parameters
    ----------
    prediction_id
        The served prediction's id.
    model_version
        The version (bundle hash prefix) of the model that answered.
    created_at
        When it answered.
    probabilities
        Class -> calibrated probability.
    prediction
        The label it would give (None when it would send the row to review).
    confidence
        Its confidence in that label.
    decision
        ``accept``, ``rule``, ``backup`` or ``review``.
    latency_ms
        Time it took to score the row's batch.
    """

    prediction_id: str
    model_version: str
    created_at: datetime
    probabilities: Mapping[str, float]
    prediction: str | None
    confidence: float | None
    decision: str
    latency_ms: float | None = None


@dataclass(frozen=True)
class ShadowPair:
    """A labelled served row with both answers: the champion's (logged) and the shadow's.

    Parameters
    ----------
    label
        The row's latest label.
    champion
        The answer served (from the prediction log).
    shadow
        The shadow model's answer.
    """

    label: str
    champion: ShadowRecord
    shadow: ShadowRecord


def _insert(dialect: str) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(shadow_predictions).on_conflict_do_nothing()


class ShadowLog(OpenedStore):
    """The shadow predictions of a prediction log's database (migrated on open); build it
    with :meth:`open`, which it takes from :class:`OpenedStore` with its engines and URL."""

    synchronous = "NORMAL"
    what = "the shadow predictions"

    def write(self, records: Sequence[ShadowRecord]) -> None:
        """Store shadow answers in one transaction; an id and version already stored is kept.

        Parameters
        ----------
        records
            The answers; each ``prediction_id`` must be in the prediction log.

        Raises
        ------
        StoreError
            The database refused them (an unknown id, a lost connection).
        """
        rows = [
            {"prediction_id": r.prediction_id, "model_version": r.model_version,
             "created_at": r.created_at, "probabilities": dict(r.probabilities),
             "prediction": r.prediction, "confidence": r.confidence, "decision": r.decision,
             "latency_ms": r.latency_ms}
            for r in records
        ]  # fmt: skip
        if not rows:
            return
        try:
            with self._engines.write.begin() as c:
                c.execute(_insert(c.dialect.name), rows)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"Cannot store {len(rows)} shadow prediction(s) at {self.url}: "
                f"{describe_db_error(exc)}"
            ) from exc

    def counts(self) -> list[tuple[str, str, int, int]]:
        """Rows scored and rows labelled, by champion version and shadow version.

        Returns
        -------
        list of (str, str, int, int)
            ``(champion version, shadow version, scored, labelled)``, most scored first.
        """
        labelled = sa.exists().where(feedback.c.prediction_id == _S.prediction_id)
        query = (
            sa.select(
                _P.model_version, _S.model_version, sa.func.count(),
                sa.func.sum(sa.case((labelled, 1), else_=0)),
            )
            .join(predictions, _P.id == _S.prediction_id)
            .group_by(_P.model_version, _S.model_version)
            .order_by(sa.func.count().desc())
        )  # fmt: skip
        rows = self._read(lambda c: c.execute(query).all(), "counting shadow predictions")
        return [(a, b, int(n), int(k or 0)) for a, b, n, k in rows]

    def labelled_pairs(
        self, shadow_version: str | None = None, champion_version: str | None = None
    ) -> list[ShadowPair]:
        """Every labelled served row that a shadow model scored, with both answers.

        Parameters
        ----------
        shadow_version, champion_version
            Only these versions (all when None).

        Returns
        -------
        list of ShadowPair
            Oldest first; the label is each prediction's latest.
        """
        f = feedback.c
        rank = sa.func.row_number().over(partition_by=f.prediction_id, order_by=f.id.desc())
        latest = sa.select(f.prediction_id, f.label, rank.label("rn")).subquery("latest")
        terms = [latest.c.rn == 1]
        if shadow_version is not None:
            terms.append(_S.model_version == shadow_version)
        if champion_version is not None:
            terms.append(_P.model_version == champion_version)
        query = (
            sa.select(shadow_predictions, _P.model_version.label("p_version"),
                      _P.created_at.label("p_at"), _P.probabilities.label("p_probabilities"),
                      _P.prediction.label("p_prediction"), _P.confidence.label("p_confidence"),
                      _P.decision.label("p_decision"), _P.latency_ms.label("p_latency"),
                      latest.c.label)
            .join(predictions, _P.id == _S.prediction_id)
            .join(latest, latest.c.prediction_id == _S.prediction_id)
            .where(*terms)
            .order_by(_P.created_at, _P.id, _S.model_version)
        )  # fmt: skip
        rows = self._read(lambda c: c.execute(query).all(), "reading shadow pairs")
        return [_pair(row) for row in rows]

    def _read(self, fn: Any, what: str) -> Any:
        try:
            with self._engines.read.connect() as connection:
                return fn(connection)
        except SQLAlchemyError as exc:
            raise StoreError(f"Failed {what} at {self.url}: {describe_db_error(exc)}") from exc


def _pair(row: Any) -> ShadowPair:
    champion = ShadowRecord(
        row.prediction_id, row.p_version, row.p_at, row.p_probabilities, row.p_prediction,
        row.p_confidence, row.p_decision, row.p_latency,
    )  # fmt: skip
    shadow = ShadowRecord(
        row.prediction_id, row.model_version, row.created_at, row.probabilities, row.prediction,
        row.confidence, row.decision, row.latency_ms,
    )  # fmt: skip
    return ShadowPair(str(row.label), champion, shadow)
