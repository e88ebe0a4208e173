"""``prudent review export --format label-studio | import | skip | flag`` over a real log.

The export is checked the way Label Studio reads it (every result's ``from_name`` and
``to_name`` name tags of the labeling config, its choices among the config's); the import
reads files in Label Studio's documented JSON export format (annotated tasks with
``annotations[].result[].value.choices``, ``was_cancelled``, ``completed_by``, …).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import prudent
from prudent.cli import app
from prudent.errors import ConfigError, DataError, FeedbackConflictError, FeedbackError
from prudent.feedback import QueuePolicy, read_annotations
from prudent.store import CaseStatus, PredictionRecord, SqlPredictionLog
from tests.cli.conftest import Trained
from tests.fixtures import example, fit_bundle
from tests.store.conftest import make_record

runner = CliRunner()
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def queue(trained: Trained, tmp_path: Path) -> tuple[str, list[PredictionRecord], list[str]]:
    """Three review cases over the trained bundle's inputs (the first note holds a script)."""
    bundle = prudent.load(trained.bundle)
    classes = [str(c) for c in bundle.classes]
    rows = trained.new.head(3).to_dict(orient="records")
    rows[0]["note"] = SCRIPT
    records = [
        make_record(
            model_version=bundle.version,
            inputs=row,
            probabilities={classes[0]: 0.4 + 0.1 * i, classes[1]: 0.6 - 0.1 * i},
            prediction=None,
            prediction_set=tuple(classes),
            decision="review",
            defer_reason="low_confidence",
        )
        for i, row in enumerate(rows)
    ]
    url = f"sqlite:///{tmp_path / 'log.db'}"
    with SqlPredictionLog.open(url, triage=QueuePolicy(audit_share=0.0)) as log:
        log.write(records)
    return url, records, classes


