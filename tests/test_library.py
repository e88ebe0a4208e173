"""The Python face: ``prudent.fit`` talks (logging, warnings, a bar), a bundle describes itself
(repr, summary, notebook card, leaderboard, report) and arguments mean what they mean on the
command line."""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import prudent
from prudent.data import Role, write_table
from prudent.errors import (
    BundleError,
    ConfigError,
    DataReadError,
    PrudentWarning,
    RuleError,
    SchemaError,
)
from prudent.models import RuleSet
from tests.fixtures import FAST, example, reviews

RULES = """
rules:
  - name: big-alcohol-is-class-0
    when: alcohol > 14.2
    then: class_0
"""


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    return example("wine")


@pytest.fixture(scope="module")
def talked(wine: pd.DataFrame) -> tuple[prudent.Bundle, list[logging.LogRecord]]:
    """One quiet fit of wine, with every log record the ``prudent`` logger emitted."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("prudent")
    handler, level = Keep(level=logging.INFO), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        bundle = prudent.fit(wine, target="target", **FAST)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return bundle, records


def test_fit_logs_every_notice_to_the_prudent_logger(talked) -> None:
    bundle, records = talked
    messages = [r.getMessage() for r in records if r.name == "prudent"]
    assert messages == bundle.manifest["notices"]
    assert any(m.startswith("Label audit: ") for m in messages)
    assert any(m.startswith("Chosen model: ") for m in messages)


def test_fit_warns_when_many_labels_look_wrong(caplog: pytest.LogCaptureFixture) -> None:
    """A fifth of the labels flipped warns; hard but honest data (film reviews, 40% flagged)
    does not."""
    frame = example("breast_cancer")
    flip = np.random.default_rng(0).random(len(frame)) < 0.2
    frame.loc[flip, "target"] = np.where(
        frame.loc[flip, "target"] == "benign", "malignant", "benign"
    )
    expected = r"Label audit: \d+ of \d+ training rows"
    with caplog.at_level(logging.INFO, logger="prudent"), pytest.warns(PrudentWarning) as got:
        prudent.fit(frame, target="target", **FAST)
    assert re.search(expected, str(got[0].message))
    assert len(got) == 1  # the other notices are information, not warnings
    assert "check the target column" in caplog.text
    with warnings.catch_warnings():
        warnings.simplefilter("error", PrudentWarning)
        hard = prudent.fit(reviews(300), target="label", **FAST)
    assert hard.manifest["label_audit"]["n_suspect"] >= 0.2 * hard.manifest["splits"]["train_rows"]
    audit = next(n for n in hard.manifest["notices"] if n.startswith("Label audit"))
    assert "hard or possibly mislabelled" in audit and "implausibly many" in audit
    flagged = pd.read_csv(io.BytesIO(hard.extras["label_issues.csv"]))
    assert list(flagged.columns[:4]) == ["row", "given", "likely", "score"]
    assert {"text", "movie_name"} <= set(flagged.columns)  # the inputs beside each row


def test_fit_draws_a_progress_bar_only_when_asked_outside_a_terminal(
    wine: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    prudent.fit(wine, target="target", **FAST)
    assert capsys.readouterr().err == ""  # pytest's stderr is not a terminal
    prudent.fit(wine, target="target", progress=True, **FAST)
    err = capsys.readouterr().err
    assert "Fitting models" in err and "Building trust" in err


def test_bundle_repr_summary_and_notebook_card(talked) -> None:
    bundle, _ = talked
    chosen = bundle.manifest["chosen"]["primary"]
    accuracy = bundle.manifest["test_metrics"]["final"]["accuracy"]["point"]
    assert repr(bundle) == (
        f"<prudent.Bundle unsaved: target 'target', 3 classes, model {chosen}, "
        f"test accuracy {accuracy:.3f}, unsaved>"
    )
    text = bundle.summary()
    assert f"Chosen: {chosen}" in text
    assert f"accuracy           {accuracy:.3f}" in text
    assert "accuracy of accepted predictions" in text
    assert bundle.manifest["notices"][0] in text
    card = bundle._repr_html_()
    assert card.startswith("<div class='prudent-bundle'>")
    assert f"<code>{chosen}</code>" in card and "<th>promise</th>" in card


def test_bundle_leaderboard_is_a_dataframe(talked) -> None:
    bundle, _ = talked
    board = bundle.leaderboard
    assert list(board["model"]) == [r["name"] for r in bundle.manifest["leaderboard"]]
    assert board.loc[board["model"] == "majority", "vs_baseline"].item() == "baseline"
    assert (board["accuracy_low"] <= board["accuracy"]).all()
    assert (board["accuracy"] <= board["accuracy_high"]).all()


def test_python_saved_bundle_has_the_same_report(talked, tmp_path: Path) -> None:
    bundle, _ = talked
    page = bundle.report(tmp_path / "in-memory.html").read_text()
    assert page.startswith("<!DOCTYPE html>") or page.startswith("<!doctype html>")
    saved = bundle.save(tmp_path / "model")
    loaded = prudent.load(saved)
    # the same page, naming the bundle it is saved in (an unsaved one has no version)
    named = page.replace("· bundle unsaved", f"· bundle {loaded.version}")
    assert named != page and (saved / "report.html").read_text() == named
    assert "report.html" in loaded.manifest["files"]
    assert loaded.report(tmp_path / "again.html").read_text() == named
    assert repr(loaded).endswith(f"path='{saved}'>")


def test_save_refuses_an_existing_folder_unless_overwrite(talked, tmp_path: Path) -> None:
    bundle, _ = talked
    path = bundle.save(tmp_path / "model")
    with pytest.raises(BundleError, match=r"exists; choose another path, or pass overwrite=True"):
        bundle.save(path)
    assert prudent.load(bundle.save(path, overwrite=True)).classes == bundle.classes


def test_dir_of_prudent_is_the_public_api() -> None:
    names = dir(prudent)
    assert {"fit", "load", "Bundle", "PrudentWarning", "__version__"} <= set(names)
    assert not {"importlib", "sys", "types", "_importlib", "_LAZY"} & set(names)


def test_import_prudent_stays_light() -> None:
    code = "import sys, prudent; print([m for m in ('sklearn', 'pandas') if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_rules_take_a_path_or_a_ruleset_as_on_the_command_line(
    wine: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    from_path = prudent.fit(wine, target="target", rules=path, **FAST)
    assert from_path.extras["rules.yaml"] == RULES.encode()
    rule_set = RuleSet.from_yaml(RULES, classes=["class_0", "class_1", "class_2"])
    from_set = prudent.fit(wine, target="target", rules=rule_set, **FAST)
    assert RuleSet.from_yaml(from_set.extras["rules.yaml"].decode()).to_dict() == (
        rule_set.to_dict()
    )
    with pytest.raises(ConfigError, match=r"rules= takes the path .* pass YAML text as rules_yaml"):
        prudent.fit(wine, target="target", rules=RULES, **FAST)
    with pytest.raises(DataReadError, match=r"Rules file 'nowhere.yaml' does not exist"):
        prudent.fit(wine, target="target", rules="nowhere.yaml", **FAST)


def test_fit_takes_a_file_and_comma_separated_columns(wine: pd.DataFrame, tmp_path: Path) -> None:
    write_table(wine, tmp_path / "wine.csv")
    bundle = prudent.fit(
        tmp_path / "wine.csv", target="target", drop="ash,hue", rules_yaml=RULES, **FAST
    )
    kept = set(bundle.schema.feature_names)
    assert {"ash", "hue"}.isdisjoint(kept) and "alcohol" in kept
    assert bundle.extras["rules.yaml"] == RULES.encode()


def test_a_rules_typo_fails_before_the_data_is_read_or_a_model_fitted(tmp_path: Path) -> None:
    wine = example("wine")
    bad_syntax = "rules:\n  - name: r\n    when: alcohol = 13\n    then: class_0\n"
    with pytest.raises(RuleError, match="use '==' to compare"):  # the data file is not read
        prudent.fit(tmp_path / "missing.csv", target="target", rules_yaml=bad_syntax)
    started = time.monotonic()
    for text, word in [
        ("rules:\n  - name: r\n    when: alcohl > 13\n    then: class_0\n", "alcohol"),
        ("rules:\n  - name: r\n    when: alcohol > 13\n    then: clas_0\n", "class_0"),
    ]:
        with pytest.raises(RuleError, match=word):
            prudent.fit(wine, target="target", rules_yaml=text, time_limit=600)
    assert time.monotonic() - started < 20  # not after a 600 s fit


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"candidates": "lightgbm,lightgmb"}, r"'lightgmb' \(did you mean 'lightgbm'\?\)"),
        ({"candidates": ["xgbost"]}, r"family 'xgbost' in candidates \(--candidates\)"),
        ({"costs": "0,-1,1;1,0,1;1,1,0"}, r"costs \(--costs\) '0,-1,1;1,0,1;1,1,0' holds -1.0"),
        ({"costs": [[0, 1], [1, 0, 2]]}, r"costs \(--costs\) .* must be square"),
        (
            {"costs": "0,1,1;1,0,1;1,1,0", "review_cost": -1.0},
            r"review_cost \(--review-cost\) must be .* >= 0",
        ),
    ],
)
def test_fit_refuses_the_options_the_command_line_refuses_before_fitting(
    wine: pd.DataFrame, caplog: pytest.LogCaptureFixture, options: dict, says: str
) -> None:
    """``prudent.fit`` refuses the values ``prudent fit`` does, before any model: no notice
    of a fit is logged."""
    with caplog.at_level(logging.INFO, logger="prudent"), pytest.raises(ConfigError, match=says):
        prudent.fit(wine, target="target", time_limit=600, **options)
    assert not [r for r in caplog.records if r.name.startswith("prudent")]


def test_fit_refuses_bad_costs_before_the_data_is_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"holds 2.0 at row 2, column 2; the diagonal must be 0"):
        prudent.fit(tmp_path / "missing.csv", target="target", costs="0,1;1,2")


def test_a_frame_of_numbered_columns_fits_and_predicts_by_their_names_as_text(
    wine: pd.DataFrame,
) -> None:
    """``pd.DataFrame(X)`` names its columns 0, 1, 2…: the fit had failed with
    "AttributeError: 'int' object has no attribute 'casefold'". The names are read as a CSV of
    the table writes them; new rows are matched by name, numbered or written as text."""
    features = wine.drop(columns="target")
    numbered = pd.DataFrame(features.to_numpy()).assign(target=wine["target"].to_numpy())
    bundle = prudent.fit(numbered, target="target", **FAST)
    assert bundle.schema.feature_names == [str(i) for i in range(features.shape[1])]
    rows = numbered.drop(columns="target").head(20)
    expected = bundle.predict(rows.set_axis([str(c) for c in rows.columns], axis=1))
    pd.testing.assert_frame_equal(bundle.predict(rows), expected)
    accuracy = (expected["prediction"].to_numpy() == wine["target"].head(20).to_numpy()).mean()
    assert accuracy > 0.8


@pytest.mark.parametrize(
    ("column", "says"),
    [
        ([[1, 2], [3]] * 89, "Column 'extra' holds lists, dicts or sets such as [1, 2]"),
        ([{"a": 1}] * 178, "Column 'extra' holds lists, dicts or sets such as {'a': 1}"),
        (np.arange(178) + 1j, "Column 'extra' holds complex numbers such as 1j"),
        (
            [bytes([(i + 128) % 256]) for i in range(178)],
            "Column 'extra' holds binary data such as b'\\x80'",
        ),
    ],
)
def test_a_frame_cell_no_model_reads_is_refused_naming_its_column(
    wine: pd.DataFrame, column: object, says: str
) -> None:
    """A list, dict or complex number in a frame's cell had ended the fit in a library's
    TypeError ('unhashable type: list'); it is refused before any model, naming the column."""
    with pytest.raises(SchemaError) as e:
        prudent.fit(wine.assign(extra=column), target="target", time_limit=600)
    assert str(e.value).startswith(says) and e.value.field == "extra"


def test_a_frame_column_of_utf8_bytes_is_read_as_its_text(wine: pd.DataFrame) -> None:
    """Bytes in a frame's cells had ended the fit in an internal UnicodeDecodeError: UTF-8
    bytes are their text, so the column is the categories it spells."""
    grade = np.where(wine["alcohol"] > wine["alcohol"].median(), "strong", "light")
    bundle = prudent.fit(wine.assign(grade=[g.encode() for g in grade]), target="target", **FAST)
    assert "grade" in bundle.schema.names(Role.categorical)
    rows = wine.drop(columns="target").assign(grade=grade)
    as_bytes = rows.assign(grade=[g.encode() for g in grade])
    pd.testing.assert_frame_equal(bundle.predict(as_bytes), bundle.predict(rows))
    with pytest.raises(SchemaError, match="Column 'grade' holds binary data such as b'\\\\xff'"):
        bundle.predict(rows.head(3).assign(grade=[b"light", b"\xff", b"strong"]))


def test_arrow_backed_columns_are_read_as_numpy_backed_ones(wine: pd.DataFrame, talked) -> None:
    """A frame of ``float64[pyarrow]`` columns had ended the fit in pandas'
    'NotImplementedError: mod not implemented'; it fits, and predicts as its numpy twin."""
    arrowed = wine.astype({c: "float64[pyarrow]" for c in wine.columns if c != "target"})
    arrowed["target"] = wine["target"].astype(pd.ArrowDtype(pa.string()))
    prudent.fit(arrowed, target="target", **FAST)
    bundle, _ = talked
    rows = wine.drop(columns="target").head(30)
    pd.testing.assert_frame_equal(
        bundle.predict(arrowed.drop(columns="target").head(30)), bundle.predict(rows)
    )


def test_names_of_several_levels_or_given_twice_and_a_target_not_a_name_are_refused(
    wine: pd.DataFrame, talked
) -> None:
    """Two-level column names had ended the fit in "AttributeError: 'tuple' object has no
    attribute 'casefold'"."""
    levels = wine.set_axis(pd.MultiIndex.from_product([["w"], wine.columns]), axis=1)
    for target in ("target", ("w", "target")):
        with pytest.raises((SchemaError, ConfigError), match=r"column names have 2 levels|string"):
            prudent.fit(levels, target=target, time_limit=600)
    twice = wine.set_axis(["alcohol", *wine.columns[1:-2], "alcohol", "target"], axis=1)
    with pytest.raises(SchemaError, match=r"duplicated column names \['alcohol'\]"):
        prudent.fit(twice, target="target", time_limit=600)  # was: a pandas ValueError
    with pytest.raises(ConfigError, match=r"target .* as a string, got \('w', 'target'\)"):
        prudent.fit(wine, target=("w", "target"), time_limit=600)  # type: ignore[arg-type]
    bundle, _ = talked
    with pytest.raises(SchemaError, match="column names have 2 levels"):
        bundle.predict(levels.drop(columns=[("w", "target")]))


def test_predict_refuses_complex_numbers_a_model_would_read_as_their_real_part(talked) -> None:
    bundle, _ = talked
    rows = example("wine").drop(columns="target").head(3)
    with pytest.raises(SchemaError, match="Column 'alcohol' holds complex"):
        bundle.predict(rows.assign(alcohol=rows["alcohol"] + 0.5j))
