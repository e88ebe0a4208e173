"""``prudent fit``, ``show``, ``report`` and every ``--help``: run for real, errors on one line."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from prudent.cli import app
from prudent.data import write_table
from tests.cli.conftest import N_UNLABELLED, Trained
from tests.fixtures import example, mixed_frame, run_cli, run_main

COMMANDS = ["fit", "predict", "show", "report", "quickstart"]


def assert_one_line_error(done, *names: str) -> str:
    """A non-zero exit, no traceback, and exactly one stderr line naming every ``names``."""
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("prudent: error: ")
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    return example("wine")


def test_help_of_the_app_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert re.search(rf"│ {command} ", result.output), command


@pytest.mark.parametrize(
    ("command", "first_line"),
    [
        ("fit", "Fit baselines and candidates"),
        ("predict", "Predict every row of a file"),
        ("show", "Print a bundle's schema"),
        ("report", "Regenerate the bundle's HTML report"),
        ("quickstart", "Fit, report and predict end to end"),
    ],
)
def test_help_of_each_command(command: str, first_line: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert first_line in result.output
    assert "--help" in result.output


def test_fit_writes_a_verified_bundle(trained: Trained) -> None:
    names = {p.name for p in trained.bundle.iterdir()}
    assert {"manifest.json", "manifest.sha256", "model.skops", "label_issues.csv"} <= names
    assert f"Bundle written to {trained.bundle}" in trained.fit.stdout.replace("\n", " ")


def test_fit_names_classes_that_differ_only_in_case(tmp_path: Path) -> None:
    """``BENIGN`` and ``benign`` are two classes to the fit, as written; a notice names them."""
    frame = mixed_frame(n=200, seed=3)
    upper = (frame.index % 3 == 0) & (frame["target"] == "benign")
    frame["target"] = frame["target"].where(~upper, "BENIGN")
    write_table(frame, tmp_path / "t.csv")
    done = run_cli("fit", tmp_path / "t.csv", "--target", "target", "--out", tmp_path / "m",
                   "--time-limit", "3", "--folds", "2")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "differ only in case or spaces are kept apart: 'BENIGN' and 'benign'" in done.stderr


def test_fit_reports_and_counts_rows_without_a_label(trained: Trained) -> None:
    assert f"Dropped {N_UNLABELLED} row(s) whose target 'target' is missing." in trained.fit.stderr
    manifest = json.loads((trained.bundle / "manifest.json").read_text())
    assert manifest["data"]["dropped_missing_target"] == N_UNLABELLED
    assert manifest["data"]["labelled_rows"] == 300 - N_UNLABELLED


def test_fit_applies_the_role_options(trained: Trained) -> None:
    manifest = json.loads((trained.bundle / "manifest.json").read_text())
    roles = {c["name"]: c["role"] for c in manifest["schema"]["columns"]}
    assert roles == {
        "mean_radius": "numeric",
        "mean_texture": "numeric",
        "worst_area": "numeric",
        "row_id": "identifier",
        "city": "categorical",
        "member": "boolean",
        "flag": "categorical",
        "signup": "dropped",
        "note": "text",
    }
    assert "Column 'row_id' looks like an identifier (unique per row): dropped." in (
        trained.fit.stderr
    )


def test_show_prints_the_bundle(trained: Trained) -> None:
    result = CliRunner().invoke(app, ["show", str(trained.bundle)])
    assert result.exit_code == 0, result.output
    assert "Target: 'target', 2 classes: 'benign', 'malignant'" in result.output
    assert "Schema (9 columns:" in result.output
    assert "Leaderboard" in result.output and "logistic" in result.output


def test_report_writes_html(trained: Trained, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["report", str(trained.bundle), "--out", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.html").read_text().lstrip().lower().startswith("<!doctype html")


def _fit(path: Path, *extra: str):
    return run_main(
        "fit", path, "--target", "target", "--out", path.parent / "m", "--time-limit", "3", *extra
    )


def test_fit_missing_file(tmp_path: Path) -> None:
    assert_one_line_error(_fit(tmp_path / "nothere.csv"), "nothere.csv", "does not exist")


def test_fit_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "garbage.parquet").write_bytes(bytes(range(256)) * 8)
    assert_one_line_error(
        _fit(tmp_path / "garbage.parquet"), "garbage.parquet", "could not be read as parquet"
    )


def test_fit_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    assert_one_line_error(_fit(tmp_path / "empty.csv"), "empty.csv", "is empty")


def test_fit_duplicated_column_names(tmp_path: Path) -> None:
    (tmp_path / "dup.csv").write_text("age,age,target\n1,2,a\n3,4,b\n")
    assert_one_line_error(_fit(tmp_path / "dup.csv"), "dup.csv", "duplicated column names ['age']")


def test_fit_target_absent_lists_the_columns(wine: pd.DataFrame, tmp_path: Path) -> None:
    write_table(wine, tmp_path / "wine.csv")
    done = run_main("fit", tmp_path / "wine.csv", "--target", "cultivar")
    assert_one_line_error(
        done, "'cultivar'", "the columns are ['alcohol', 'malic_acid'", "'proline', 'target']"
    )


def test_fit_a_continuous_target_says_so_in_one_line(wine: pd.DataFrame, tmp_path: Path) -> None:
    write_table(wine, tmp_path / "wine.csv")
    done = run_main("fit", tmp_path / "wine.csv", "--target", "alcohol")
    assert_one_line_error(done, "Target 'alcohol' looks continuous", "bin it into classes")


@pytest.mark.parametrize(
    ("value", "says"), [("inf", "holds an infinite number"), ("1e308", "too large to compute")]
)
def test_fit_infinite_or_huge_values_are_named_in_one_line(
    wine: pd.DataFrame, tmp_path: Path, value: str, says: str
) -> None:
    """The row is named as ``prudent predict`` names a file's: its data row, from 1 after the
    header (the fifth here), not the frame's 0-based position."""
    frame = wine.astype({"proline": object})
    frame.loc[4, "proline"] = value
    write_table(frame, tmp_path / "big.csv")
    assert_one_line_error(_fit(tmp_path / "big.csv"), "Column 'proline'", says, "(data row 5)")


