"""The HTML fit report: rendered from real fits, opened in a real headless Chromium.

The browser tests need the Debian ``chromium`` package and Playwright's Python package
(never ``playwright install``); without them they skip, and fail in CI where
``PRUDENT_REQUIRE_BROWSER=1``. Screenshots land in ``test-artifacts/report/``.
"""

from __future__ import annotations

import copy
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

import prudent
from prudent.bundle import Bundle
from prudent.bundle._trust_records import ColumnImportance, Importance
from prudent.report import render_report
from prudent.report._evidence import Evidence, ShippedLabels
from prudent.report._html import esc, fmt, pct, table
from prudent.report._plots import heatmap, new_figure
from prudent.report._sec_importance import importance_rows
from prudent.report._sec_lastmile import confusion_view, draw_slices
from prudent.report._sec_promises import draw_set_sizes
from prudent.report._sec_trust import draw_confidence
from prudent.report._slices import (
    _numeric_bins,
    _numeric_codes,
    bin_column,
    confident_errors,
    error_slices,
    top_features,
)
from tests.conftest import require
from tests.fixtures import mixed_frame

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "report"
TITLES = [
    "Data",
    "Baselines and candidates",
    "Diversity",
    "Confidence",
    "The last mile",
    "Unfamiliar inputs",
    "Promises",
    "What the model relies on",
]
N_MANY = 24
SCRIPT = "<script>alert(1)</script>"
CALIBRATORS = (
    "Calibrator choice: lowest log loss among maps whose ECE is no worse than the identity's "
    "and passes the consistency test (p ≥ 0.1); when none passes, among those no worse"
)
DETECTORS = "Detectors compared on validation data"
PROMISES = "Promised on validation, measured on the locked test"
ENSEMBLE_OPTIONS = "Ensemble options (an ensemble ships only when it beats its own baseline)"


def _fit(frame: pd.DataFrame, target: str, **options: Any) -> Bundle:
    # the plan in CPU seconds alone decides (wall_guard=False), with room to spare: at
    # time_limit=10 stacking fitted in the time left on 3 of the 5 tables on an idle machine,
    # and on none in a full parallel suite (session 31); at 30 it fits on all 5 (16 s in all,
    # the fits end long before their limit)
    return prudent.fit(
        frame, target=target, time_limit=30, candidates=("lightgbm",), wall_guard=False, **options
    )


def _many_classes() -> pd.DataFrame:
    X, y = make_classification(
        n_samples=1000,
        n_features=6,
        n_informative=5,
        n_redundant=0,
        n_classes=N_MANY,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=0,
    )
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    frame["label"] = [f"<b>class {i:02d}</b>" for i in y]
    return frame


def _imbalanced() -> pd.DataFrame:
    """A rare class the plain top class almost never predicts: the label rule favours it."""
    X, y = make_classification(
        n_samples=1500,
        n_features=5,
        n_informative=3,
        n_redundant=0,
        weights=[0.93],
        flip_y=0.02,
        class_sep=0.8,
        random_state=0,
    )
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    frame["label"] = np.where(y == 1, "rare", "common")
    return frame


@pytest.fixture(scope="module")
def bundles() -> dict[str, Bundle]:
    reviews = prudent.load_example("movie_reviews").sample(400, random_state=0)
    cancer = prudent.load_example("breast_cancer")
    shifted = cancer.drop(columns=["target"]).sample(60, random_state=1) * 3.0  # known OOD
    return {
        "binary": _fit(cancer, "target", ood_examples=shifted),
        "multiclass": _fit(prudent.load_example("wine"), "target"),
        "text": _fit(reviews[["text", "label"]], "label", text=("text",)),
        "many_classes": _fit(_many_classes(), "label"),
        "imbalanced": _fit(_imbalanced(), "label"),
    }


