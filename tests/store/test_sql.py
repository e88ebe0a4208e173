"""What only the SQL log does: URLs, SQLite setup, migrations, the writer's batches and locks."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event

from prudent.errors import ConfigError, FeedbackConflictError, OverloadedError, StoreError
from prudent.models import DeferReason
from prudent.store import SqlPredictionLog, head_revision, hour_of, normalise_url
from prudent.store._engine import create_engines
from prudent.store._migrate import alembic_config, upgrade
from prudent.store._sql_write import row_of
from prudent.store._tables import VERSION_TABLE, metadata, predictions
from tests.store.conftest import SQL_BACKENDS, make_record

pytestmark = pytest.mark.timeout(60)


@contextmanager
def write_lock(url: str) -> Iterator[None]:
    """Hold the database's write lock from another connection (as another process would)."""
    if url.startswith("sqlite"):
        raw = sqlite3.connect(normalise_url(url).database or "", isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            raw.execute("ROLLBACK")
            raw.close()
        return
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as raw:
        raw.execute("LOCK TABLE predictions IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            raw.rollback()


def _insert_sizes(log: SqlPredictionLog) -> list[int]:
    """Record the number of rows of every insert into predictions the writer runs."""
    sizes: list[int] = []

    @event.listens_for(log._engines.write, "before_execute")  # test-only peek at the writer
    def _seen(conn: Any, clause: Any, multiparams: Any, params: Any, options: Any) -> None:
        if isinstance(clause, sa.Insert) and clause.table.name == "predictions":
            sizes.append(len(multiparams) if multiparams else 1)

    return sizes


# -- URLs and options ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///rel/log.db", "sqlite"),
        ("logs/prudent.db", "sqlite"),
    ],
)
def test_normalise_url_drivers(given: str, driver: str) -> None:
    assert normalise_url(given).drivername == driver


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("sqlite://", "in-memory SQLite database"),
        ("sqlite:///:memory:", "in-memory SQLite database"),
        ("mysql://u@h/db", "uses driver 'mysql', but only sqlite:/// and postgresql"),
        ("postgresql+psycopg2://u@h/db", "uses driver 'postgresql\\+psycopg2'"),
        ("://nothing", "does not parse"),
    ],
)
def test_normalise_url_refuses(given: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        normalise_url(given)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"synchronous": "OFF"}, r"synchronous must be one of \['FULL', 'NORMAL'\], but 'OFF'"),
        ({"batch_rows": 0}, "batch_rows must be an integer of at least 1, but 0"),
        ({"queue_size": True}, "queue_size must be an integer of at least 1, but True"),
        ({"batch_ms": -1}, "batch_ms must be a number >= 0, but -1"),
        ({"busy_timeout_ms": -5}, "busy_timeout_ms must be a non-negative integer, but -5"),
    ],
)
def test_open_refuses_bad_options(tmp_path: Path, option: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SqlPredictionLog.open(tmp_path / "log.db", **option)


def test_open_in_a_missing_folder_raises_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"failed opening sqlite:///.*unable to open database"):
        SqlPredictionLog.open(tmp_path / "absent" / "log.db")


# -- SQLite setup --------------------------------------------------------------------------------
@pytest.mark.parametrize(("synchronous", "level"), [("FULL", 2), ("normal", 1)])
def test_sqlite_pragmas_on_every_connection(tmp_path: Path, synchronous: str, level: int) -> None:
    with SqlPredictionLog.open(tmp_path / "log.db", synchronous=synchronous) as log:
        for engine in (log._engines.write, log._engines.read):
            with engine.connect() as conn:
                pragma = {
                    name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
                }
            assert pragma == {
                "journal_mode": "wal",
                "synchronous": level,
                "busy_timeout": 5000,
                "foreign_keys": 1,
            }
        log.write([make_record()])
        assert (tmp_path / "log.db-wal").exists()


