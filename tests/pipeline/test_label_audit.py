"""The label audit on tables whose right answer is known: hard many-class data with right
labels is no warning, labels flipped between two well-separated classes are one, and a long
list is cut to the most suspect while the notice, manifest, report and ``prudent show``
still give the count flagged in all."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import prudent
from prudent.cli._show import show_manifest
from prudent.data import make_splits, prepare_target
from prudent.errors import PrudentWarning
from prudent.metrics import find_label_issues
from prudent.pipeline._label_audit import (
    CONTRADICTED,
    LISTED_CELLS,
    LISTED_ROWS,
    MANY_SUSPECT,
    LabelIssues,
    audit_labels,
    audit_notice,
    tempered,
)
from tests.fixtures import example, flip_labels

Audited = tuple[np.ndarray, np.ndarray]
"""The training rows' encoded labels and out-of-fold probabilities."""

WARNING = re.compile(r"^WARNING Label audit: (\d+) of (\d+) training rows")


def hard_classes(n_classes: int = 40, per_class: int = 100, seed: int = 0) -> pd.DataFrame:
    """Many classes with right labels and weak features: the best out-of-fold accuracy of a
    logistic regression is about .16 over 40 classes (the 200,000-row report's table, small)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_classes * per_class) % n_classes
    x = rng.normal(size=(n_classes, 5))[y] * 0.6 + rng.normal(size=(len(y), 5))
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(5)])
    frame["label"] = [f"c{v}" for v in y]
    return frame


def separated(flipped: float, n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Two big classes ('a', 'b': 45% of the rows each) told apart by one strong feature, ten
    small hard ones, and ``flipped`` of all the rows' labels swapped between 'a' and 'b'."""
    rng = np.random.default_rng(seed)
    big = int(0.45 * n)
    y = np.r_[np.zeros(big, int), np.ones(big, int), 2 + np.arange(n - 2 * big) % 10]
    x = rng.normal(size=(12, 4))[y] * 0.5 + rng.normal(size=(n, 4))
    strong = np.select([y == 0, y == 1], [3.0, -3.0], 0.0) + rng.normal(size=n) * 0.5
    frame = pd.DataFrame(np.c_[x, strong], columns=["x0", "x1", "x2", "x3", "strong"])
    swap = rng.choice(2 * big, round(flipped * n), replace=False)
    y[swap] = 1 - y[swap]
    frame["label"] = np.array(["a", "b", *(f"h{i}" for i in range(10))])[y]
    return frame


def audit(frame: pd.DataFrame, target: str = "label") -> tuple[LabelIssues, str, Audited]:
    """The audit of ``frame`` as a fit runs it (split, out-of-fold logistic probabilities of
    the training rows), its notice, and the training labels and probabilities it read."""
    labelled = prepare_target(frame, target)
    splits = make_splits(labelled.y, seed=0)
    X = labelled.frame.drop(columns=target).reset_index(drop=True)
    y = labelled.y[splits.train]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    oof = cross_val_predict(model, X.iloc[splits.train], y, cv=folds, method="predict_proba")
    issues = audit_labels(labelled, splits, oof, X)
    wrong = float(np.mean(oof.argmax(axis=1) != y))
    return issues, audit_notice(issues, len(y), wrong), (y, oof)


def test_audit_notice_no_warning_on_hard_many_class_data() -> None:
    issues, notice, (y, oof) = audit(hard_classes())
    assert np.mean(oof.argmax(axis=1) == y) < 0.25  # right labels, but hard to tell apart
    assert not notice.startswith("WARNING"), notice
    assert issues.contradicted < 0.01 * len(y)
    assert "implausibly many for label noise" in notice
    # the rule before (the given label at most 30% probable) warned: most flagged rows meet it
    unlikely = (find_label_issues(y, oof)["score"] >= 1 - CONTRADICTED).sum()
    assert unlikely >= 3 * MANY_SUSPECT * len(y)


def test_audit_notice_warns_on_labels_flipped_between_separated_classes() -> None:
    clean, quiet, (y, _) = audit(separated(flipped=0.0))
    assert clean.contradicted < 0.01 * len(y)
    assert not quiet.startswith("WARNING"), quiet
    noisy = separated(flipped=0.2)
    issues, notice, (y, _) = audit(noisy)
    found = WARNING.match(notice)
    assert found, notice
    assert int(found[1]) == issues.contradicted >= 1.2 * MANY_SUSPECT * len(y)
    assert "confidently contradicts (it gives another class at least 70% probability)" in notice
    truth = separated(flipped=0.0)["label"]
    found = (truth[issues.listed["row"]].to_numpy() != issues.listed["given"]).sum()
    assert found >= issues.contradicted  # the warning counts no more than the errors found
    assert found >= 0.75 * (truth != noisy["label"]).sum()  # nearly all in the training rows