@pytest.fixture(scope="module")
def reports(
    bundles: dict[str, Bundle], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reports")
    paths = {}
    for name, bundle in bundles.items():
        paths[name] = folder / f"{name}.html"
        paths[name].write_text(render_report(bundle), encoding="utf-8")
    return paths


def _sections(page: str) -> list[str]:
    return re.findall(r"<section .*?</section>", page, flags=re.DOTALL)


@pytest.mark.parametrize("name", ["binary", "multiclass", "text", "many_classes"])
def test_render_report_every_section_has_a_plot_and_numbers(
    name: str, reports: dict[str, Path]
) -> None:
    page = reports[name].read_text(encoding="utf-8")
    headings = re.findall(r'<h2 id="[^"]+">\d\. ([^<]+)</h2>', page)
    assert headings == TITLES
    assert "Not available" not in page and "Could not be drawn" not in page
    for section in _sections(page):
        assert re.search(r'<p class="takeaway">[^<]{20,}</p>', section)
        assert re.search(r'<img src="data:image/png;base64,[^"]{500,}" alt="[^"]{10,}"', section)
        assert "<details><summary>The numbers</summary>" in section


@pytest.mark.parametrize("name", ["binary", "multiclass", "text", "many_classes"])
def test_render_report_is_self_contained(name: str, reports: dict[str, Path]) -> None:
    page = reports[name].read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert "<script" not in page and "@import" not in page and "url(" not in page
    assert page.count("<img ") == page.count(' alt="')


def test_render_report_leaves_no_pyplot_figures(bundles: dict[str, Bundle]) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    backend = matplotlib.get_backend()
    render_report(bundles["binary"])
    assert plt.get_fignums() == before
    assert matplotlib.get_backend() == backend


def test_render_report_many_classes_folds_the_confusion_matrix(reports: dict[str, Path]) -> None:
    page = reports["many_classes"].read_text(encoding="utf-8")
    assert f"Confusion matrix of {N_MANY} classes" in page
    assert "Confusion matrix (rows: true class)" not in page  # too wide to be a table
    assert "Most frequent confusions" in page
    assert '<figure class="wide">' in page
    wine = reports["multiclass"].read_text(encoding="utf-8")
    assert "Confusion matrix (rows: true class)" in wine


def test_render_report_escapes_class_names(reports: dict[str, Path]) -> None:
    page = reports["many_classes"].read_text(encoding="utf-8")
    assert "<b>class" not in page
    assert "&lt;b&gt;class 00&lt;/b&gt;" in page


def test_render_report_binary_numbers_match_the_manifest(
    bundles: dict[str, Bundle], reports: dict[str, Path]
) -> None:
    manifest = bundles["binary"].manifest
    page = reports["binary"].read_text(encoding="utf-8")
    assert f"{manifest['data']['rows']} rows, 2 classes" in page
    accuracy = manifest["test_metrics"]["final"]["accuracy"]["point"]
    assert f"accuracy {accuracy:.3f}" in page
    ece_before = manifest["trust"]["calibration"]["ece_before_holdout"]
    assert f"ECE from {ece_before:.3f}" in page
    ood = manifest["trust"]["test"]["ood"]
    assert f"catches {100 * ood['test_tpr']:.1f}% of the" in page
    assert "known OOD examples" in page


def _table(page: str, caption: str) -> list[list[str]]:
    """The body cells of the table captioned ``caption``, unescaped, row by row."""
    found = re.search(
        rf"<caption>{re.escape(esc(caption))}</caption>.*?<tbody>(.*?)</tbody>", page, re.DOTALL
    )
    assert found is not None, caption
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1))
    return [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", r)] for r in rows]


def test_render_report_last_mile_counts_the_labels_the_bundle_ships(
    bundles: dict[str, Bundle], reports: dict[str, Path]
) -> None:
    bundle = bundles["imbalanced"]
    arrays = np.load(io.BytesIO(bundle.extras["artifacts.npz"]), allow_pickle=False)
    y, proba = arrays["y_test"], arrays["test_proba"]
    final = bundle.manifest["test_metrics"]["final"]
    accuracy = final["accuracy"]["point"]
    assert bundle.manifest["trust"]["thresholds"]["policy"]["class_weights"] is not None
    assert abs((proba.argmax(1) == y).mean() - accuracy) > 0.05  # the rule is not the argmax
    page = reports["imbalanced"].read_text(encoding="utf-8")
    matrix = np.array([r[1:] for r in _table(page, "Confusion matrix (rows: true class)")], int)
    assert matrix.sum() == len(y)
    assert np.trace(matrix) / len(y) == pytest.approx(accuracy)
    recall = np.diag(matrix) / matrix.sum(axis=1)
    assert recall.mean() == pytest.approx(final["balanced_accuracy"]["point"])
    wrong = len(y) - int(np.trace(matrix))
    assert f"({wrong} wrong of {len(y)})" in page
    curve = _table(page, "Risk–coverage (every few steps)")
    assert curve[-1][1:] == ["100.0%", fmt(1 - accuracy), fmt(accuracy)]


def test_render_report_compares_each_ensemble_with_its_own_baseline(
    bundles: dict[str, Bundle], reports: dict[str, Path]
) -> None:
    stacked = 0
    for name, bundle in bundles.items():
        ensemble = bundle.manifest["trust"]["ensemble"]
        loss, best = ensemble["options_log_loss"], ensemble["best_single"]
        page = reports[name].read_text(encoding="utf-8")
        rows = {r[0]: r[1:] for r in _table(page, ENSEMBLE_OPTIONS)}
        assert rows[f"single ({best})"][0] == fmt(loss["single"], 4)
        if "greedy" in loss:
            assert rows["greedy"][1:3] == [
                f"single ({best})",
                f"{loss['single'] - loss['greedy']:+.4f}",
            ]
        if "single_stacked" in loss:
            stacked += 1
            baseline = "baseline of stacking (best member recalibrated)"
            assert rows[baseline] == [fmt(loss["single_stacked"], 4), "—", "—", "baseline only"]
            gain = loss["single_stacked"] - loss["stacking"]
            assert rows["stacking"][1:3] == [baseline, f"{gain:+.4f}"]
        shipped = [k for k, r in rows.items() if r[3] == "shipped"]
        assert shipped == [f"single ({best})" if ensemble["kind"] == "single" else ensemble["kind"]]
    assert stacked, "no bundle compared stacking with its baseline"


def test_render_report_calibrators_show_ece_and_its_test(reports: dict[str, Path]) -> None:
    for name, path in reports.items():
        rows = _table(path.read_text(encoding="utf-8"), CALIBRATORS)
        shipped = [r for r in rows if r[0].endswith(" (shipped)")]
        assert len(shipped) == 1, name
        assert shipped[0][4].startswith(("passes; lowest", "no map passes")), name
        assert all(re.fullmatch(r"\d\.\d{3}", r[2]) for r in rows), name


def test_render_report_says_why_a_calibrator_of_higher_log_loss_was_chosen(
    bundles: dict[str, Bundle],
) -> None:
    bundle = bundles["binary"]
    manifest = copy.deepcopy(bundle.manifest)
    manifest["trust"]["calibration"] |= {  # b_lariots' numbers, and a map that worsens ECE
        "method": "sigmoid",
        "cv_log_loss": {"identity": 0.3735, "sigmoid": 0.3840, "isotonic": 0.35},
        "cv_ece": {"identity": 0.178, "sigmoid": 0.094, "isotonic": 0.2},
        "cv_ece_p": {"identity": 0.0597, "sigmoid": 0.582},
    }
    page = render_report(Bundle(bundle.model, manifest, bundle.extras))
    rows = {r[0]: r[1:] for r in _table(page, CALIBRATORS)}
    assert rows["identity"] == [
        "0.3735",
        "0.178",
        "p=0.06",
        "ECE test p=0.06, fails (needs p ≥ 0.1)",
    ]
    assert rows["isotonic"][2:] == [
        "not tested",
        "worsens held-out ECE (0.200 > the identity's 0.178)",
    ]
    assert rows["sigmoid (shipped)"][3] == "passes; lowest log loss of those that pass"
    takeaway = html.unescape(_sections(page)[3])
    assert (
        "sigmoid was chosen over identity despite identity's lower log loss (0.3735 vs "
        "0.3840), identity: ECE test p=0.06, fails (needs p ≥ 0.1); sigmoid was chosen over "
        "isotonic despite isotonic's lower log loss (0.3500 vs 0.3840), isotonic: worsens "
        "held-out ECE" in takeaway
    )


def _takeaway(page: str, title: str) -> str:
    found = re.search(rf'\d\. {re.escape(title)}</h2>\n<p class="takeaway">([^<]*)</p>', page)
    assert found is not None, title
    return html.unescape(found.group(1))


@pytest.mark.parametrize("name", ["binary", "multiclass", "imbalanced"])
def test_render_report_last_mile_takeaway_reads_as_sentences(
    name: str, reports: dict[str, Path]
) -> None:
    page = reports[name].read_text(encoding="utf-8")
    line = _takeaway(page, "The last mile")
    assert not re.search(r"\.[;.]|;\s*\.|\s[;.]", line), line
    assert line.count("worst slice") + line.count("no errors to slice") == 1
    promised = re.search(r"promised ≥ (\S+) with", line)
    if promised:  # the same digits as the promises table
        rows = {r[0]: r[1] for r in _table(page, PROMISES)}
        assert rows["accuracy of accepted predictions"].startswith(f"≥ {promised.group(1)} ")


def test_render_report_compares_detectors_only_with_ood_examples(
    bundles: dict[str, Bundle], reports: dict[str, Path]
) -> None:
    aurocs = bundles["binary"].manifest["trust"]["ood"]["validation_auroc"]
    rows = _table(reports["binary"].read_text(encoding="utf-8"), DETECTORS)
    assert [r[0] for r in rows] == list(aurocs) and aurocs
    wine = reports["multiclass"].read_text(encoding="utf-8")
    assert not bundles["multiclass"].manifest["trust"]["ood"].get("validation_auroc")
    assert DETECTORS not in wine
    assert "Detectors are compared only when OOD examples are given; none were." in wine


def test_render_report_suspect_labels_show_a_dozen_inputs_written_plainly(
    bundles: dict[str, Bundle],
) -> None:
    bundle = bundles["binary"]
    inputs = [c["name"] for c in bundle.manifest["schema"]["columns"] if c["name"] != "target"]
    ranked = [c["column"] for c in bundle.manifest["trust"]["importance"]["columns"]]
    issues = pd.DataFrame({"row": [3, 14_000], "given": ["0", "1"], "likely": ["1", "0"]})
    issues["score"] = [0.9987394967560197, 0.5]
    for name in inputs:  # the most important column holds a year and a missing value
        issues[name] = [2011.0, float("nan")] if name == ranked[0] else [13510.25, 0.123456]
    extras = dict(bundle.extras) | {"label_issues.csv": issues.to_csv(index=False).encode()}
    page = render_report(Bundle(bundle.model, bundle.manifest, extras))
    caption = re.search(r"<caption>(Suspect labels[^<]*)</caption>", page)
    assert caption is not None
    flagged = max(2, bundle.manifest["label_audit"]["n_suspect"])
    assert caption.group(1) == (
        f"Suspect labels (the 2 most suspect of {flagged} flagged); 12 of {len(inputs)} "
        "input columns shown (the most important), "
        f"{len(inputs) - 12} left out: label_issues.csv has them all"
    )
    head = page[caption.end() :].split("</thead>")[0]
    assert re.findall(r'<th scope="col">([^<]*)</th>', head) == [*issues.columns[:4], *ranked[:12]]
    rows = _table(page, html.unescape(caption.group(1)))
    assert rows[0][:6] == ["3", "0", "1", "0.999", "2011", "13,510"]
    assert rows[1][:6] == ["14,000", "1", "0", "0.5", "missing", "0.1235"]


def test_bin_column_writes_large_numbers_in_plain_digits() -> None:
    groups = bin_column(pd.Series(np.linspace(631.0, 13_510.0, 100)), "numeric")
    assert groups.iloc[0].startswith("631 – ") and groups.iloc[-1].endswith(" – 13,510")
    assert not groups.str.contains("e+", regex=False).any()


def test_render_report_writes_words_and_numbers_for_readers(bundles: dict[str, Bundle]) -> None:
    bundle = bundles["binary"]
    manifest = copy.deepcopy(bundle.manifest)
    manifest["label_audit"]["dropped"] = False
    manifest["skipped"] = [{"name": "svm", "reason": "only one class: np.int64(1)"}]
    manifest["trust"]["ensemble"]["vs_baseline"] = {
        "baseline": "logistic",
        "test": "McNemar",
        "verdict": "not_better",
        "p_value": 0.0,
    }
    manifest["trust"]["ensemble"]["vs_best_single"] = {"test": "McNemar", "p_value": 1e-31}
    pale = [[1.0, -1e-5], [-1e-5, 1.0]]
    manifest["trust"]["diversity"] = {"models": ["a", "b"], "error_correlation": pale}
    manifest["trust"]["diversity"]["yules_q"] = pale
    row = manifest["leaderboard"][-1]
    row["vs_baseline"] = manifest["trust"]["ensemble"]["vs_baseline"] | {"p_adjusted": 0.0}
    page = html.unescape(render_report(Bundle(bundle.model, manifest, bundle.extras)))
    assert "Not available" not in page
    assert "<td>suspect rows removed</td><td>no</td>" in page
    assert "<td>svm</td><td>only one class: 1</td>" in page and "np.int64" not in page
    assert "<td>vs baseline</td><td>not better</td>" in page and "not_better" not in page
    assert "<td>vs best single (McNemar)</td><td>p<0.001</td>" in page
    assert "<caption>Yule's Q</caption>" in page and "Yules q" not in page
    assert "-0.000" not in page and "+0.000" not in page
    assert not re.search(r"p=0(\.0+)?\b(?!\.)", page)


def test_importance_rows_write_zero_without_a_sign() -> None:
    found = Importance([ColumnImportance("a", -0.0004, 0.001, 0.0002)], rows=10, n_repeats=3)
    assert importance_rows(found) == [["a", "0.000", "0.001", "0.000"]]


def _with_wrong_rows_marked(bundle: Bundle) -> Bundle:
    """A copy of ``bundle`` whose test rows gain a column equal to SCRIPT exactly on errors."""
    rows = pd.read_parquet(io.BytesIO(bundle.extras["test_rows.parquet"]))
    wrong = Evidence.from_extras(bundle.manifest, bundle.extras).shipped_labels().wrong
    wrong = wrong[: len(rows)]
    assert wrong.any()
    rows.insert(0, "shop", np.where(wrong, SCRIPT, "corner & co"))
    manifest = copy.deepcopy(bundle.manifest)
    manifest["schema"]["columns"].append(
        {"name": "shop", "role": "categorical", "dtype": "object", "n_unique": 2}
    )
    buffer = io.BytesIO()
    rows.to_parquet(buffer, index=False)
    extras = dict(bundle.extras) | {"test_rows.parquet": buffer.getvalue()}
    return Bundle(bundle.model, manifest, extras)


def test_render_report_escapes_category_values(bundles: dict[str, Bundle]) -> None:
    page = render_report(_with_wrong_rows_marked(bundles["binary"]))
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "corner &amp; co" in page or "shop = &lt;script&gt;" in page
    slices = re.search(r"Error slices, worst first \(top features: ([^)]*)\)", page)
    assert slices is not None and slices.group(1).startswith("shop")


@pytest.mark.parametrize(
    ("drop_keys", "drop_files", "missing"),
    [
        (["trust"], [], ["Unfamiliar inputs", "Promises", "What the model relies on"]),
        ([], ["artifacts.npz"], ["Confidence", "The last mile", "Unfamiliar inputs"]),
        (["leaderboard"], [], ["Baselines and candidates"]),
        (["data"], [], ["Data"]),
        (
            ["trust", "chosen"],
            [],
            ["Diversity", "Unfamiliar inputs", "Promises", "What the model relies on"],
        ),
    ],
)
def test_render_report_says_in_one_line_what_is_missing(
    bundles: dict[str, Bundle], drop_keys: list[str], drop_files: list[str], missing: list[str]
) -> None:
    bundle = bundles["binary"]
    manifest = {k: v for k, v in copy.deepcopy(bundle.manifest).items() if k not in drop_keys}
    extras = {k: v for k, v in bundle.extras.items() if k not in drop_files}
    page = render_report(Bundle(bundle.model, manifest, extras))
    for title, section in zip(TITLES, _sections(page), strict=True):
        said = re.search(
            r'<p class="takeaway">Not available: the bundle has no [^<]+\.</p>', section
        )
        assert (said is not None) == (title in missing), title
        assert ("<img " in section) == (title not in missing), title
    assert "Could not be drawn" not in page


def test_render_report_without_test_rows_slices_by_class(bundles: dict[str, Bundle]) -> None:
    bundle = bundles["binary"]
    extras = {k: v for k, v in bundle.extras.items() if k != "test_rows.parquet"}
    page = render_report(Bundle(bundle.model, bundle.manifest, extras))
    assert "The locked-test rows are not in the bundle" in page
    assert "(top features: none)" in page
    assert "Not available" not in page


def test_render_report_without_any_evidence_still_renders(bundles: dict[str, Bundle]) -> None:
    bundle = bundles["binary"]
    page = render_report(Bundle(bundle.model, {"schema": bundle.manifest["schema"]}, {}))
    assert page.count('<p class="takeaway">Not available') == len(TITLES)
    assert "<img " not in page


def test_bin_column_cuts_numbers_into_quantile_ranges() -> None:
    groups = bin_column(pd.Series(np.arange(100.0) + 0.5), "numeric")
    assert groups.value_counts().tolist() == [20] * 5
    assert (groups.iloc[0], groups.iloc[-1]) == ("0.5 – 20.3", "79.7 – 99.5")


def test_bin_column_counts_words_of_text_in_whole_numbers() -> None:
    words = pd.Series([" ".join(["w"] * n) for n in range(1, 101)])
    groups = bin_column(words, "text")
    assert groups.nunique() == 5
    assert all(re.fullmatch(r"\d+ – \d+ words", g) for g in groups)


def test_bin_column_keeps_the_most_frequent_categories_and_missing() -> None:
    values = pd.Series(["common"] * 9 + [f"rare{i}" for i in range(12)] + [None])
    groups = bin_column(values, "categorical")
    assert groups.iloc[0] == "common" and groups.iloc[-1] == "missing"
    assert groups.nunique() == 10  # 8 most frequent values, "other" and "missing"
    assert (groups == "other").sum() == 12 - 7


def test_numeric_groups_scored_as_codes_are_the_labelled_groups() -> None:
    """Scoring 5,000 columns labelled every value (6 s of a report); the codes scored instead
    split the rows exactly as the labels do: quantile ranges, few values (two that read
    alike share a group), whole numbers, missing values, a column all missing."""

    rng = np.random.default_rng(0)
    columns = [
        *(mixed_frame(300, seed=s)[c] for s in (0, 1) for c in ("mean_radius", "worst_area")),
        pd.Series(rng.integers(0, 4, 200).astype(float)),
        pd.Series([1.00001, 1.00002, 2.0, None] * 30),
        pd.Series(np.r_[rng.integers(0, 1000, 150), [np.nan] * 10]),
        pd.Series([np.nan] * 20),
    ]
    for values in columns:
        labels = pd.factorize(_numeric_bins(values).to_numpy())[0]
        codes = pd.factorize(_numeric_codes(values))[0]
        assert labels.tolist() == codes.tolist()


def test_top_features_finds_the_column_that_explains_the_errors() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"noise": rng.normal(size=400), "region": rng.choice(list("abcd"), 400)})
    wrong = (frame["region"] == "d").to_numpy() & (rng.random(400) < 0.8)
    roles = {"noise": "numeric", "region": "categorical"}
    assert top_features(frame, roles, wrong, k=2)[0][0] == "region"
    slices = error_slices(np.zeros(400, int), wrong, ["only"], frame, [("region", "categorical")])
    first = slices.iloc[0]
    assert (first["feature"], first["slice"]) == ("region", "d")
    assert first["errors"] == wrong.sum()
    assert first["error rate"] == pytest.approx(wrong.sum() / (frame["region"] == "d").sum())