def test_fit_single_class(wine: pd.DataFrame, tmp_path: Path) -> None:
    write_table(wine.assign(target="red"), tmp_path / "one.csv")
    assert_one_line_error(_fit(tmp_path / "one.csv"), "single class ('red')")


def test_fit_classes_with_too_few_rows_are_named(wine: pd.DataFrame, tmp_path: Path) -> None:
    frame = wine.copy()
    frame.loc[[0, 1], "target"] = "rosé"
    write_table(frame, tmp_path / "rare.csv")
    assert_one_line_error(_fit(tmp_path / "rare.csv"), "'rosé' (2 rows)", "fewer than 3 rows")


def test_fit_option_naming_an_unknown_column(wine: pd.DataFrame, tmp_path: Path) -> None:
    write_table(wine, tmp_path / "wine.csv")
    assert_one_line_error(
        _fit(tmp_path / "wine.csv", "--text", "review"), "['review']", "do not exist"
    )


def test_fit_option_out_of_range(wine: pd.DataFrame, tmp_path: Path) -> None:
    write_table(wine, tmp_path / "wine.csv")
    assert_one_line_error(
        _fit(tmp_path / "wine.csv", "--test-size", "0.9"),
        "test_size (--test-size) must be in (0, 0.5], got 0.9",
    )
    assert_one_line_error(
        _fit(tmp_path / "wine.csv", "--folds", "1"), "n_folds (--folds) must be at least 2, got 1"
    )