def test_sqlite_writes_begin_immediate_and_insert_or_ignore(tmp_path: Path) -> None:
    statements: list[str] = []
    with SqlPredictionLog.open(tmp_path / "log.db") as log:
        event.listen(
            log._engines.write,
            "before_cursor_execute",
            lambda conn, cursor, statement, *rest: statements.append(statement),
        )
        log.write([make_record(decision="review")])
    assert statements[0] == "BEGIN IMMEDIATE"
    assert any(s.startswith("INSERT INTO predictions") and "ON CONFLICT" in s for s in statements)
    assert any(s.startswith("INSERT INTO review_cases") and "DO NOTHING" in s for s in statements)


def test_sqlite_write_waits_for_another_writer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    with SqlPredictionLog.open(url) as log:
        record = make_record()
        with write_lock(url):
            future = log.write_async([record])
            time.sleep(0.3)
            assert not future.done()
        assert future.result(timeout=10) is None
        assert log.get(record.id) == record


def test_sqlite_lock_past_busy_timeout_fails_then_recovers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    with SqlPredictionLog.open(url, busy_timeout_ms=100) as log:
        with write_lock(url):
            with pytest.raises(
                StoreError, match=r"failed writing 1 row\(s\): OperationalError: database is locked"
            ):
                log.write([make_record()])
            with pytest.raises(StoreError, match="database is locked"):
                log.ping()
        log.write([make_record()])
        log.ping()
        assert log.count() == 1