def test_error_slices_drop_small_slices_and_sort_worst_first() -> None:
    y = np.array([0] * 10 + [1] * 3)
    wrong = np.array([True] * 2 + [False] * 8 + [True] * 3)
    out = error_slices(y, wrong, ["a", "b"], min_rows=5)
    assert out["slice"].tolist() == ["a"]
    assert out["error rate"].tolist() == [0.2]


def test_confident_errors_lists_the_most_confident_wrong_rows_first() -> None:
    frame = pd.DataFrame({"x": [1.23456789, 2.0, 3.0, 4.0], "__row__": [7, 8, 9, 10]})
    given = ShippedLabels(
        np.array([0, 1, 1, 1]), np.array([1, 0, 0, 1]), np.array([0.8, 0.95, 0.7, 0.6])
    )
    out = confident_errors(frame, given, ["a", "b"], ["x"], n=2)
    assert out["row"].tolist() == [8, 7]
    assert out["predicted"].tolist() == ["a", "b"]
    assert out["x"].tolist() == ["2", "1.235"]


def test_confusion_view_folds_the_quiet_classes_and_keeps_the_total() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 30, 600)
    pred = np.where(rng.random(600) < 0.8, y, rng.integers(0, 30, 600))
    matrix, names = confusion_view(y, pred, [f"c{i}" for i in range(30)], limit=10)
    assert matrix.shape == (10, 10) and names[-1] == "21 other classes"
    assert matrix.sum() == 600
    assert np.trace(matrix[:9, :9]) == sum(
        (y == pred) & np.isin(y, [int(n[1:]) for n in names[:9]])
    )


