"""The trust stage on tables that used to break it."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from prudent.metrics import log_loss
from prudent.pipeline import FitSpec, QuietReporter, fit_table


def _two_string_columns(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """3 classes; two string columns of 20 levels each make the one-hot rows sparse."""
    rng = np.random.default_rng(seed)
    a = rng.choice([f"a{i}" for i in range(20)], n)
    b = rng.choice([f"b{i}" for i in range(20)], n)
    x = rng.normal(size=n) + (np.char.str_len(a.astype(str)) > 2)
    y = np.where(x > 0.8, "hi", np.where(x < -0.3, "lo", "mid"))
    return pd.DataFrame({"a": a, "b": b, "x": x, "y": y})


@pytest.fixture(scope="module")
def sparse_fit() -> Any:
    spec = FitSpec(target="y", time_limit=60.0, candidates=("lightgbm",))
    return fit_table(_two_string_columns(), spec, reporter=QuietReporter())


def test_build_trust_sparse_one_hot_features_do_not_crash(sparse_fit: Any) -> None:
    result = sparse_fit
    ood = result.trust.sections["ood"]
    assert 0.0 < ood["threshold"] < np.inf
    fpr = result.trust.sections["test"]["ood"]["test_fpr"]
    n_test, n_threshold = 600, 1200  # locked test rows; rows that set the threshold
    assert fpr <= 0.05 + 2 * np.sqrt(0.05 * 0.95 * (1 / n_test + 1 / n_threshold))
    # the test rows' OOD scores come from the guarded scores: the same as scoring them again
    model, art = result.model, result.trust.artifacts
    X_test = result.test_frame.drop(columns=["__row__", "__label__"])
    again = -model.ood.score_samples(model.ood_features.transform(X_test), art["test_proba"])
    np.testing.assert_allclose(art["test_ood_score"], again)


def test_thresholds_are_set_on_what_the_shipped_calibrator_says(sparse_fit: Any) -> None:
    """The accept threshold is a quantile of the shipped model's confidences on held-out
    rows: the calibrator that ships applied to their out-of-fold probabilities (not the
    cross-fitted maps, whose steps lie elsewhere), so the review share of new rows is the
    budget's."""
    from prudent.models import decide

    model, art = sparse_fit.model, sparse_fit.trust.artifacts
    rows = art["holdout_rows"]
    shipped = model.primary_calibrator.predict_proba(art["oof_primary_raw"][rows])
    np.testing.assert_allclose(art["policy_primary_calibrated"], shipped)
    backup = model.backup_calibrator.predict_proba(art["oof_logistic"][rows])
    np.testing.assert_allclose(art["policy_backup_calibrated"], backup)
    # on the locked test, the shipped policy sends at most the budget (15%) to review,
    # within two standard errors
    test = decide(
        model.policy,
        classes=[str(c) for c in model.classes],
        primary_proba=art["test_proba"],
        backup_proba=art["test_backup_proba"],
        ood_score=art["test_ood_score"],
    )
    review = float(np.mean(test.kind == "review"))
    n = len(art["y_test"])
    assert review <= 0.15 + 2 * np.sqrt(0.15 * 0.85 / n)


def test_the_label_rule_is_chosen_on_every_out_of_fold_row(sparse_fit: Any) -> None:
    """The prior correction is chosen on all the training rows' cross-fitted calibrated
    probabilities, twice the rows the thresholds are set on: the balanced accuracies it
    records are those of every row, and differ from the threshold rows' alone."""
    from prudent.models import CascadePolicy
    from prudent.models._decision_policy import POWERS, balanced_class_weights

    art = sparse_fit.trust.artifacts
    rule = sparse_fit.trust.sections["thresholds"]["label_rule"]
    P, y = art["oof_primary_calibrated"], art["y_train"]
    assert len(P) == len(y) > len(art["policy_y"])

    def balanced(P: Any, y: Any, power: float) -> float:
        weights = balanced_class_weights(y, P.shape[1], power)
        idx = CascadePolicy(np.inf, class_weights=weights).label_index(P)
        return float(np.mean([(idx[y == c] == c).mean() for c in np.unique(y)]))

    every = {str(p): balanced(P, y, p) for p in POWERS}
    assert rule["balanced_accuracy"] == pytest.approx(every)
    assert rule["power"] == max(POWERS, key=lambda p: (round(every[str(p)], 6), -p))
    half = art["policy_primary_calibrated"], art["policy_y"]
    assert any(abs(balanced(*half, p) - every[str(p)]) > 1e-6 for p in POWERS)
    assert sparse_fit.model.policy.class_weights == (
        None if rule["power"] == 0 else balanced_class_weights(y, P.shape[1], rule["power"])
    )