def test_an_overfitting_baseline_is_read_calibrated_not_as_contradicting_right_labels() -> None:
    """Right labels, two informative columns and 600 of noise: the logistic baseline overfits
    and its out-of-fold probabilities are overconfident. Read as they are, over a quarter of
    the right labels look confidently contradicted (a real grant table of 1,500 columns was
    warned so); at their best temperature, the audit says they are hard rows."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1500, 2))
    y = x[:, 0] + x[:, 1] + rng.logistic(size=1500) * 0.5 > 0
    frame = pd.DataFrame(np.c_[x, rng.normal(size=(1500, 600))]).add_prefix("x")
    frame["label"] = np.where(y, "a", "b")
    issues, notice, (y_train, oof) = audit(frame)
    as_read = (oof[np.arange(len(y_train)), y_train] <= CONTRADICTED).sum()
    assert as_read >= 2 * MANY_SUSPECT * len(y_train)  # what the audit read before
    assert issues.contradicted < MANY_SUSPECT * len(y_train)
    assert not notice.startswith("WARNING"), notice
    assert "most are likely hard rows rather than wrong labels" in notice


def test_audit_on_two_classes_counts_labels_at_most_contradicted_probable() -> None:
    """A fifth of the labels flipped at random: a calibrated model gives the other class about
    80% where the features are clear (at 30% flipped, about the 70% that contradicts)."""
    frame, _ = flip_labels(example("breast_cancer"), "target", share=0.2, seed=0)
    issues, notice, _ = audit(frame, "target")
    assert issues.flagged == len(issues.listed) > 0
    given_unlikely = int((issues.listed["score"] >= 1 - CONTRADICTED).sum())
    assert issues.contradicted == given_unlikely  # the rule before, on two classes
    assert notice.startswith("WARNING Label audit")


def test_audit_labels_lists_the_most_suspect_when_cut() -> None:
    issues, notice, (y, oof) = audit(hard_classes())
    assert issues.flagged > LISTED_ROWS
    every = find_label_issues(y, tempered(oof, y))
    assert len(issues.listed) == LISTED_ROWS
    np.testing.assert_array_equal(issues.listed["row"], issues.rows[:LISTED_ROWS])
    np.testing.assert_allclose(issues.listed["score"], every["score"][:LISTED_ROWS])
    assert issues.listed["score"].is_monotonic_decreasing
    assert {"x0", "x4"} <= set(issues.listed.columns)  # the inputs beside each row
    assert notice.startswith(
        f"Label audit: {issues.flagged} training row(s) are hard or possibly mislabelled (the "
        f"{LISTED_ROWS} most suspect are listed with their inputs in the bundle's "
        "label_issues.csv)."
    )


@pytest.fixture(scope="module")
def cut() -> prudent.Bundle:
    with warnings.catch_warnings():
        warnings.simplefilter("error", PrudentWarning)  # hard classes are no warning
        return prudent.fit(hard_classes(), target="label", time_limit=30, candidates=())


def test_fit_bundle_says_the_true_count_when_the_list_is_cut(cut, tmp_path: Path) -> None:
    audited = cut.manifest["label_audit"]
    assert audited["n_suspect"] > audited["listed"] == LISTED_ROWS
    listed = pd.read_csv(io.BytesIO(cut.extras["label_issues.csv"]))
    assert len(listed) == LISTED_ROWS and listed["score"].is_monotonic_decreasing
    notice = next(n for n in cut.manifest["notices"] if n.startswith("Label audit"))
    assert f"Label audit: {audited['n_suspect']} training row(s)" in notice
    page = cut.report(tmp_path / "report.html").read_text(encoding="utf-8")
    assert f"Suspect labels (the 50 most suspect of {audited['n_suspect']} flagged)" in page
    out = io.StringIO()
    show_manifest(Console(file=out, width=200), cut.manifest)
    assert (
        f"Label audit: {audited['n_suspect']} suspect label(s), the {LISTED_ROWS} most "
        "suspect in label_issues.csv"
    ) in out.getvalue()


def test_audit_labels_lists_fewer_rows_of_a_wide_table() -> None:
    """1,000 rows of 400 inputs had taken 4.4 MB: a wide table lists LISTED_CELLS values."""
    frame = hard_classes()
    noise = np.random.default_rng(1).normal(size=(len(frame), 795))
    wide = pd.concat([frame, pd.DataFrame(noise).add_prefix("n")], axis=1)
    assert wide.shape[1] - 1 == 800  # inputs
    issues, notice, _ = audit(wide)
    assert issues.flagged > LISTED_ROWS
    assert len(issues.listed) == LISTED_CELLS // 800
    assert f"the {LISTED_CELLS // 800} most suspect are listed" in notice


def test_a_rare_class_audit_flags_about_the_flipped_labels_not_the_hard_majority() -> None:
    """54 'fraud' rows in 20,000, 20 of them labels flipped at random: the class-weighted
    logistic baseline overstates 'fraud' about 370 times, and read as it was, the audit
    flagged 4,168 of 16,000 training rows ('ok' rows said likely 'fraud'). Read as an
    unweighted fit's probabilities, it flags about the flipped rows."""
    rng = np.random.default_rng(31)
    n = 20_000
    X = rng.normal(size=(n, 4))
    score = 2 * X[:, 0] + X[:, 1]
    fraud = score > np.sort(score)[-35]
    flipped = rng.choice(np.flatnonzero(~fraud), size=20, replace=False)
    fraud[flipped] = True
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(4)])
    frame["y"] = np.where(fraud, "fraud", "ok")
    bundle = prudent.fit(frame, target="y", time_limit=30, candidates=())
    flagged = bundle.manifest["label_audit"]["n_suspect"]
    assert 5 <= flagged <= 100
    listed = pd.read_csv(io.BytesIO(bundle.extras["label_issues.csv"]))
    in_train = set(listed["row"]) & set(flipped.tolist())
    assert len(in_train) >= 5  # the flipped rows are among the most suspect
