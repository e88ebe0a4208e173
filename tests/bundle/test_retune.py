"""Retuning a bundle: new thresholds from the fit's held-out evidence, in a new bundle."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

import prudent
from prudent.bundle import Bundle
from prudent.cli import app
from prudent.cli._show import show_decisions
from prudent.errors import BundleError, ConfigError
from prudent.report import render_report
from tests.fixtures import example, fit_bundle, run_main


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Breast cancer under a target no held-out evidence can support: everything to review."""
    bundle = fit_bundle(example("breast_cancer"), "target", target_accuracy=0.999)
    return bundle.save(tmp_path_factory.mktemp("strict") / "model")


def _review_share(bundle: Bundle, frame: pd.DataFrame) -> float:
    return float((bundle.predict(frame)["decision"] == "review").mean())


def _promise(bundle: Bundle, name: str) -> dict:
    return next(p for p in bundle.manifest["trust"]["promises"] if p["name"] == name)


def test_retune_moves_all_review_to_the_chosen_budget(strict: Path) -> None:
    frame = example("breast_cancer")
    bundle = prudent.load(strict)
    assert bundle.manifest["trust"]["test"]["decisions"] == {"review": 114}
    retuned = bundle.retune(review_budget=0.2)
    # the test rows' decisions, from the stored scores, match predicting them for real
    test = retuned.manifest["trust"]["test"]
    # a ceiling, not a quota: the calibrated confidences tie on plateaus (isotonic), and a
    # threshold on a plateau accepts all of it, so fewer than the budget may be reviewed
    assert 0.02 <= test["decisions"]["review"] / 114 <= 0.3
    share = _review_share(retuned, frame)
    assert 0.02 <= share <= 0.3, share
    assert _review_share(bundle, frame) > 0.95  # the bundle read is unchanged
    kept = [p["kept"] for p in retuned.manifest["trust"]["promises"] if p["kept"] is not None]
    assert all(kept), retuned.manifest["trust"]["promises"]
    accuracy = _promise(retuned, "accuracy of accepted predictions")
    assert accuracy["promised"].startswith("≥ 0.9")
    assert _promise(retuned, "share of in-distribution rows sent to review")["promised"].startswith(
        "≤ 0.200"
    )
    assert retuned.manifest["spec"]["review_budget"] == 0.2
    role = retuned.manifest["trust"]["thresholds"]["backup_role"]["role"]
    if role == "fallback":  # no backup decision, and the promise says so
        assert "backup" not in test["decisions"]
        assert _promise(retuned, "backup decisions")["kept"]
    else:
        assert _promise(retuned, "accuracy of backup decisions")["kept"]
    assert _promise(bundle, "backup decisions")["promised"].startswith("none: the backup")
    assert retuned.manifest["retuned"][0]["from_version"] == bundle.version


def test_retune_with_the_fits_own_request_gives_the_fits_policy(strict: Path) -> None:
    bundle = prudent.load(strict)
    again = bundle.retune(target_accuracy=0.999)
    assert again.model.policy == bundle.model.policy
    assert again.manifest["trust"]["promises"] == bundle.manifest["trust"]["promises"]
    assert again.manifest["trust"]["test"] == bundle.manifest["trust"]["test"]


def test_retune_to_the_fits_own_budget_gives_the_fits_policy(tmp_path: Path) -> None:
    """Under the default review budget the fit allows for the folds' spread; retuning to the
    same budget reads the folds from the evidence and finds the same thresholds."""
    fitted = fit_bundle(example("breast_cancer"), "target")
    bundle = prudent.load(fitted.save(tmp_path / "model"))
    assert "review_spread" in bundle.manifest["trust"]["thresholds"]
    again = bundle.retune(review_budget=0.15)
    assert again.model.policy == bundle.model.policy
    spread = again.manifest["trust"]["thresholds"]["review_spread"]
    assert spread == bundle.manifest["trust"]["thresholds"]["review_spread"]


def test_retuned_bundle_saves_verified_with_its_report(strict: Path, tmp_path: Path) -> None:
    retuned = prudent.load(strict).retune(target_accuracy=0.9)
    root = retuned.save(tmp_path / "new")
    again = prudent.load(root)  # hashes and trusted types checked
    assert again.model.policy == retuned.model.policy
    assert again.version != prudent.load(strict).version
    page = (root / "report.html").read_text()
    assert "Retuned from bundle" in page
    assert np.isfinite(again.model.policy.accept_threshold)


def test_retune_refuses_nothing_or_both(strict: Path) -> None:
    bundle = prudent.load(strict)
    with pytest.raises(ConfigError, match="needs a new target_accuracy"):
        bundle.retune()
    with pytest.raises(ConfigError, match="not both"):
        bundle.retune(target_accuracy=0.9, review_budget=0.2)
    with pytest.raises(ConfigError, match="review_budget must be in"):
        bundle.retune(review_budget=1.5)


def test_retune_refuses_a_bundle_without_evidence(strict: Path) -> None:
    bundle = prudent.load(strict)
    bundle.extras.pop("artifacts.npz")
    with pytest.raises(BundleError, match="refit it to retune it"):
        bundle.retune(review_budget=0.2)