def test_heatmap_writes_black_on_pale_cells_and_white_on_dark_ones() -> None:
    _, ax = new_figure()
    matrix = np.array([[0.1, 0.95], [-0.95, 0.0]])
    assert heatmap(ax, matrix, (["a", "b"], ["a", "b"]), cmap="RdBu_r", vmin=-1, vmax=1)
    assert [t.get_color() for t in ax.texts] == ["black", "white", "white", "black"]
    _, ax = new_figure()
    big = np.zeros((16, 16))
    assert not heatmap(ax, big, (list("abcdefghijklmnop"),) * 2) and not ax.texts


def test_render_report_folded_confusion_caption_says_where_the_counts_are(
    reports: dict[str, Path],
) -> None:
    page = reports["many_classes"].read_text(encoding="utf-8")
    figure = re.search(
        r'<figure class="wide"><img [^>]*alt="Confusion[^>]*><figcaption>([^<]*)', page
    )
    assert figure is not None
    assert "numbers: rows" not in figure.group(1)
    assert "too many cells to number" in figure.group(1)
    wine = reports["multiclass"].read_text(encoding="utf-8")
    assert "share of the true class; numbers: rows." in wine


def test_draw_set_sizes_thins_the_ticks_of_many_sizes() -> None:
    _, ax = new_figure(3.6, 3.2)
    draw_set_sizes(ax, np.random.default_rng(0).integers(0, 32, 500))
    ticks = [t for t in ax.get_xticks() if 0 <= t <= 31]
    assert 3 <= len(ticks) <= 9 and all(float(t).is_integer() for t in ticks)