@pytest.mark.parametrize("seed", ["-1", "2147483648"])
def test_fit_seed_out_of_range_is_an_option_error(
    wine: pd.DataFrame, tmp_path: Path, seed: str
) -> None:
    """--seed -1 had reached train_test_split: 'internal error: InvalidParameterError'."""
    write_table(wine, tmp_path / "wine.csv")
    assert_one_line_error(
        _fit(tmp_path / "wine.csv", "--seed", seed),
        f"seed (--seed) must be a whole number from 0 to 2147483647, got {seed}.",
    )


@pytest.fixture
def wine_csv(wine: pd.DataFrame, tmp_path: Path) -> Path:
    write_table(wine, tmp_path / "wine.csv")
    return tmp_path / "wine.csv"


def _refused_before_the_fit(done, *names: str) -> str:
    """One line naming ``names``, and nothing of a fit: no notice, no progress (stderr holds
    that line alone), no result on stdout."""
    line = assert_one_line_error(done, *names)
    assert done.stdout == ""
    return line


@pytest.mark.parametrize(
    ("out", "says"),
    [
        ("wine.csv", "is a file, but a bundle is a folder"),
        ("wine.csv/model", "wine.csv' is a file, so no bundle folder can be made in it"),
        ("/proc/prudent/model", "no bundle folder can be made in '/proc'"),
    ],
)
def test_fit_out_that_cannot_be_written_is_refused_before_the_fit(
    wine_csv: Path, out: str, says: str
) -> None:
    """``--out`` an existing file, or under one, or where no folder can be made: refused in one
    line before the table is read (it failed at the save, after the whole fit)."""
    target = wine_csv.parent / out
    before = sorted(wine_csv.parent.iterdir())
    done = run_main("fit", wine_csv, "--target", "target", "--out", target, "--time-limit", "60")
    _refused_before_the_fit(done, "--out", says)
    assert sorted(wine_csv.parent.iterdir()) == before  # no bundle, no probe left behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_fit_out_in_a_read_only_folder_is_refused_before_the_fit(wine_csv: Path) -> None:
    locked = wine_csv.parent / "locked"
    locked.mkdir(mode=0o555)
    done = run_main("fit", wine_csv, "--target", "target", "--out", locked / "model")
    _refused_before_the_fit(done, "--out", f"no bundle folder can be made in '{locked}'")
    assert not (locked / "model").exists()


def test_fit_out_a_folder_that_is_not_a_bundle_is_refused_before_the_fit(wine_csv: Path) -> None:
    folder = wine_csv.parent / "notes"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    done = run_main("fit", wine_csv, "--target", "target", "--out", folder)
    _refused_before_the_fit(done, "--out", "is not a prudent bundle")
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize(
    ("costs", "says"),
    [
        ("0,-1,1;1,0,1;1,1,0", "holds -1.0 at row 1, column 2; every cost must be a finite number"),
        ("0,1,1;1,0,1;1,1,inf", "holds inf at row 3, column 3"),
        ("0,1,1;1,2,1;1,1,0", "holds 2.0 at row 2, column 2; the diagonal must be 0"),
        ("0,1,1;1,0;1,1,0", "must be square: one row and one column per class (at least 2)"),
        ("0,1,1;1,0,one;1,1,0", "is not a matrix of numbers like '0,1;10,0'"),
        ("0,0,0;0,0,0;0,0,0", "costs nothing for any error, so every label would be as good"),
    ],
)
def test_fit_costs_no_table_could_use_are_refused_before_the_fit(
    wine_csv: Path, costs: str, says: str
) -> None:
    out = wine_csv.parent / "model"
    done = run_main("fit", wine_csv, "--target", "target", "--out", out, "--costs", costs)
    _refused_before_the_fit(done, "--costs", f"'{costs}'", says)
    assert not out.exists()