def test_the_review_budget_allows_for_the_spread_between_folds(sparse_fit: Any) -> None:
    """The rows that set the thresholds keep the fold whose model scored them; the folds'
    shares at the plain budget threshold are recorded, and the shipped threshold is the one
    set again with their spread allowed for."""
    from prudent.models._decision_policy import PolicyRequest, decision_policy
    from prudent.models._spread import realization_spread, shares_by_group

    model, art = sparse_fit.model, sparse_fit.trust.artifacts
    spread = sparse_fit.trust.sections["thresholds"]["review_spread"]
    fold = art["policy_fold"]
    assert len(fold) == len(art["policy_y"]) and set(np.unique(fold)) == set(range(5))
    P, y = art["policy_primary_calibrated"], art["policy_y"]
    ood = float(model.policy.ood_threshold)
    in_dist = art["policy_ood_score"] < ood
    weights = model.policy.class_weights
    args = dict(in_distribution=in_dist, ood_threshold=ood, class_weights=weights)
    plain, _ = decision_policy(PolicyRequest(), P, None, y, **args)
    conf = P[np.arange(len(y)), plain.label_index(P)]
    review = ~in_dist | (conf < plain.accept_threshold)
    shares = shares_by_group(review, fold)
    assert spread["review_share_by_fold"] == pytest.approx({str(k): v for k, v in shares.items()})
    assert spread["spread"] == pytest.approx(realization_spread(review, fold))
    shipped, _ = decision_policy(PolicyRequest(), P, None, y, groups=fold, **args)
    assert model.policy.accept_threshold == shipped.accept_threshold
    if spread["spread"] > 0:  # a wider margin: no more rows below the threshold than before
        assert shipped.accept_threshold <= plain.accept_threshold


def test_the_shipped_models_test_scores_are_those_of_the_labels_it_gives() -> None:
    """On a table whose smaller class is 6% of rows, the label rule corrects for the prior:
    the locked test's balanced accuracy reported for the shipped model is that of the labels
    it predicts, not of the plain argmax of its probabilities (which scored the majority
    class's 0.500 on ISLR's Default while predict's labels scored 0.897)."""
    from prudent.metrics import balanced_accuracy

    rng = np.random.default_rng(3)
    n = 3000
    x = rng.normal(size=(n, 3))
    y = np.where(x[:, 0] + 0.5 * x[:, 1] + rng.logistic(size=n) * 0.8 > 2.6, "yes", "no")
    frame = pd.DataFrame(x, columns=["a", "b", "c"]).assign(y=y)
    spec = FitSpec(target="y", time_limit=30.0, candidates=("lightgbm",))
    fitted = fit_table(frame, spec, reporter=QuietReporter())
    model = fitted.model
    assert model.policy.class_weights is not None  # the prior correction ships
    X = fitted.test_frame.drop(columns=["__row__", "__label__"])
    y_idx = fitted.trust.artifacts["y_test"]
    classes = [str(c) for c in model.classes]
    truth = np.array(classes)[y_idx]
    said = model.predict_frame(X)["prediction"].astype(str).to_numpy()
    final = fitted.trust.test_metrics["final"]
    label_ba = float(np.mean([(said[truth == c] == c).mean() for c in classes]))
    assert final["balanced_accuracy"]["point"] == pytest.approx(label_ba)
    assert final["accuracy"]["point"] == pytest.approx(float(np.mean(said == truth)))
    argmax_ba = balanced_accuracy(y_idx, fitted.trust.artifacts["test_proba"])
    assert label_ba > argmax_ba + 0.02  # the rule matters here, so the test can tell them apart
    low, high = final["balanced_accuracy"]["low"], final["balanced_accuracy"]["high"]
    assert low <= label_ba <= high
    # the label given is always in the prediction set (the prior correction gives the rare
    # class where the set at 90% holds only the common one), so the set still covers
    out = model.predict_frame(X)
    sets = [json.loads(v) if isinstance(v, str) else list(v) for v in out["prediction_set"]]
    assert all(p in s for p, s in zip(out["prediction"].astype(str), sets, strict=True))
    assert (out["prediction"].astype(str) == "yes").sum() > 0
    covered = np.mean([t in s for t, s in zip(truth, sets, strict=True)])
    assert covered >= 0.9 - 2 * np.sqrt(0.09 / len(truth))