def _invoke(*args: Any) -> tuple[int, str]:
    result = runner.invoke(app, ["review", *map(str, args)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _tags(config: str) -> tuple[dict[str, str], list[str]]:
    """The config's tag names (name → tag) and its choices, as Label Studio parses them."""
    root = ET.fromstring(config)
    names = {e.get("name", ""): e.tag for e in root.iter() if e.get("name")}
    return names, [e.get("value", "") for e in root.iter("Choice")]


def _annotated(task: dict[str, Any], n: int, *labels: str, cancelled: bool = False) -> None:
    """Add annotations to an exported task, as Label Studio's JSON export holds them."""
    task["id"] = n
    task["annotations"] = [
        {
            "id": 100 * n + k,
            "completed_by": 7,
            "result": [
                {
                    "id": f"r{n}{k}",
                    "from_name": "label",
                    "to_name": task["predictions"][0]["result"][0]["to_name"],
                    "type": "choices",
                    "origin": "manual",
                    "value": {"choices": [label]},
                }
            ],
            "was_cancelled": cancelled,
            "ground_truth": False,
            "created_at": f"2026-01-0{k + 1}T10:00:00.000000Z",
            "updated_at": f"2026-01-0{k + 1}T10:00:00.000000Z",
            "lead_time": 3.5,
            "task": n,
        }
        for k, label in enumerate(labels)
    ]


@pytest.mark.parametrize(
    ("command", "shown"),
    [("export", "--format"), ("import", "cancelled"), ("skip", "--reviewer"), ("flag", "admin")],
)
def test_review_help_of_the_new_commands(command: str, shown: str) -> None:
    code, out = _invoke(command, "--help")
    assert code == 0 and shown in out


def test_export_writes_tasks_label_studio_can_read(
    queue: tuple[str, list[PredictionRecord], list[str]], trained: Trained, tmp_path: Path
) -> None:
    url, records, classes = queue
    code, out = _invoke("export", "--format", "label-studio", "--bundle", trained.bundle,
                        "--out", tmp_path / "ls", "--log-db", url)  # fmt: skip
    assert code == 0 and out.startswith("3 task(s) ->")
    tasks = json.loads((tmp_path / "ls" / "tasks.json").read_text())
    names, choices = _tags((tmp_path / "ls" / "labeling-config.xml").read_text())
    assert choices == classes and names["label"] == "Choices"
    assert {t["data"]["prudent_id"] for t in tasks} == {r.id for r in records}
    for task in tasks:
        (prediction,) = task["predictions"]
        assert prediction["model_version"] == records[0].model_version
        (result,) = prediction["result"]
        assert names[result["from_name"]] == "Choices" and result["to_name"] in names
        assert result["type"] == "choices" and result["value"]["choices"][0] in classes
        assert 0.5 <= prediction["score"] <= 1
    first = next(t for t in tasks if t["data"]["prudent_id"] == records[0].id)
    assert first["data"]["text"] == SCRIPT and first["data"]["input"]["note"] == SCRIPT
    with pytest.raises(ConfigError, match="--format must be 'label-studio', but 'csv'"):
        _invoke("export", "--format", "csv", "--bundle", trained.bundle, "--out", tmp_path)


def test_export_leaves_out_the_cases_a_reviewer_holds(
    queue: tuple[str, list[PredictionRecord], list[str]], trained: Trained, tmp_path: Path
) -> None:
    """A case another reviewer holds was exported, and its Label Studio label then refused on
    import; skipped and flagged cases still need labels and are exported."""
    url, records, _ = queue
    with SqlPredictionLog.open(url) as log:
        log.claim(records[0].id, "bob")
        log.set_aside(records[1].id, "ana", CaseStatus.SKIPPED)
    code, out = _invoke("export", "--bundle", trained.bundle, "--out", tmp_path, "--log-db", url)
    assert code == 0 and out.startswith("2 task(s) ->")
    assert "1 case(s) a reviewer holds now left out" in out
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert {t["data"]["prudent_id"] for t in tasks} == {records[1].id, records[2].id}


def test_export_suggests_the_label_served_not_another(trained: Trained, tmp_path: Path) -> None:
    bundle = prudent.load(trained.bundle)
    first, second = (str(c) for c in bundle.classes[:2])
    served = make_record(
        model_version=bundle.version,
        inputs=trained.new.head(1).to_dict(orient="records")[0],
        probabilities={first: 0.9, second: 0.1},
        prediction=second,  # what the service answered, the review page and list show
        confidence=0.1,
        decision="review",
        defer_reason="out_of_distribution",
    )
    url = f"sqlite:///{tmp_path / 'log.db'}"
    with SqlPredictionLog.open(url, triage=QueuePolicy(audit_share=0.0)) as log:
        log.write([served])
    code, _ = _invoke("export", "--bundle", trained.bundle, "--out", tmp_path, "--log-db", url)
    (task,) = json.loads((tmp_path / "tasks.json").read_text())
    (prediction,) = task["predictions"]
    assert code == 0 and prediction["result"][0]["value"]["choices"] == [second]
    assert prediction["score"] == pytest.approx(0.1)


def test_import_reads_the_latest_annotation_and_skips_cancelled(
    queue: tuple[str, list[PredictionRecord], list[str]], trained: Trained, tmp_path: Path
) -> None:
    url, records, classes = queue
    _invoke("export", "--bundle", trained.bundle, "--out", tmp_path, "--log-db", url)
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    by_id = {t["data"]["prudent_id"]: t for t in tasks}
    _annotated(by_id[records[0].id], 1, classes[1])
    _annotated(by_id[records[1].id], 2, classes[0], cancelled=True)
    _annotated(by_id[records[2].id], 3, classes[0], classes[1])  # the later one counts
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks))
    code, out = _invoke("import", export, "--bundle", trained.bundle, "--log-db", url)
    assert code == 0 and out.startswith("2 created; 1 task(s) skipped"), out
    assert "skipped task 2: no annotation (or every one cancelled)" in out
    with SqlPredictionLog.open(url) as log:
        history = log.feedback_history(records[2].id)
        assert [(e.label, e.source) for e in history] == [(classes[1], "label-studio:7")]
        assert log.review_case(records[0].id).status is CaseStatus.LABELED
        assert log.feedback_history(records[1].id) == []
    code, out = _invoke("import", export, "--bundle", trained.bundle, "--log-db", url)
    assert code == 0 and out.startswith("2 duplicate;")  # idempotent


