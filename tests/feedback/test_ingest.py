"""Label ingestion: each row judged on its own, on every backend; the others are stored."""

from __future__ import annotations

import numpy as np

from prudent.errors import FeedbackConflictError
from prudent.feedback import ingest_labels, outcome_counts
from prudent.store import LogStore
from tests.store.conftest import make_record

CLASSES = ["setosa", "versicolor", "virginica"]


def test_ingest_stores_every_valid_row_and_says_why_the_others_were_refused(
    log: LogStore,
) -> None:
    held, free, other = make_record(decision="review"), make_record(), make_record()
    log.write([held, free, other])
    log.claim(held.id, "bob")
    rows = [
        (free.id, "setosa"),
        ("nope", "setosa"),
        (other.id, "rose"),
        (held.id, "virginica"),  # bob holds this case: ana may not label it
        (free.id, "setosa"),
        (free.id, np.str_("versicolor")),
        (other.id, "virginica"),
    ]
    outcomes = ingest_labels(log, rows, source="ana", allowed_labels=CLASSES)
    assert [o.status for o in outcomes] == [
        "created",
        "unknown",
        "refused",
        "refused",
        "duplicate",
        "correction",
        "created",
    ]
    assert outcome_counts(outcomes) == {
        "created": 2,
        "unknown": 1,
        "refused": 2,
        "duplicate": 1,
        "correction": 1,
    }
    problems = [o.problem for o in outcomes]
    assert problems[1] is not None and (problems[1].field, problems[1].row) == ("prediction_id", 1)
    assert problems[2] is not None and problems[2].field == "label"
    assert "'rose'" in problems[2].received and "setosa" in problems[2].expected
    assert isinstance(outcomes[3].error, FeedbackConflictError)
    assert [e.label for e in log.feedback_history(free.id)] == ["setosa", "versicolor"]
    assert [e.label for e in log.feedback_history(other.id)] == ["virginica"]
    assert log.feedback_history(held.id) == []


def test_ingest_of_valid_rows_is_one_batch_with_the_log_s_statuses(log: LogStore) -> None:
    records = [make_record() for _ in range(3)]
    log.write(records)
    rows = [(r.id, label) for r, label in zip(records, CLASSES, strict=True)]
    outcomes = ingest_labels(log, rows, source="cli", allowed_labels=CLASSES)
    assert [o.result.label for o in outcomes if o.result is not None] == CLASSES
    assert all(o.problem is None for o in outcomes)
    assert ingest_labels(log, [], source="cli") == []


def test_labels_spelled_otherwise_are_stored_as_the_class_they_spell(log: LogStore) -> None:
    """A labels file is read as written: ``1.0`` for the class 1 and ``TRUE`` for True were
    stored as written, so the monitor counted every such correct label as wrong (realised
    accuracy 0.0 on 57 labelled predictions). They are stored as the class's text; an empty
    label is refused, not stored as ``'nan'``."""
    numbers = [make_record(probabilities={0: 0.2, 1: 0.8}, prediction=1) for _ in range(3)]
    log.write(numbers)
    given = [(numbers[0].id, "1.0"), (numbers[1].id, " 0 "), (numbers[2].id, float("nan"))]
    outcomes = ingest_labels(log, given, source="cli", allowed_labels=[0, 1])
    assert [o.status for o in outcomes] == ["created", "created", "refused"]
    assert [log.feedback_history(r.id)[0].label for r in numbers[:2]] == ["1", "0"]
    assert "Label is empty" in str(outcomes[2].error)
    again = ingest_labels(log, [(numbers[0].id, 1)], source="cli", allowed_labels=[0, 1])
    assert again[0].status == "duplicate"  # the same class, however it was written
    flags = [make_record(probabilities={False: 0.4, True: 0.6}, prediction=True)]
    log.write(flags)
    stored = ingest_labels(log, [(flags[0].id, "TRUE")], source="cli", allowed_labels=[False, True])
    assert stored[0].status == "created" and log.feedback_history(flags[0].id)[0].label == "True"


def test_ids_and_labels_are_read_without_spaces_and_uuids_in_any_case(log: LogStore) -> None:
    """A spreadsheet's ids padded with spaces or in capitals, and labels with a trailing
    space, came back 'unknown' and 'refused'; they are the ids and classes they name."""
    a, b, c = make_record(), make_record(), make_record()
    log.write([a, b, c])
    rows = [(f" {a.id}", "setosa "), (f"{b.id}\t", " versicolor"), (c.id.upper(), "virginica")]
    outcomes = ingest_labels(log, rows, source="ana", allowed_labels=CLASSES)
    assert [o.status for o in outcomes] == ["created", "created", "created"]
    assert [e.label for e in log.feedback_history(a.id)] == ["setosa"]
    assert [e.label for e in log.feedback_history(c.id)] == ["virginica"]