def test_the_largest_models_are_left_out_of_the_ensemble_to_bound_the_bundle() -> None:
    """A forest and a k-NN model that together pickle beyond the cap: the largest that is
    neither the baseline nor the best single model (by out-of-fold log loss) is left out of
    the pool the ensemble draws on, with a note; under the cap nothing is."""
    from types import SimpleNamespace

    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier

    from prudent.pipeline._budget import pickled_bytes
    from prudent.pipeline._trust import _pool

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 8))
    y = (X[:, 0] + X[:, 1] * X[:, 2] + rng.logistic(size=2000) * 0.5 > 0).astype(np.int64)
    models = {
        "logistic": LogisticRegression(),
        "random_forest": RandomForestClassifier(n_estimators=60, random_state=0),
        "knn": KNeighborsClassifier(n_neighbors=25),
    }
    runs = {
        n: SimpleNamespace(
            model=m.fit(X, y), oof_proba=cross_val_predict(m, X, y, cv=3, method="predict_proba")
        )
        for n, m in models.items()
    }
    size = {n: pickled_bytes(r.model) for n, r in runs.items()}
    kept, notes = _pool(runs, y, cap=sum(size.values()))  # type: ignore[arg-type]
    assert set(kept) == set(models) and notes == []
    kept, notes = _pool(runs, y, cap=sum(size.values()) - 1)  # type: ignore[arg-type]
    best = min(runs, key=lambda n: log_loss(y, runs[n].oof_proba))
    largest = max((n for n in runs if n not in (best, "logistic")), key=size.__getitem__)
    assert set(kept) == set(models) - {largest}
    assert notes and notes[0].startswith(f"{largest} (") and "under 50 MB" in notes[0]
    kept, _ = _pool(runs, y, cap=1)  # type: ignore[arg-type]
    assert set(kept) == {best, "logistic"}


def test_leaderboard_warns_of_a_bug_only_for_families_that_ought_to_win() -> None:
    from prudent.metrics import Verdict
    from prudent.pipeline._leaderboard import verdict_message

    class Worse:
        verdict = Verdict.WORSE
        p_adjusted = 0.001
        balanced_accuracy_diff = -0.01
        balanced_accuracy_se = 0.004
        balanced_accuracy_lower = True

    weak = verdict_message("knn", Worse(), "logistic", "nearest neighbours")  # type: ignore[arg-type]
    strong = verdict_message("lightgbm", Worse(), "logistic", "gradient boosting")  # type: ignore[arg-type]
    assert "bug" not in weak and "WARNING" not in weak and "simpler family" in weak
    assert strong.startswith("WARNING lightgbm") and "bug" in strong


def test_a_verdict_names_its_metric_and_the_ranking_metric_when_they_disagree() -> None:
    """A candidate that predicts the majority class more often is more accurate but has a
    lower balanced accuracy than the baseline: the line must say both."""
    from prudent.metrics import Verdict, compare_to_baseline
    from prudent.pipeline._leaderboard import verdict_message

    rng = np.random.default_rng(0)
    y = (rng.uniform(size=4000) < 0.1).astype(int)  # 10% minority
    base_says = np.where(rng.uniform(size=4000) < 0.8, y, 1 - y)  # 80% right on each class
    cand_says = np.where(y == 0, 0, np.where(rng.uniform(size=4000) < 0.3, 1, 0))
    base, cand = np.eye(2)[base_says] * 0.8 + 0.1, np.eye(2)[cand_says] * 0.8 + 0.1
    c = compare_to_baseline(y, base, {"majority_lover": cand})["majority_lover"]
    assert c.verdict is Verdict.BETTER and c.balanced_accuracy_diff < 0
    line = verdict_message("majority_lover", c, "logistic", "gradient boosting")
    assert "significantly more accurate than logistic (accuracy, McNemar" in line
    assert "balanced accuracy, the ranking metric, is lower" in line