def test_import_reports_a_label_not_among_the_classes(
    queue: tuple[str, list[PredictionRecord], list[str]], trained: Trained, tmp_path: Path
) -> None:
    url, _, classes = queue
    _invoke("export", "--bundle", trained.bundle, "--out", tmp_path, "--log-db", url)
    tasks = json.loads((tmp_path / "tasks.json").read_text())[:2]
    _annotated(tasks[0], 1, "no-such-class")
    _annotated(tasks[1], 2, classes[0])
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    code, out = _invoke("import", tmp_path / "export.json", "--bundle", trained.bundle,
                        "--log-db", url)  # fmt: skip
    assert code == 1 and "refused" in out and "no-such-class" in out and "1 created" in out
    (tmp_path / "bad.json").write_text('{"not": "a list"}')
    with pytest.raises(DataError, match=r"is a JSON list of tasks .* but dict was received"):
        _invoke("import", tmp_path / "bad.json", "--bundle", trained.bundle)


def test_export_and_import_refuse_a_bundle_the_log_never_served(
    queue: tuple[str, list[PredictionRecord], list[str]], tmp_path: Path
) -> None:
    """The queue holds the trained bundle's cases; another bundle's classes checked and stored
    'Banking' for them (its config offered its own choices)."""
    url, records, _ = queue
    other = tmp_path / "other"
    fit_bundle(example("wine"), "target").save(other)
    export = tmp_path / "export.json"
    export.write_text(json.dumps([{"id": 1, "data": {"prudent_id": records[0].id}, "annotations": [
        {"result": [{"type": "choices", "value": {"choices": ["class_0"]}}]}]}]))  # fmt: skip
    for args in (["export", "--bundle", other, "--out", tmp_path / "ls"],
                 ["import", export, "--bundle", other]):  # fmt: skip
        with pytest.raises(FeedbackError, match=r"holds no prediction of bundle .* served"):
            _invoke(*args, "--log-db", url)
    with SqlPredictionLog.open(url) as log:
        assert log.feedback_history(records[0].id) == []
    assert not (tmp_path / "ls").exists()


def test_read_annotations_passes_over_foreign_tasks() -> None:
    found = read_annotations([{"id": 9, "data": {"text": "x"}, "annotations": []}])
    why = "its data has no 'prudent_id' (not exported by prudent)"
    assert found.labels == [] and found.skipped == [("9", why)]


def test_review_skip_and_flag_commands(
    queue: tuple[str, list[PredictionRecord], list[str]],
) -> None:
    url, records, _ = queue
    code, out = _invoke("skip", records[0].id, "--reviewer", "ana", "--log-db", url)
    assert code == 0 and out.startswith(f"skipped: {records[0].id}")
    code, out = _invoke("flag", records[1].id, "--reviewer", "ana", "--log-db", url)
    assert code == 0 and out.startswith(f"flagged: {records[1].id}")
    code, out = _invoke("show", "--next", "--reviewer", "ana", "--log-db", url, "--json")
    assert json.loads(out)["prediction_id"] == records[2].id  # the others are set aside
    with pytest.raises(FeedbackConflictError, match="'ana'"):
        _invoke("skip", records[2].id, "--reviewer", "bob", "--log-db", url)


def test_read_annotations_skips_an_annotation_of_several_labels() -> None:
    """A labeling config edited to allow several choices gave annotations of two labels, of
    which the first was stored as the row's label without a word."""
    chose = {"type": "choices", "from_name": "label", "value": {"choices": ["pos", "neg"]}}
    found = read_annotations([{"id": 4, "data": {"prudent_id": "p"}, "annotations": [
        {"result": [chose]}]}])  # fmt: skip
    why = "its latest annotation chose 2 labels ('pos', 'neg'), where a row has one"
    assert found.labels == [] and found.skipped == [("4", why)]