# -- migrations ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_migration_records_its_version_and_reopening_is_a_no_op(sql_url: str) -> None:
    SqlPredictionLog.open(sql_url).close()
    engines = create_engines(normalise_url(sql_url))
    statements: list[str] = []
    event.listen(
        engines.write, "before_cursor_execute", lambda c, cur, stmt, *rest: statements.append(stmt)
    )
    try:
        assert upgrade(engines.write) == head_revision() == "0008"
        with engines.read.connect() as conn:
            versions = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").all()
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}), metadata
            )
    finally:
        engines.dispose()
    assert versions == [("0008",)]
    assert not [s for s in statements if s.lstrip().upper().startswith(("CREATE", "ALTER"))]
    assert diff == []


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_migration_from_0001_adds_the_defer_reason_and_keeps_old_rows(sql_url: str) -> None:
    engine = sa.create_engine(normalise_url(sql_url))
    config = alembic_config()
    old = make_record(decision="review", prediction=None, reason="confidence 0.51 < 0.90")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        newer = ("defer_reason", "unknown_values")
        row = {k: v for k, v in dataclasses.asdict(old).items() if k not in newer}
        row["prediction_set"] = list(row["prediction_set"])
        conn.execute(sa.insert(predictions).values(**row))
    engine.dispose()
    with SqlPredictionLog.open(sql_url) as log:
        assert log.get(old.id).defer_reason is None  # its reason is in the text
        new = make_record(decision="review", prediction=None, defer_reason="stage_disagreement")
        log.write([new])
    with SqlPredictionLog.open(sql_url) as log:
        assert log.get(new.id).defer_reason is DeferReason.STAGE_DISAGREEMENT


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_migration_from_0005_adds_unknown_values_and_keeps_old_rows(sql_url: str) -> None:
    engine = sa.create_engine(normalise_url(sql_url))
    config = alembic_config()
    old = make_record()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0005")
        row = {k: v for k, v in dataclasses.asdict(old).items() if k != "unknown_values"}
        row["prediction_set"] = list(row["prediction_set"])
        conn.execute(sa.insert(predictions).values(**row))
    engine.dispose()
    with SqlPredictionLog.open(sql_url) as log:
        assert log.get(old.id).unknown_values is None
        new = make_record(unknown_values="age, fare")
        log.write([new, make_record(unknown_values="")])
    with SqlPredictionLog.open(sql_url) as log:
        assert log.get(new.id).unknown_values == "age, fare"
        stored = sorted(str(r.unknown_values) for r in log.iter_predictions())
        assert stored == ["None", "None", "age, fare"]  # "" is stored as NULL


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_migration_from_0006_stores_every_row_s_hour_and_set_size(sql_url: str) -> None:
    engine = sa.create_engine(normalise_url(sql_url))
    config = alembic_config()
    when = [
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2024, 3, 1, tzinfo=UTC),
    ]
    old = [make_record(created_at=t) for t in when]
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
        rows = [dataclasses.asdict(r) for r in old]
        sets = [["setosa"], ["setosa", "versicolor"]]
        conn.execute(
            sa.insert(predictions),
            [r | {"prediction_set": s} for r, s in zip(rows, sets, strict=True)],
        )
    engine.dispose()
    new = make_record(created_at=datetime(2024, 3, 1, 13, 30, tzinfo=UTC), prediction_set=())
    with SqlPredictionLog.open(sql_url) as log:
        log.write([new])
    engine = sa.create_engine(normalise_url(sql_url))
    with engine.connect() as conn:
        p = predictions.c
        stored = sorted(conn.execute(sa.select(p.created_at, p.hour, p.set_size)).all())
    engine.dispose()
    assert stored == [
        (t, hour_of(t), k) for t, k in zip([*when, new.created_at], [1, 2, 0], strict=True)
    ]
    assert [hour for _, hour, _ in stored] == [262967, 474792, 474805]


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_migration_refuses_an_unknown_revision(sql_url: str) -> None:
    SqlPredictionLog.open(sql_url).close()
    engine = sa.create_engine(normalise_url(sql_url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(StoreError, match="schema revision '9999', which this version of prudent"):
        SqlPredictionLog.open(sql_url)


# -- the writer ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_writer_commits_waiting_rows_in_batches(sql_url: str) -> None:
    with SqlPredictionLog.open(sql_url, batch_rows=16, batch_ms=1000) as log:
        sizes = _insert_sizes(log)
        with write_lock(sql_url):
            first = log.write_async([make_record()])
            time.sleep(0.3)  # the writer now waits for the lock with one row
            futures = [log.write_async([make_record()]) for _ in range(99)]
        for future in [first, *futures]:
            future.result(timeout=20)
        assert sizes == [1, 16, 16, 16, 16, 16, 16, 3]
        assert log.count() == 100


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_writer_keeps_a_large_write_whole(sql_url: str) -> None:
    with SqlPredictionLog.open(sql_url, batch_rows=8) as log:
        sizes = _insert_sizes(log)
        log.write([make_record() for _ in range(50)])
        assert (sizes, log.count()) == ([50], 50)


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_writer_refuses_past_its_queue_size(sql_url: str) -> None:
    with SqlPredictionLog.open(sql_url, queue_size=2) as log:
        with write_lock(sql_url):
            futures = [log.write_async([make_record()])]
            time.sleep(0.3)  # taken by the writer, which waits for the lock
            futures += [log.write_async([make_record()]) for _ in range(2)]
            started = time.monotonic()
            with pytest.raises(OverloadedError, match=r"write queue is full \(2 waiting writes\)"):
                log.write_async([make_record()])
            assert time.monotonic() - started < 0.1
        for future in futures:
            future.result(timeout=20)
        assert log.count() == 3


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_writer_bad_job_fails_alone(sql_url: str) -> None:
    with SqlPredictionLog.open(sql_url, batch_ms=1000) as log:
        good = [make_record() for _ in range(3)]
        bad_row = {**row_of(make_record(inputs={"secret": "hunter2"})), "decision": None}
        with write_lock(sql_url):
            first = log.write_async([good[0]])
            time.sleep(0.3)
            bad = log._writer.submit_rows([bad_row])
            rest = log.write_async(good[1:])
        first.result(timeout=20)
        rest.result(timeout=20)
        with pytest.raises(
            StoreError, match=r"failed writing 1 row\(s\): \w+: (NOT NULL|null value)"
        ) as info:
            bad.result(timeout=20)
        assert "hunter2" not in str(info.value)
        assert log.count() == 3


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_close_drains_the_queue(sql_url: str) -> None:
    log = SqlPredictionLog.open(sql_url)
    futures = [log.write_async([make_record()]) for _ in range(300)]
    log.close()
    assert all(f.done() and f.exception() is None for f in futures)
    with SqlPredictionLog.open(sql_url) as again:
        assert again.count() == 300


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_write_is_visible_to_another_connection_when_it_returns(sql_url: str) -> None:
    with SqlPredictionLog.open(sql_url) as log:
        other = sa.create_engine(normalise_url(sql_url), poolclass=sa.NullPool)
        missing: list[str] = []

        def client() -> None:
            with other.connect() as conn:
                for _ in range(25):
                    record = make_record()
                    log.write([record])
                    query = sa.text("SELECT count(*) FROM predictions WHERE id = :i")
                    if conn.execute(query, {"i": record.id}).scalar() != 1:
                        missing.append(record.id)
                    conn.rollback()

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        other.dispose()
        assert (missing, log.count()) == ([], 100)


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_two_logs_on_one_database(sql_url: str) -> None:
    with SqlPredictionLog.open(sql_url) as a, SqlPredictionLog.open(sql_url) as b:
        errors: list[BaseException] = []

        def client(log: SqlPredictionLog) -> None:
            try:
                for _ in range(50):
                    log.write([make_record(decision="review")])
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(log,)) for log in (a, b, a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert (errors, a.count(), b.count_review()) == ([], 200, 200)
        case_id = a.list_review(limit=1)[0].record.id
        winners: list[str] = []
        refused: list[str] = []

        def claim(log: SqlPredictionLog, reviewer: str) -> None:
            try:
                log.claim(case_id, reviewer)
                winners.append(reviewer)
            except FeedbackConflictError:
                refused.append(reviewer)

        claimers = [threading.Thread(target=claim, args=((a, b)[i % 2], f"r{i}")) for i in range(6)]
        for t in claimers:
            t.start()
        for t in claimers:
            t.join()
        assert (len(winners), len(refused)) == (1, 5)
        assert b.list_review(limit=1)[0].claimed_by == winners[0]
        assert a.integrity_check() == []


@pytest.mark.postgres
def test_postgresql_url_without_driver_uses_psycopg(postgres_url: str) -> None:
    from tests._postgres import create_database

    url = create_database(postgres_url).replace("postgresql+psycopg://", "postgresql://")
    with SqlPredictionLog.open(url) as log:
        assert log.url.startswith("postgresql+psycopg://prudent:***@127.0.0.1")
        log.write([make_record()])
        assert log.count() == 1


@pytest.mark.postgres
def test_writer_reconnects_after_losing_its_connection(postgres_url: str) -> None:
    from tests._postgres import create_database

    url = create_database(postgres_url)
    admin_url = url.replace("postgresql+psycopg://", "postgresql://")

    def kill_other_connections() -> None:
        with psycopg.connect(admin_url) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert killed is not None and killed[0] >= 1

    with SqlPredictionLog.open(url) as log:
        case = make_record(decision="review")
        log.write([case])
        kill_other_connections()
        log.write([make_record()])
        kill_other_connections()
        assert log.add_feedback(case.id, "setosa").status.value == "created"
        assert (log.count(), log.count_review()) == (2, 0)


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_reopened_log_keeps_everything(sql_url: str) -> None:
    records = [make_record(decision="review") for _ in range(3)]
    ids = [r.id for r in records]
    with SqlPredictionLog.open(sql_url) as first:
        first.write(records)
        first.claim(ids[0], "ana")
        first.add_feedback(ids[1], "setosa")
    with SqlPredictionLog.open(sql_url) as again:
        assert [again.get(i) for i in ids] == records
        assert {c.record.id: c.claimed_by for c in again.list_review()} == {
            ids[0]: "ana",
            ids[2]: None,
        }
        assert again.feedback_history(ids[1])[0].label == "setosa"
