"""Fixtures of the store tests: the throwaway PostgreSQL server and a log on every backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from prudent.store import InMemoryPredictionLog, PredictionLog, PredictionRecord, SqlPredictionLog
from tests._postgres import create_database, postgres_url  # noqa: F401  (a pytest fixture)

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class StepClock:
    """A clock that starts at ``start`` and moves one second on every reading."""

    def __init__(self, start: datetime = T0 + timedelta(days=30)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def make_record(**changes: Any) -> PredictionRecord:
    """A plausible accepted prediction; keyword arguments override its fields."""
    fields: dict[str, Any] = {
        "model_version": "sha256:aaaa",
        "model_name": "iris",
        "inputs": {"sepal_length": 5.1, "sepal_width": 3.5, "species_hint": "x"},
        "probabilities": {"setosa": 0.8, "versicolor": 0.15, "virginica": 0.05},
        "prediction": "setosa",
        "confidence": 0.8,
        "ood_score": 0.1,
        "is_ood": False,
        "prediction_set": ("setosa",),
        "decision": "accept",
        "reason": "",
        "latency_ms": 1.25,
    }
    fields.update(changes)
    return PredictionRecord(**fields)


def _url(backend: str, tmp_path: Path, request: pytest.FixtureRequest, migrated: bool) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'log.db'}"
    if not migrated:
        return create_database(request.getfixturevalue("postgres_url"))
    url: str = request.getfixturevalue("migrated_postgres_url")
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        connection.execute("TRUNCATE feedback, review_cases, shadow_predictions, predictions")
    return url


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_url: str) -> str:  # noqa: F811  (the imported fixture)
    """A migrated PostgreSQL database that behaviour tests share, emptied before each."""
    url = create_database(postgres_url)
    SqlPredictionLog.open(url).close()
    return url


@pytest.fixture
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty (unmigrated) database URL on the backend named by ``request.param``."""
    return _url(request.param, tmp_path, request, migrated=False)


@pytest.fixture(params=BACKENDS)
def open_log(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., PredictionLog]]:
    """Open logs on one backend (each call on the same database); all closed at the end."""
    backend = request.param
    url = None if backend == "memory" else _url(backend, tmp_path, request, migrated=True)
    opened: list[PredictionLog] = []

    def factory(**options: Any) -> PredictionLog:
        log: PredictionLog
        if url is None:
            log = InMemoryPredictionLog(**options)
        else:
            log = SqlPredictionLog.open(url, **options)
        opened.append(log)
        return log

    yield factory
    for log in opened:
        log.close()


@pytest.fixture
def log(open_log: Callable[..., PredictionLog]) -> PredictionLog:
    """A log on each backend with a step clock."""
    return open_log(clock=StepClock())