def test_fit_costs_of_another_size_than_the_classes_are_refused_before_the_fit(
    wine_csv: Path,
) -> None:
    out = wine_csv.parent / "model"
    done = run_main("fit", wine_csv, "--target", "target", "--out", out, "--costs", "0,1;1,0",
                    "--time-limit", "3")  # fmt: skip
    _refused_before_the_fit(done, "--costs", "has 2 rows and columns", "3 classes (class_0")
    assert not out.exists()


def test_fit_unknown_candidates_are_named_with_the_closest_family(wine_csv: Path) -> None:
    out = wine_csv.parent / "model"
    done = run_main("fit", wine_csv, "--target", "target", "--out", out,
                    "--candidates", "lightgmb,knn", "--candidates", "xgbost")  # fmt: skip
    line = _refused_before_the_fit(
        done, "--candidates", "'lightgmb' (did you mean 'lightgbm'?)", "'xgbost' in"
    )
    assert "choose among naive_bayes, linear_svm, embeddings_logistic, lightgbm," in line
    assert "the baselines majority and logistic always run" in line
    assert not out.exists()


def test_fit_usage_errors_are_shown_without_a_traceback(wine: pd.DataFrame, tmp_path: Path) -> None:
    write_table(wine, tmp_path / "wine.csv")
    done = run_main("fit", tmp_path / "wine.csv", "--target", "target", "--folds", "many")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Invalid value for '--folds'" in done.stderr
    done = run_main("fit", tmp_path / "wine.csv")
    assert done.returncode == 2 and "Missing option '--target'" in done.stderr


def test_main_turns_a_bug_into_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import prudent.cli as cli

    def broken(**_: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(cli, "app", broken)
    monkeypatch.delenv("PRUDENT_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 70
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("prudent: internal error: KeyError: 'boom'")
    monkeypatch.setenv("PRUDENT_DEBUG", "1")
    with pytest.raises(KeyError, match="boom"):
        cli.main()


def test_labels_keep_the_spelling_of_the_file_from_fit_to_feedback(tmp_path: Path) -> None:
    """Codes ``01``/``02`` are the classes as written (type inference made them 1 and 2), from
    the fit to the predictions file and the labels a ``prudent feedback`` file gives back."""
    import asyncio

    import prudent
    from prudent.serve import Predictor
    from prudent.store import SqlPredictionLog

    frame = mixed_frame(n=200, seed=4)
    frame["target"] = frame["target"].map({"benign": "01", "malignant": "02"})
    path = tmp_path / "t.csv"
    write_table(frame, path)
    assert "\n01," in path.read_text() or ",01\n" in path.read_text()
    done = run_cli("fit", path, "--target", "target", "--out", tmp_path / "m",
                   "--time-limit", "3", "--folds", "2")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    bundle = prudent.load(tmp_path / "m")
    assert bundle.classes == ["01", "02"]
    out = tmp_path / "p.csv"
    assert run_cli("predict", tmp_path / "m", path, "--out", out).returncode == 0
    written = pd.read_csv(out, dtype=str)["prediction"]
    assert set(written) <= {"01", "02"} and len(set(written)) == 2
    url = f"sqlite:///{tmp_path / 'log.db'}"
    rows = frame[bundle.schema.feature_names].head(2)
    with SqlPredictionLog.open(url) as log:
        ids = asyncio.run(Predictor(bundle, log).predict_records(rows)).ids
    labels = tmp_path / "labels.csv"
    labels.write_text(f"prediction_id,label\n{ids[0]},01\n{ids[1]},02\n", encoding="utf-8")
    fed = run_cli("feedback", tmp_path / "m", labels, "--log-db", url)
    assert fed.returncode == 0, fed.stderr
    with SqlPredictionLog.open(url) as log:
        assert [log.feedback_history(i)[0].label for i in ids] == ["01", "02"]


def test_a_fit_into_a_bundle_says_it_replaces_it(tmp_path: Path) -> None:
    """A second fit to the same --out replaced the first bundle without a word."""
    write_table(mixed_frame(n=200, seed=6), tmp_path / "t.csv")
    args = ("fit", tmp_path / "t.csv", "--target", "target", "--out", tmp_path / "m",
            "--time-limit", "3", "--folds", "2")  # fmt: skip
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "the new bundle replaces it" not in " ".join(first.stderr.split())
    version = json.loads((tmp_path / "m" / "manifest.json").read_text())["files"]["model.skops"]
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr[-2000:]
    said = " ".join(again.stderr.split())
    assert f"holds bundle {version[:12]} of " in said and "the new bundle replaces it" in said


def test_a_none_class_in_the_target_is_learned_and_predicted(tmp_path: Path) -> None:
    """``none`` is a class of the target (no injury, no damage), not an unlabelled row: the fit
    keeps its rows with a notice, and the model predicts it where it is the right answer."""
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.5, 600)
    labels = np.where(x < -0.8, "none", np.where(x < 0.8, "mild", "severe"))
    frame = pd.DataFrame({"x": x, "noise": rng.normal(size=600), "injury": labels})
    frame.loc[:9, "injury"] = ""  # unlabelled rows are still dropped
    write_table(frame, tmp_path / "t.csv")
    done = run_cli("fit", tmp_path / "t.csv", "--target", "injury", "--out", tmp_path / "m",
                   "--time-limit", "5", "--folds", "2")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    said = " ".join(done.stderr.split())
    assert "Dropped 10 row(s) whose target 'injury' is missing." in said
    n_none = int((labels[10:] == "none").sum())
    assert f"Kept {n_none} row(s) whose target 'injury' is 'none' ({n_none}) as labelled" in said
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["classes"] == ["mild", "none", "severe"]
    new = pd.DataFrame({"x": [-3.0, -2.5, 0.0, 2.5], "noise": [0.0, 0.5, -0.5, 0.0]})
    write_table(new, tmp_path / "new.csv")
    done = run_cli("predict", tmp_path / "m", tmp_path / "new.csv", "--out", tmp_path / "p.csv")
    assert done.returncode == 0, done.stderr[-2000:]
    predicted = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)["prediction"].tolist()
    assert predicted == ["none", "none", "mild", "severe"]