def test_a_strong_family_less_accurate_at_the_same_balanced_accuracy_is_not_called_a_bug() -> None:
    """A class-weighted baseline right on 85% of each class; a candidate right on 83% of the
    larger class (95% of rows) and 87% of the smaller: significantly less accurate (the
    larger class weighs in accuracy), with a balanced accuracy within noise of the
    baseline's. A broken column would cost both: no likely-bug warning. One that also loses
    balanced accuracy beyond its paired standard error still gets the warning."""
    from prudent.metrics import Verdict, compare_to_baseline
    from prudent.pipeline._leaderboard import verdict_message

    rng = np.random.default_rng(0)
    n = 10_000
    y = (rng.uniform(size=n) < 0.05).astype(int)
    u = rng.uniform(size=n)
    base_says = np.where(u < 0.85, y, 1 - y)
    cand_says = np.where(u < np.where(y == 0, 0.83, 0.87), y, 1 - y)
    broken_says = np.where(u < 0.80, y, 1 - y)

    def proba(says: np.ndarray) -> np.ndarray:
        return np.eye(2)[says] * 0.8 + 0.1

    c = compare_to_baseline(
        y, proba(base_says), {"cand": proba(cand_says), "broken": proba(broken_says)}
    )
    assert c["cand"].verdict is Verdict.WORSE and not c["cand"].balanced_accuracy_lower
    line = verdict_message("lightgbm_random", c["cand"], "logistic", "gradient boosting")
    assert "WARNING" not in line and "bug" not in line and "within noise" in line
    assert c["broken"].verdict is Verdict.WORSE and c["broken"].balanced_accuracy_lower
    warned = verdict_message("lightgbm", c["broken"], "logistic", "gradient boosting")
    assert warned.startswith("WARNING lightgbm") and "bug" in warned


def test_a_strong_family_that_trades_accuracy_for_the_minority_class_is_not_called_a_bug() -> None:
    """A candidate that predicts the minority class more often than the baseline is less
    accurate but has a higher balanced accuracy: a trade, not the likely bug a strong family
    losing on both would be."""
    from prudent.metrics import Verdict, compare_to_baseline
    from prudent.pipeline._leaderboard import verdict_message

    rng = np.random.default_rng(1)
    y = (rng.uniform(size=4000) < 0.1).astype(int)  # 10% minority
    base_says = np.where(y == 1, np.where(rng.uniform(size=4000) < 0.4, 1, 0), 0)
    cand_says = np.where(rng.uniform(size=4000) < 0.75, y, 1 - y)  # 75% right on each class
    base, cand = np.eye(2)[base_says] * 0.8 + 0.1, np.eye(2)[cand_says] * 0.8 + 0.1
    c = compare_to_baseline(y, base, {"minority_lover": cand})["minority_lover"]
    assert c.verdict is Verdict.WORSE and c.balanced_accuracy_diff > 0
    line = verdict_message("minority_lover", c, "logistic", "gradient boosting")
    assert not line.startswith("WARNING") and "bug" not in line
    assert "significantly less accurate than logistic" in line and "smaller classes" in line
    assert "balanced accuracy, the ranking metric, is higher" in line


def _run(name: str, family: str, model, X, y, baseline: bool = False):
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_predict

    from prudent.models import CandidateSpec
    from prudent.pipeline._engine import CandidateRun

    oof = cross_val_predict(clone(model), X, y, cv=5, method="predict_proba")
    spec = CandidateSpec(name, family, lambda ctx: clone(model), baseline=baseline)
    return CandidateRun(spec, oof, clone(model).fit(X, y), 0.0, 0.0)