def test_draw_slices_keeps_error_rates_within_one_and_no_legend_over_bars() -> None:
    shown = pd.DataFrame(
        {"feature": ["f", "f"], "slice": ["a", "b"], "rows": [25, 20], "errors": [24, 3]}
    ).assign(**{"error rate": lambda d: d["errors"] / d["rows"]})
    _, ax = new_figure()
    draw_slices(ax, shown, 0.3)
    assert ax.get_xlim()[1] == 1.0
    assert ax.get_legend() is None and "overall 30.0%" in ax.get_xlabel()
    assert [t.get_text() for t in ax.texts] == [" 3/20 ", " 24/25 "]
    inside = ax.texts[1]  # 0.96 of an axis that ends at 1: written inside its bar
    assert (inside.get_ha(), inside.get_color()) == ("right", "white")


def test_draw_confidence_counts_rows_on_whole_numbers() -> None:
    _, ax = new_figure()
    conf = np.array([0.2, 0.25, 0.35, 0.85, 0.9, 0.9, 0.95, 0.97, 0.99])
    draw_confidence(ax, conf, conf > 0.5)
    ticks = [t for t in ax.get_yticks() if t >= 0]
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_html_helpers_escape_and_format() -> None:
    assert esc(SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert "<td>&lt;b&gt;</td>" in table(["a"], [["<b>"]])
    assert (fmt(float("nan")), fmt(None), fmt(0.12345, 2), pct(0.5)) == ("—", "—", "0.12", "50.0%")


# --- in a real browser -------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require("browser", False, "the 'playwright' Python package is not installed")
    require("browser", CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield chromium
        chromium.close()


_PAGE_FACTS = """() => ({
  headings: [...document.querySelectorAll('section h2')].map(h => h.textContent),
  sections: [...document.querySelectorAll('section')].map(s => ({
    images: [...s.querySelectorAll('img')].map(i => ({
      ok: i.complete && i.naturalWidth > 0 && i.naturalHeight > 0,
      alt: i.getAttribute('alt') || '',
      shown: i.getBoundingClientRect().width > 0})),
    svgs: [...s.querySelectorAll('svg')].map(v => v.childElementCount),
  })),
  overflow: document.documentElement.scrollWidth - window.innerWidth,
})"""


def _watch(page: Any) -> tuple[list[str], list[str], list[str]]:
    """Collect console errors, failed requests and requests that leave the disk."""
    errors: list[str] = []
    failed: list[str] = []
    remote: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error":
            errors.append(message.text)

    def on_request(request: Any) -> None:
        if not request.url.startswith(("file:", "data:")):
            remote.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("request", on_request)
    return errors, failed, remote


@pytest.mark.browser
@pytest.mark.parametrize("name", ["binary", "multiclass", "text", "many_classes"])
def test_report_opens_in_chromium(name: str, reports: dict[str, Path], browser: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 400):
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors, failed, remote = _watch(page)
        page.goto(reports[name].as_uri(), wait_until="load")
        facts = page.evaluate(_PAGE_FACTS)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        page.close()
        assert (errors, failed, remote) == ([], [], [])
        assert [h.split(". ", 1)[1] for h in facts["headings"]] == TITLES
        for title, section in zip(TITLES, facts["sections"], strict=True):
            images = section["images"]
            assert images or any(section["svgs"]), f"{title}: no image"
            assert all(i["ok"] and i["shown"] and len(i["alt"]) > 10 for i in images), title
        assert facts["overflow"] <= 0, f"the page scrolls sideways at {width}px"
