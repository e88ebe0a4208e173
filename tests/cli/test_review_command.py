"""``prudent review list | show | label`` over a real SQLite log."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prudent.cli import app
from prudent.feedback import QueuePolicy
from prudent.store import PredictionRecord, SqlPredictionLog
from tests.cli.conftest import Trained
from tests.cli.test_fit_command import assert_one_line_error
from tests.fixtures import run_main
from tests.store.conftest import T0, make_record

runner = CliRunner()


@pytest.fixture
def queue(tmp_path: Path) -> tuple[str, list[PredictionRecord]]:
    """A log with three review cases (one OOD) and one accepted prediction."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    reviews = [
        make_record(
            decision="review",
            prediction=None,
            confidence=c,
            is_ood=ood,
            defer_reason="out_of_distribution" if ood else "low_confidence",
            inputs={"text": "<script>x</script>", "n": i},
            created_at=T0 + timedelta(seconds=i),
        )
        for i, (c, ood) in enumerate([(0.5, False), (0.3, False), (0.8, True)])
    ]
    with SqlPredictionLog.open(url, triage=QueuePolicy(audit_share=0.0)) as log:  # as served
        log.write([*reviews, make_record()])
    return url, reviews


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["review", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("command", [[], ["list"], ["show"], ["label"]])
def test_review_help_names_the_commands(command: list[str]) -> None:
    code, out = _invoke(*command, "--help")
    assert code == 0
    assert {"": "list", "list": "--json", "show": "--next", "label": "--reviewer"}[
        "".join(command)
    ] in out


def test_review_list_json_in_priority_order(queue: tuple[str, list[PredictionRecord]]) -> None:
    url, reviews = queue
    code, out = _invoke("list", "--log-db", url, "--json")
    assert code == 0
    listed = json.loads(out)
    assert listed["total"] == 3
    assert [c["prediction_id"] for c in listed["cases"]] == [r.id for r in reviews[::-1]]
    assert [c["reason"] for c in listed["cases"]][:2] == ["out_of_distribution", "low_confidence"]
    code, out = _invoke("list", "--log-db", url)
    assert code == 0 and "3 case(s) to review" in out and reviews[2].id in out


def test_review_show_next_claims_and_label_corrects(
    queue: tuple[str, list[PredictionRecord]],
) -> None:
    url, reviews = queue
    code, out = _invoke("show", "--next", "--reviewer", "ana", "--log-db", url, "--json")
    case = json.loads(out)
    assert (code, case["prediction_id"], case["status"]) == (0, reviews[2].id, "claimed")
    assert case["inputs"] == {"text": "<script>x</script>", "n": 2}
    code, out = _invoke("show", "--next", "--reviewer", "bob", "--log-db", url, "--json")
    assert json.loads(out)["prediction_id"] == reviews[1].id  # never ana's case
    code, out = _invoke("show", "--next", "--reviewer", "ana", "--log-db", url, "--json")
    assert json.loads(out)["prediction_id"] == reviews[2].id  # the case ana holds, not a third
    code, out = _invoke("label", reviews[2].id, "setosa", "--reviewer", "ana", "--log-db", url)
    assert code == 0 and out.startswith(f"created: {reviews[2].id} = 'setosa' at ")
    code, out = _invoke("label", reviews[2].id, "setosa", "--reviewer", "ana", "--log-db", url)
    assert out.startswith("duplicate:")
    code, out = _invoke("label", reviews[2].id, "virginica", "--reviewer", "bob", "--log-db", url)
    assert out.startswith("correction:") and "(was 'setosa')" in out
    code, out = _invoke("show", reviews[2].id, "--log-db", url)
    assert code == 0 and "labeled" in out and "out_of_distribution" in out
    shown = next(line for line in out.splitlines() if line.startswith("prediction_set"))
    assert json.loads(shown.removeprefix("prediction_set").strip()) is not None  # JSON, as inputs
    with SqlPredictionLog.open(url) as log:
        assert [e.label for e in log.feedback_history(reviews[2].id)] == ["setosa", "virginica"]


def test_review_show_without_a_free_case(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    SqlPredictionLog.open(url).close()  # a log that exists, with no case
    code, out = _invoke("show", "--next", "--reviewer", "ana", "--log-db", url)
    assert (code, out.strip()) == (0, "No free case to review.")
    code, out = _invoke("show", "--next", "--reviewer", "ana", "--log-db", url, "--json")
    assert json.loads(out) is None


def test_review_errors_are_one_line(queue: tuple[str, list[PredictionRecord]]) -> None:
    url, reviews = queue
    done = run_main("review", "show", "--log-db", url)
    assert_one_line_error(done, "PREDICTION_ID", "--next")
    done = run_main("review", "label", "nope", "a", "--reviewer", "ana", "--log-db", url)
    assert_one_line_error(done, "'nope'")
    _invoke("show", "--next", "--reviewer", "ana", "--log-db", url)
    done = run_main(
        "review", "label", reviews[2].id, "setosa", "--reviewer", "bob", "--log-db", url
    )
    assert_one_line_error(done, "claimed by 'ana', not 'bob'")


def test_review_label_checks_the_classes_of_the_logged_prediction(
    queue: tuple[str, list[PredictionRecord]],
) -> None:
    """Without --bundle, the classes are those the log's record gives probabilities for: a
    typo or an empty label is refused, in one line, and nothing is stored."""
    url, reviews = queue
    case = reviews[0].id
    for label, why in (("setsa", "Label 'setsa' is not among"), ("", "empty"), (" ", "empty")):
        done = run_main("review", "label", case, label, "--reviewer", "ana", "--log-db", url)
        assert done.returncode == 2
        assert_one_line_error(done, why, "classes ['setosa', 'versicolor', 'virginica']")
    with SqlPredictionLog.open(url) as log:
        assert log.feedback_history(case) == []
    code, out = _invoke("label", case, "virginica", "--reviewer", "ana", "--log-db", url)
    assert code == 0 and out.startswith(f"created: {case} = 'virginica' at ")


def test_review_label_without_classes_in_the_record_needs_the_bundle(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    record = make_record(decision="review", prediction=None, probabilities={})
    with SqlPredictionLog.open(url) as log:
        log.write([record])
    done = run_main("review", "label", record.id, "setosa", "--reviewer", "ana", "--log-db", url)
    assert_one_line_error(done, "names no classes", "--bundle")


def test_review_label_refuses_a_bundle_of_other_classes_than_the_prediction(
    queue: tuple[str, list[PredictionRecord]], trained: Trained
) -> None:
    """An iris prediction labelled with --bundle of the breast-cancer model: 'benign' was
    stored for it (checked against the wrong model's classes), closing the case."""
    url, reviews = queue
    case = reviews[0].id
    done = run_main("review", "label", case, "benign", "--reviewer", "ana", "--log-db", url,
                    "--bundle", trained.bundle)  # fmt: skip
    assert done.returncode == 2
    assert_one_line_error(done, "did not make prediction", "leave --bundle out")
    with SqlPredictionLog.open(url) as log:
        assert log.feedback_history(case) == []
    record = make_record(decision="review", prediction=None, probabilities={})
    with SqlPredictionLog.open(url) as log:  # no classes logged: the bundle's are the check
        log.write([record])
    code, out = _invoke("label", record.id, "benign", "--reviewer", "ana", "--log-db", url,
                        "--bundle", str(trained.bundle))  # fmt: skip
    assert code == 0 and out.startswith(f"created: {record.id} = 'benign'")


@pytest.mark.parametrize(
    "command",
    [["list"], ["show", "--next", "--reviewer", "ana"], ["label", "x", "setosa", "--reviewer",
     "ana"], ["skip", "x", "--reviewer", "ana"], ["flag", "x", "--reviewer", "ana"]],
)  # fmt: skip
def test_review_refuses_a_sqlite_log_that_is_not_there(tmp_path: Path, command: list[str]) -> None:
    typo = tmp_path / "nolog2.db"
    done = run_main("review", *command, "--log-db", f"sqlite:///{typo}")
    assert_one_line_error(done, f"No prediction log at '{typo}'", "--log-db")
    assert done.returncode == 2 and not typo.exists()