def test_a_flexible_family_that_overfits_is_told_apart_from_one_that_cannot_learn() -> None:
    """Noisy linear data (25% of labels flipped): a boosted model with deep trees memorises
    its training rows and loses on held-out ones, which is overfitting, not a bug; the same
    family given a scrambled copy of the informative column cannot even fit its training
    rows as well as the logistic baseline predicts held-out ones, the sign of a bug."""
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from prudent.pipeline._leaderboard import leaderboard

    rng = np.random.default_rng(0)
    n = 1000
    X = pd.DataFrame({"x": rng.normal(size=n), "noise": rng.normal(size=n)})
    y = ((X["x"] > 0) ^ (rng.uniform(size=n) < 0.25)).to_numpy().astype(int)
    deep = GradientBoostingClassifier(n_estimators=60, max_depth=8, learning_rate=0.5)
    scrambled = make_pipeline(  # the bug: the informative column is replaced by noise
        make_column_transformer(("passthrough", ["noise"])),
        GradientBoostingClassifier(n_estimators=30),
    )
    runs = {
        "logistic": _run("logistic", "baseline", LogisticRegression(), X, y, baseline=True),
        "overfit": _run("overfit", "gradient boosting", deep, X, y),
        "broken": _run("broken", "gradient boosting", scrambled, X, y),
    }
    board, comparisons, _ = leaderboard(runs, y, X=X, n_boot=20)
    lines = {row["name"]: row["vs_baseline"]["message"] for row in board if "vs_baseline" in row}
    assert comparisons["overfit"].verdict.name == "WORSE"
    assert comparisons["broken"].verdict.name == "WORSE"
    assert "overfits this data" in lines["overfit"] and "WARNING" not in lines["overfit"]
    assert lines["broken"].startswith("WARNING broken") and "bug" in lines["broken"]


def test_a_variant_losing_where_its_family_holds_is_not_called_a_bug() -> None:
    """A variant of boosting that cannot use the informative column loses to the baseline;
    alone it is the likely bug, but beside a variant of the same family on the same inputs
    that holds its own, the data and the preprocessing are fine, and the loss is its own
    (a never-seen table: default boosting at 1.000, random split thresholds at 0.917, was
    called a bug in the data)."""
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from prudent.pipeline._leaderboard import leaderboard

    rng = np.random.default_rng(1)
    n = 1000
    X = pd.DataFrame({"x": rng.normal(size=n), "noise": rng.normal(size=n)})
    y = ((X["x"] > 0) ^ (rng.uniform(size=n) < 0.1)).to_numpy().astype(int)
    blind = make_pipeline(
        make_column_transformer(("passthrough", ["noise"])),
        GradientBoostingClassifier(n_estimators=30),
    )
    runs = {
        "logistic": _run("logistic", "baseline", LogisticRegression(), X, y, baseline=True),
        "blind": _run("blind", "gradient boosting", blind, X, y),
    }
    alone = leaderboard(runs, y, X=X, n_boot=20)[0]
    runs["boosting"] = _run("boosting", "gradient boosting", GradientBoostingClassifier(), X, y)
    board, comparisons = leaderboard(runs, y, X=X, n_boot=20)[:2]
    assert comparisons["blind"].verdict.name == "WORSE"
    assert comparisons["boosting"].verdict.name != "WORSE"
    said = {r["name"]: r["vs_baseline"]["message"] for r in board if "vs_baseline" in r}
    assert said["blind"].startswith("blind: significantly less accurate than logistic, where ")
    assert "boosting, of the same family on the same inputs, is not" in said["blind"]
    first = {r["name"]: r["vs_baseline"]["message"] for r in alone if "vs_baseline" in r}
    assert first["blind"].startswith("WARNING blind")