def test_cli_retune_writes_a_new_bundle(strict: Path, tmp_path: Path) -> None:
    out = tmp_path / "budget"
    done = CliRunner().invoke(
        app, ["retune", str(strict), "--review-budget", "0.2", "-o", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "Retuned bundle written to" in done.output
    assert json.loads((out / "manifest.json").read_text())["spec"]["review_budget"] == 0.2
    same = run_main("retune", strict, "--review-budget", "0.2", "--out", strict)
    assert same.returncode != 0 and "is the bundle being retuned" in same.stderr


def test_retune_with_costs_speaks_of_cost_per_row(strict: Path) -> None:
    bundle = prudent.load(strict)
    assert bundle.classes == ["benign", "malignant"]
    retuned = bundle.retune(costs="0,1;10,0", review_cost=0.5)
    promise = _promise(retuned, "expected cost per row")
    assert "class order benign, malignant" in promise["promised"]
    assert "all-review 0.500" in promise["promised"] and promise["kept"]
    accuracy = _promise(retuned, "accuracy of accepted predictions")
    assert accuracy["kept"] is None and "cost matrix decides" in accuracy["promised"]
    # the stored test evidence gives the cost the rows really incur when predicted
    rows = pd.read_parquet(io.BytesIO(retuned.extras["test_rows.parquet"]))
    out = retuned.predict(rows.drop(columns=["__row__", "__label__"]))
    truth = np.array(retuned.classes)[rows["__label__"]]
    matrix = {("benign", "malignant"): 1.0, ("malignant", "benign"): 10.0}
    paid = [
        0.5 if d == "review" else matrix.get((t, p), 0.0)
        for d, t, p in zip(out["decision"], truth, out["prediction"], strict=True)
    ]
    costs = retuned.manifest["trust"]["test"]["costs"]
    assert costs["decisions"] == pytest.approx(np.mean(paid))
    assert costs["decisions"] < min(costs["all_review"], costs["model_only"]) + 0.05
    console = Console(record=True, width=200)
    show_decisions(console, retuned.manifest)
    text = console.export_text()
    assert "Cost policy" in text and "class order benign, malignant" in text
    assert "never auto-accepts" not in text and "accepts nothing" not in text
    page = render_report(retuned)
    assert "a cost matrix decides" in page and "never auto-accepts" not in page


def test_retune_refuses_a_budget_the_ood_alarms_fill_and_two_policies(strict: Path) -> None:
    """A budget at or below the OOD detector's false-positive rate cannot hold (a budget of 0
    was measured at 0.034); costs beside a target or budget, or a review cost alone, were
    ignored."""
    bundle = prudent.load(strict)
    with pytest.raises(ConfigError, match=r"review_budget \(--review-budget\) 0 cannot hold"):
        bundle.retune(review_budget=0.0)
    with pytest.raises(ConfigError, match=r"target_accuracy .* and costs .*not both"):
        bundle.retune(target_accuracy=0.9, costs="0,1;1,0")
    with pytest.raises(ConfigError, match=r"review_cost .* prices a review"):
        bundle.retune(review_budget=0.2, review_cost=0.5)


def test_retune_command_gives_the_fits_line_for_a_cost_matrix_of_another_size(
    strict: Path,
) -> None:
    done = run_main("retune", strict, "--costs", "0,1,1;1,0,1;1,1,0")
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "prudent: error: costs (--costs) has 3 rows and columns, but the target has 2 classes "
        "(benign, malignant); give one row and one column per class, in this order."
    ]


def test_retune_command_refuses_an_existing_out_by_its_cli_remedy(
    strict: Path, tmp_path: Path
) -> None:
    done = run_main("retune", strict, "--target-accuracy", "0.9", "--out", tmp_path)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "choose another --out, or remove that one first" in lines[0]
    assert "overwrite=True" not in lines[0]


def test_retune_takes_a_delta_with_the_request_it_applies_to(strict: Path) -> None:
    """A retune kept the fit's delta with no way to change it: the same budget retuned from a
    bundle fitted with another delta gave another threshold, and nothing said why."""
    bundle = prudent.load(strict)
    assert bundle.manifest["spec"]["delta"] == 0.1
    bold = bundle.retune(target_accuracy=0.99, delta=0.4)
    usual = bundle.retune(target_accuracy=0.99)
    assert bold.manifest["spec"]["delta"] == 0.4 and usual.manifest["spec"]["delta"] == 0.1
    # a larger allowed chance of missing the target accepts at least as many rows
    assert bold.model.policy.accept_threshold <= usual.model.policy.accept_threshold
    cover = [b.manifest["trust"]["thresholds"]["accept"]["coverage"] for b in (bold, usual)]
    assert cover[0] > cover[1]
    with pytest.raises(ConfigError, match=r"give it with the --target-accuracy or --review"):
        bundle.retune(costs="0,1;10,0", delta=0.2)
    with pytest.raises(ConfigError, match=r"delta \(--delta\) must be in \(0, 1\)"):
        bundle.retune(review_budget=0.2, delta=1.0)
