"""The review queue: priority order, leases, exclusive claims across threads and processes."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from prudent.errors import ConfigError, FeedbackConflictError, FeedbackError
from prudent.store import (
    CaseStatus,
    LogStore,
    PredictionRecord,
    QueueEntry,
    SqlPredictionLog,
    normalise_url,
)
from prudent.store._migrate import alembic_config
from prudent.store._tables import predictions, review_cases
from tests.store.conftest import SQL_BACKENDS, T0, make_record

CHILD = Path(__file__).with_name("_claim_child.py")


class ManualClock:
    """A clock that stands still until the test moves it."""

    def __init__(self) -> None:
        self.now = T0 + timedelta(days=30)

    def __call__(self) -> datetime:
        return self.now


def by_confidence(record: PredictionRecord) -> QueueEntry | None:
    """Queue reviews by confidence, and accepted ones under 0.6 as audit cases."""
    if record.decision == "review":
        return QueueEntry(priority=record.confidence or 0.0)
    if record.confidence is not None and record.confidence < 0.6:
        return QueueEntry(priority=2.0, audit=True)
    return None


def _reviews(confidences: list[float]) -> list[PredictionRecord]:
    return [
        make_record(
            decision="review",
            prediction=None,
            confidence=c,
            defer_reason="low_confidence",
            created_at=T0 + timedelta(seconds=i),
        )
        for i, c in enumerate(confidences)
    ]


def test_queue_serves_by_priority_then_age(open_log: Callable[..., LogStore]) -> None:
    log = open_log(clock=ManualClock(), triage=by_confidence)
    cases = _reviews([0.7, 0.3, 0.5, 0.3])
    audited = make_record(confidence=0.55, created_at=T0)
    log.write([*cases, audited, make_record(confidence=0.9)])
    expected = [cases[1].id, cases[3].id, cases[2].id, cases[0].id, audited.id]
    listed = log.list_review()
    assert [c.record.id for c in listed] == expected
    assert [c.priority for c in listed] == [0.3, 0.3, 0.5, 0.7, 2.0]
    reasons = [(c.reason, c.audit) for c in listed[-2:]]
    assert reasons == [("low_confidence", False), ("audit", True)]
    served = [log.claim_next(f"r{i}") for i in range(6)]
    assert [c.record.id if c else None for c in served] == [*expected, None]
    assert all(c.status == CaseStatus.CLAIMED for c in log.list_review())


def test_claim_lease_expires_back_into_the_queue(open_log: Callable[..., LogStore]) -> None:
    clock = ManualClock()
    log = open_log(clock=clock)
    first, second = _reviews([0.4, 0.4])
    log.write([first, second])
    case = log.claim_next("ana", lease=timedelta(minutes=5))
    assert case is not None and case.record.id == first.id
    assert case.lease_expires_at == clock.now + timedelta(minutes=5)
    with pytest.raises(FeedbackConflictError, match="already claimed by 'ana'"):
        log.claim(first.id, "bob")
    assert log.claim_next("bob").record.id == second.id  # type: ignore[union-attr]
    clock.now += timedelta(minutes=5)  # ana's lease ends, bob's too
    assert log.review_case(first.id).status == CaseStatus.OPEN
    assert log.review_case(first.id).claimed_by is None
    assert log.claim_next("carol").record.id == first.id  # type: ignore[union-attr]
    with pytest.raises(FeedbackConflictError, match="claimed by 'carol', not 'ana'"):
        log.add_feedback(first.id, "setosa", source="ana")
    renewed = log.claim(first.id, "carol", lease=timedelta(hours=1))
    assert renewed.claimed_at == case.claimed_at + timedelta(minutes=5)
    assert renewed.lease_expires_at == clock.now + timedelta(hours=1)


def test_claim_next_resume_gives_back_the_case_held(open_log: Callable[..., LogStore]) -> None:
    clock = ManualClock()
    log = open_log(clock=clock)
    first, second, third = _reviews([0.3, 0.4, 0.5])
    log.write([first, second, third])
    assert log.claim_next("ana").record.id == first.id  # type: ignore[union-attr]
    clock.now += timedelta(minutes=10)
    again = log.claim_next("ana", resume=True)  # the page opened again: no second case
    assert again is not None and again.record.id == first.id
    assert again.lease_expires_at == clock.now + timedelta(minutes=15)  # renewed
    assert [c.claimed_by for c in log.list_review()] == ["ana", None, None]
    assert log.claim_next("bob", resume=True).record.id == second.id  # type: ignore[union-attr]
    log.add_feedback(first.id, "setosa", source="ana")
    assert log.claim_next("ana", resume=True).record.id == third.id  # type: ignore[union-attr]


def test_label_closes_the_case_and_a_second_is_a_correction(
    open_log: Callable[..., LogStore],
) -> None:
    clock = ManualClock()
    log = open_log(clock=clock)
    (case,) = _reviews([0.4])
    log.write([case])
    log.claim_next("ana")
    assert log.add_feedback(case.id, "setosa", source="ana").status.value == "created"
    labeled = log.review_case(case.id)
    assert (labeled.status, labeled.claimed_by) == (CaseStatus.LABELED, None)
    assert log.claim_next("bob") is None and log.count_review() == 0
    clock.now += timedelta(hours=1)
    again = log.add_feedback(case.id, "virginica", source="bob")
    assert (again.status.value, again.previous_label, again.received_at) == (
        "correction",
        "setosa",
        clock.now,
    )
    with pytest.raises(FeedbackError, match="is not in the review queue"):
        log.review_case(log.write([r := make_record()]) or r.id)


def test_claim_refuses_a_bad_lease(open_log: Callable[..., LogStore]) -> None:
    log = open_log()
    with pytest.raises(ConfigError, match=r"lease must be a positive datetime\.timedelta"):
        log.claim_next("ana", lease=timedelta(0))
    with pytest.raises(ConfigError, match="lease must be a positive"):
        log.claim_next("ana", lease=30)  # type: ignore[arg-type]


def test_threads_never_hold_the_same_case(open_log: Callable[..., LogStore]) -> None:
    first = open_log()
    cases = _reviews([0.5] * 60)
    first.write(cases)
    logs = [first, first, open_log(), open_log()]  # shared and separate logs (SQL: connections)
    claimed: list[list[str]] = [[] for _ in logs]
    start = threading.Barrier(len(logs))

    def work(i: int) -> None:
        start.wait()
        while (case := logs[i].claim_next(f"r{i}")) is not None:
            claimed[i].append(case.record.id)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(logs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    every = [pid for ids in claimed for pid in ids]
    assert len(every) == len(set(every)) == 60
    assert set(every) == {c.id for c in cases}


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_processes_never_hold_the_same_case(sql_url: str) -> None:
    cases = _reviews([0.5] * 90)
    with SqlPredictionLog.open(sql_url) as log:
        log.write(cases)
    children = [
        subprocess.Popen(
            [sys.executable, str(CHILD), sql_url, f"p{i}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    outputs = []
    for child in children:  # every child has its log open before any is told to start
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        out, err = child.communicate(timeout=180)
        assert child.returncode == 0, err
        outputs.append(out.split())
    every = [pid for ids in outputs for pid in ids]
    assert len(every) == len(set(every)) == 90
    if not sql_url.startswith("sqlite"):  # SQLite serialises writers: one may take every case
        assert sum(1 for ids in outputs if ids) >= 2  # the claims really interleaved


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_migration_0003_fills_existing_cases(sql_url: str) -> None:
    engine = sa.create_engine(normalise_url(sql_url))
    config = alembic_config()
    old = _reviews([0.4, 0.6, 0.8])
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        for record in old:
            row = dataclasses.asdict(record)
            row["prediction_set"] = list(row["prediction_set"])
            del row["unknown_values"]  # a column of revision 0005
            conn.execute(sa.insert(predictions).values(**row))
        held = {"claimed_by": "ana", "claimed_at": T0}
        done = {"closed_by": "bob", "closed_at": T0}
        for record, extra in zip(old, ({}, held, done), strict=True):
            values = {"prediction_id": record.id, "created_at": record.created_at, **extra}
            conn.execute(sa.insert(review_cases).values(**values))
    engine.dispose()
    with SqlPredictionLog.open(sql_url, clock=lambda: datetime(2030, 1, 1, tzinfo=UTC)) as log:
        got = [log.review_case(r.id) for r in old]
        assert [c.status for c in got] == ["open", "claimed", "labeled"]
        assert [c.reason for c in got] == ["low_confidence"] * 3
        assert got[1].claimed_by == "ana"  # a claim made before leases never expires
        assert log.claim_next("carol").record.id == old[0].id  # type: ignore[union-attr]
        assert log.claim_next("dan") is None


def test_skip_and_flag_set_a_case_aside(open_log: Callable[..., LogStore]) -> None:
    log = open_log(clock=ManualClock())
    first, second, third = _reviews([0.3, 0.4, 0.5])
    log.write([first, second, third])
    log.claim_next("ana")
    with pytest.raises(FeedbackConflictError, match="claimed by 'ana', not 'bob'"):
        log.set_aside(first.id, "bob", CaseStatus.SKIPPED)
    with pytest.raises(FeedbackError, match="set aside as 'skipped' or 'flagged'"):
        log.set_aside(first.id, "ana", CaseStatus.LABELED)
    skipped = log.set_aside(first.id, "ana", CaseStatus.SKIPPED)
    assert (skipped.status, skipped.claimed_by) == (CaseStatus.SKIPPED, None)
    assert log.set_aside(second.id, "bob", CaseStatus.FLAGGED).status == CaseStatus.FLAGGED
    assert log.claim_next("bob").record.id == third.id  # type: ignore[union-attr]
    assert log.claim_next("bob") is None  # set-aside cases are not served
    assert [c.status for c in log.list_review()] == ["skipped", "flagged", "claimed"]
    assert log.claim(second.id, "admin").status == CaseStatus.CLAIMED  # taken back by id
    log.add_feedback(first.id, "setosa", source="carol")
    assert log.review_case(first.id).status == CaseStatus.LABELED
    assert log.count_review() == 2