def test_the_trust_stage_leaves_stacking_out_when_the_budget_has_no_time_for_it() -> None:
    """The ensemble choice is charged to the budget: with the limit spent, stacking is not
    tried (a note says why); with time left it is scored as before."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    from prudent.pipeline._budget import STARTUP_SECONDS, Budget
    from prudent.pipeline._trust import _primary

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1200, 4))
    y = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] * X[:, 2] > 0)  # 4 classes
    runs = {
        "logistic": _run("logistic", "linear", LogisticRegression(max_iter=500), X, y, True),
        "forest": _run("forest", "trees", RandomForestClassifier(50, random_state=0), X, y),
    }
    cpu = [0.0]
    budget = Budget(25.0, finish_cpu=6.0, clock=lambda: 0.0, cpu_clock=lambda: cpu[0])
    roomy = _primary(runs, "logistic", y, 0, budget)[2]
    assert "stacking" in roomy["options_log_loss"] and "notes" not in roomy
    cpu[0] = 25.0 - STARTUP_SECONDS - budget.finish  # the CPU time left is the save's
    spent = _primary(runs, "logistic", y, 0, budget)[2]
    assert "stacking" not in spent["options_log_loss"]
    assert spent["notes"] == ["stacking not tried: no time left for it"]


def test_a_family_reading_text_through_an_svd_is_not_called_a_bug_for_losing() -> None:
    """On text, the MLP and k-NN read a truncated SVD of the TF-IDF terms that the logistic
    baseline reads whole: an MLP losing there is the representation's cost, not a bug. The
    fitted pipelines say which family reads the compressed text."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline

    from prudent.data import infer_schema
    from prudent.metrics import Verdict
    from prudent.models._features import make_preprocessor
    from prudent.pipeline._leaderboard import TrainingFit, compresses_text, verdict_message

    rng = np.random.default_rng(0)
    words = np.array(["good", "bad", "plot", "actor", "scene", "long", "fun", "dull"])
    text = [" ".join(rng.choice(words, 12)) + f" w{i % 40}" for i in range(300)]
    frame = pd.DataFrame({"review": text, "y": ["pos" if "good" in t else "neg" for t in text]})
    schema = infer_schema(frame, "y", text=["review"])
    X, y = frame[["review"]], frame["y"]

    def fitted(style: str, model: object) -> object:
        pre = make_preprocessor(schema, style, n_rows=len(X), text_svd=5)  # type: ignore[arg-type]
        return make_pipeline(pre, model).fit(X, y)

    assert compresses_text(fitted("dense", MLPClassifier(max_iter=500, random_state=0)))
    assert not compresses_text(fitted("linear", LogisticRegression()))

    class Worse:
        verdict = Verdict.WORSE
        p_adjusted = 0.001
        balanced_accuracy_diff = -0.05
        balanced_accuracy_se = 0.01
        balanced_accuracy_lower = True

    line = verdict_message("mlp", Worse(), "logistic", "neural network", compressed_text=True)  # type: ignore[arg-type]
    assert not line.startswith("WARNING") and "bug" not in line and "truncated SVD" in line
    plain = verdict_message(
        "mlp", Worse(), "logistic", "neural network", fits=TrainingFit(0.6, 0.7, 0.01)
    )  # type: ignore[arg-type]
    assert plain.startswith("WARNING mlp") and "bug" in plain
    # an early-stopped network fitting its rows within noise of the baseline's held-out
    # accuracy learns what it learns: no bug suggested
    close = verdict_message(
        "mlp", Worse(), "logistic", "neural network", fits=TrainingFit(0.8, 0.807, 0.005)
    )  # type: ignore[arg-type]
    assert not close.startswith("WARNING") and "within noise of logistic's 0.807" in close