@pytest.mark.parametrize(
    ("options", "names"),
    [
        (["--review-budget", "0"], ["--review-budget", "--ood-fpr", "above 0.05"]),
        (["--review-budget", "0.1", "--ood-fpr", "0.1"], ["--review-budget", "--ood-fpr"]),
        (["--target-accuracy", "0.9", "--review-budget", "0.2"], ["--review-budget", "not both"]),
        (["--target-accuracy", "0.9", "--costs", "0,1;1,0"], ["--target-accuracy", "--costs"]),
        (["--review-budget", "0.2", "--costs", "0,1;1,0"], ["--review-budget", "--costs"]),
        (["--review-cost", "0.5"], ["--review-cost", "--costs"]),
    ],
)  # fmt: skip
def test_fit_refuses_a_policy_it_cannot_keep_or_two_policies(
    tmp_path: Path, options: list[str], names: list[str]
) -> None:
    """Before the fit: a budget the OOD alarms alone fill, two of budget, target and costs,
    a review cost without costs (each was accepted, then ignored or broken)."""
    path = tmp_path / "t.csv"
    pd.DataFrame({"x": range(40), "target": ["a", "b"] * 20}).to_csv(path, index=False)
    assert_one_line_error(_fit(path, *options), *names)


def test_fit_takes_a_target_with_the_default_budget(tmp_path: Path) -> None:
    """Only a budget given conflicts with a target: the default one does not."""
    import prudent

    frame = example("breast_cancer").head(150)
    bundle = prudent.fit(frame, "target", target_accuracy=0.9, time_limit=5,
                         candidates=["knn"])  # fmt: skip
    assert bundle.manifest["trust"]["thresholds"]["review_budget"] is None