def test_a_table_whose_rows_all_look_alike_fits_and_flags_no_training_like_row() -> None:
    """One two-valued category and labels it does not predict: every row scores the same in
    the OOD space, the threshold fell on those ties and flagged every row, and the fit
    stopped ('confidence is empty; a threshold needs calibration rows'). Ties are flagged
    only when the allowance holds them; a novel value is still flagged."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"f": rng.choice(["x", "y"], 300), "label": rng.choice(["a", "b"], 300)})
    spec = FitSpec(target="label", time_limit=20.0, candidates=("lightgbm",))
    fitted = fit_table(frame, spec, reporter=QuietReporter())
    out = fitted.model.predict_frame(frame[["f"]])
    assert not out["is_ood"].any() and (out["decision"] != "review").mean() >= 0.5
    assert fitted.model.predict_frame(pd.DataFrame({"f": ["z"]}))["is_ood"].all()


def test_the_ood_map_and_detector_are_fitted_on_part_a_within_the_text_bound() -> None:
    """Long texts: the OOD feature map and detector are fitted on a draw of part A's rows
    holding at most ``TEXT_CHARS`` of text (fitting and transforming cost the words), and
    never on the rows that set the threshold (part B)."""
    from prudent.data import infer_schema
    from prudent.models._ood_space import TEXT_CHARS
    from prudent.pipeline._trust import _Data, _fit_rows, _halves

    n = 2400  # 3,000 characters a text: part A holds 3.6 million
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"t": [f"w{i % 7} " * 1000 for i in range(n)], "y": rng.integers(0, 2, n)})
    schema = infer_schema(frame, "y", text=["t"])
    X, y = frame[["t"]], frame["y"].to_numpy()
    data = _Data(schema, np.array([0, 1]), X, y, X.iloc[:0], y[:0], None)
    a, b = _halves(y, 0)
    kept, notes = _fit_rows(data, a, 0)
    assert set(kept) <= set(a) and not set(kept) & set(b)
    assert TEXT_CHARS - 3000 < X["t"].str.len().to_numpy()[kept].sum() <= TEXT_CHARS
    assert notes == [
        f"OOD: the feature map and the detector are fitted on {len(kept)} of {len(a)} rows "
        "(at most 3,000,000 characters of text)"
    ]
    short = _Data(schema, np.array([0, 1]), X.assign(t="a few words"), y, X, y, None)
    np.testing.assert_array_equal(_fit_rows(short, a, 0)[0], a)


def test_a_many_class_tables_calibration_is_kept_from_the_candidates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cross-fitted calibration fits its maps on every training row and class: on 48,000
    rows of 100 classes the two (primary and backup) took 9 s that the trust stage's share
    had not kept, and the fit ran past its limit. Its cost is charged to the budget as soon
    as the classes are known, before any candidate is fitted; the logistic baseline chosen
    alone is calibrated once and its backup shares the map."""
    from prudent.pipeline._budget import Budget
    from prudent.pipeline._trust import trust_rows_seconds

    charges: list[float] = []
    original = Budget.charge

    def spy(self: Budget, seconds: float) -> None:
        charges.append(seconds)
        original(self, seconds)

    monkeypatch.setattr(Budget, "charge", spy)
    rng = np.random.default_rng(3)
    y = rng.integers(0, 40, 2000)
    frame = pd.DataFrame({"x": y + rng.normal(scale=3.0, size=2000), "y": [f"c{v}" for v in y]})
    spec = FitSpec(target="y", time_limit=30.0, candidates=("logistic",))
    result = fit_table(frame, spec, reporter=QuietReporter())
    splits = result.splits
    expected = trust_rows_seconds(len(splits.train), len(splits.test), 40)
    assert charges[0] == pytest.approx(expected) and expected > 0
    assert result.trust.chosen["primary"] == "logistic"
    model = result.model
    assert model.backup_calibrator is model.primary_calibrator


def test_a_label_rule_below_the_majoritys_accuracy_is_said_in_one_line() -> None:
    """A weak signal and a 10% class: favouring the small class where its probability is high
    for its share buys balanced accuracy with plain accuracy, below always saying the large
    class; the fit says so, with the way to the most probable label. A strong signal: no line."""
    rng = np.random.default_rng(0)
    n = 3000
    x = rng.normal(size=n)
    weak = (rng.uniform(size=n) < 1 / (1 + np.exp(2.4 - 0.6 * x))).astype(int)
    strong = (x > 1.28).astype(int)
    lines = {}
    for name, y in (("weak", weak), ("strong", strong)):
        frame = pd.DataFrame({"x": x, "noise": rng.normal(size=n), "y": np.where(y, "b", "a")})
        reporter = QuietReporter()
        spec = FitSpec(target="y", time_limit=20.0, candidates=("lightgbm",))
        fitted = fit_table(frame, spec, reporter=reporter)
        lines[name] = [m for m in reporter.notices if m.startswith("Labels favour")]
        if name == "weak":
            test = fitted.model.predict_frame(frame[["x", "noise"]])
            assert (test["prediction"] == "a").mean() < (y == 0).mean()  # 'b' said more often
    assert len(lines["weak"]) == 1 and "always predicting 'a'" in lines["weak"][0]
    assert "--costs" in lines["weak"][0]
    assert lines["strong"] == []


def _noise_or_signal(signal: float, n: int = 1200, seed: int = 3) -> pd.DataFrame:
    """A 4:1 binary target and five numbers; ``signal`` shifts the first by class."""
    rng = np.random.default_rng(seed)
    y = np.where(rng.uniform(size=n) < 0.2, "rare", "common")
    X = rng.normal(size=(n, 5))
    X[:, 0] += signal * (y == "rare")
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]).assign(y=y)


@pytest.mark.parametrize("signal", [0.0, 1.5])
def test_a_target_the_inputs_do_not_predict_is_named_in_one_notice(signal: float) -> None:
    """Inputs of pure noise: whatever ships answers no better than one class always, and the
    fit says so; one input shifted by 1.5 standard deviations: no such notice."""
    spec = FitSpec(target="y", time_limit=30.0, candidates=("lightgbm",))
    result = fit_table(_noise_or_signal(signal), spec, reporter=QuietReporter())
    notices = [n for n in result.notices if n.startswith("Little evidence of signal")]
    balanced = result.trust.test_metrics["final"]["balanced_accuracy"]["point"]
    if signal == 0.0:
        assert len(notices) == 1 and "of always answering one class" in notices[0]
        assert abs(balanced - 0.5) < 0.1  # the locked test agrees: chance
    else:
        assert notices == [] and balanced > 0.7


def test_the_conformal_promise_is_measured_on_the_sets_that_ship() -> None:
    """With labels that favour the rare class, the shipped set holds the label given even
    where the conformal set did not; the promise's coverage and mean size are those of the
    shipped sets (they were the bare conformal sets': Default promised size 1.00 while its
    shipped sets averaged 1.155)."""
    spec = FitSpec(target="y", time_limit=30.0, candidates=("lightgbm",))
    result = fit_table(_noise_or_signal(1.0, n=3000), spec, reporter=QuietReporter())
    model = result.model
    assert model.policy.class_weights is not None  # the rare class is favoured
    test = result.test_frame
    idx = test["__label__"].to_numpy()  # class indices
    X = test.drop(columns=["__row__", "__label__"])
    P = model.scores(X).primary
    shipped = model.prediction_sets(P)
    bare = model.conformal.predict_set(P)
    assert (shipped.sum(1) > bare.sum(1)).any()  # the label added somewhere
    lac = result.trust.sections["test"]["conformal"]["lac"]
    assert lac["mean_size"] == pytest.approx(shipped.sum(1).mean())
    sizes = result.trust.artifacts["test_sets"]
    assert lac["mean_size"] == pytest.approx(np.mean(sizes))
    assert lac["coverage"] == pytest.approx(shipped[np.arange(len(idx)), idx].mean())


def test_the_stored_risk_coverage_curve_is_of_the_shipped_labels() -> None:
    """Its full-coverage end is the shipped labels' accuracy on the locked test (the curve
    was of the top class: 0.975 at full coverage on a bundle whose labels scored 0.857)."""
    spec = FitSpec(target="y", time_limit=30.0, candidates=("lightgbm",))
    result = fit_table(_noise_or_signal(1.0, n=3000), spec, reporter=QuietReporter())
    assert result.model.policy.class_weights is not None
    curve = result.trust.sections["risk_coverage"]
    full = int(np.argmax(curve["coverage"]))
    accuracy = result.trust.test_metrics["final"]["accuracy"]["point"]
    assert curve["coverage"][full] == pytest.approx(1.0)
    assert 1 - curve["risk"][full] == pytest.approx(accuracy, abs=1e-4)


def test_a_mondrian_fit_promises_and_checks_coverage_in_every_class(tmp_path) -> None:
    """With ``mondrian`` the sets are calibrated per class, and so is the promise: each
    class's coverage on the locked test, within two standard errors of its own rows (the
    promise said 'LAC' and checked the overall coverage alone)."""
    from prudent.bundle import Bundle, load

    spec = FitSpec(target="y", time_limit=30.0, candidates=("lightgbm",), mondrian=True)
    result = fit_table(_noise_or_signal(1.0, n=3000), spec, reporter=QuietReporter())
    promise = next(p for p in result.trust.sections["promises"] if "conformal" in p["name"])
    assert promise["name"] == "conformal coverage in every class (Mondrian LAC, alpha=0.1)"
    model, test = result.model, result.test_frame
    idx = test["__label__"].to_numpy()
    sets = model.prediction_sets(model.scores(test.drop(columns=["__row__", "__label__"])).primary)
    hit = sets[np.arange(len(idx)), idx]
    per_class = {c: (hit[idx == c].mean(), (idx == c).sum()) for c in np.unique(idx)}
    lowest = min(per_class, key=lambda c: per_class[c][0])
    assert (
        f"lowest {str(model.classes[lowest])!r} {per_class[lowest][0]:.3f}" in promise["measured"]
    )
    kept = all(cov >= 0.9 - 2 * np.sqrt(0.09 / n) for cov, n in per_class.values())
    assert promise["kept"] is kept
    saved = Bundle.from_fit(result).save(tmp_path / "m")  # the manifest reads back
    assert load(saved).evidence is not None
