"""Tests of greedy ensemble selection, stacking, the honest choice and the ensemble estimators."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_digits, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from prudent.errors import ConfigError, DataError, NotFittedError, TargetError
from prudent.models._ensemble_choice import _Options, _pruned_stacking, _stacked
from prudent.models._ensembles import (
    StackedEnsemble,
    WeightedEnsemble,
    choose_ensemble,
    ensemble_from_choice,
    greedy_ensemble_selection,
    stacking_oof,
)
from prudent.models._guarded import GuardedModel
from prudent.models._shared_inputs import shared_groups


def _members() -> dict[str, object]:
    return {
        "lr": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        "rf": RandomForestClassifier(n_estimators=50, random_state=0, n_jobs=1),
        "knn": make_pipeline(StandardScaler(), KNeighborsClassifier(15)),
        "nb": GaussianNB(),
    }


class Oof:
    """Out-of-fold probabilities of four diverse members, and the members fitted on all rows."""

    def __init__(self, loader: object) -> None:
        self.X, self.y = loader(return_X_y=True)
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        members = _members()
        self.names = list(members)
        self.probas = [
            cross_val_predict(m, self.X, self.y, cv=folds, method="predict_proba")
            for m in members.values()
        ]
        self.fitted = {n: m.fit(self.X, self.y) for n, m in members.items()}

    def single_losses(self) -> list[float]:
        return [log_loss(self.y, p) for p in self.probas]


@pytest.fixture(scope="module")
def digits() -> Oof:
    return Oof(load_digits)


@pytest.fixture(scope="module")
def wine() -> Oof:
    return Oof(load_wine)


@pytest.fixture(scope="module")
def digits_choice(digits: Oof):
    return choose_ensemble(digits.names, digits.probas, digits.y)


def _simple_members() -> list[tuple[str, object]]:
    return [("lr", LogisticRegression()), ("dt", DecisionTreeClassifier(random_state=0))]


@parametrize_with_checks(
    [
        WeightedEnsemble(_simple_members(), weights=[0.7, 0.3]),
        StackedEnsemble(_simple_members(), cv=3),
    ]
)
def test_ensembles_sklearn_contract(estimator, check):
    check(estimator)


@pytest.mark.parametrize("data", ["digits", "wine"])
def test_greedy_ensemble_selection_not_worse_than_best_single(data, request):
    oof = request.getfixturevalue(data)
    w = greedy_ensemble_selection(oof.probas, oof.y)
    assert w.shape == (4,) and np.all(w >= 0) and w.sum() == pytest.approx(1.0)
    ensemble = np.tensordot(w, np.stack(oof.probas), axes=1)
    assert log_loss(oof.y, ensemble) <= min(oof.single_losses()) + 1e-12
    assert np.count_nonzero(w) >= 2  # these members are diverse enough to mix


def test_greedy_ensemble_selection_without_steps_is_best_single(digits):
    w = greedy_ensemble_selection(digits.probas, digits.y, n_iter=0)
    assert w.tolist() == [float(i == np.argmin(digits.single_losses())) for i in range(4)]


def test_greedy_ensemble_selection_brier_and_n_init(wine):
    w = greedy_ensemble_selection(wine.probas, wine.y, metric="brier", n_init=2)
    brier = [np.mean(np.sum((p - np.eye(3)[wine.y]) ** 2, 1)) for p in wine.probas]
    ens = np.tensordot(w, np.stack(wine.probas), axes=1)
    assert np.mean(np.sum((ens - np.eye(3)[wine.y]) ** 2, 1)) <= min(brier)


def test_greedy_ensemble_selection_accepts_string_labels(wine):
    labels = np.array(["a", "b", "c"])[wine.y]
    np.testing.assert_array_equal(
        greedy_ensemble_selection(wine.probas, labels),
        greedy_ensemble_selection(wine.probas, wine.y),
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_iter": -1}, r"n_iter=-1, n_init=1, metric='log_loss'; expected n_iter >= 0"),
        ({"n_init": 5}, r"1 <= n_init <= 4 members"),
        ({"metric": "accuracy"}, r"metric='accuracy'.*metric in \('log_loss', 'brier'\)"),
    ],
)
def test_greedy_ensemble_selection_rejects_bad_params(wine, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        greedy_ensemble_selection(wine.probas, wine.y, **kwargs)


def test_greedy_ensemble_selection_rejects_mismatched_inputs(wine):
    with pytest.raises(
        DataError, match=r"oof_probas\[1\] has shape \(10, 3\), but oof_probas\[0\]"
    ):
        greedy_ensemble_selection([wine.probas[0], wine.probas[1][:10]], wine.y)
    with pytest.raises(TargetError, match="y has 2 classes, but the probabilities have 3 columns"):
        greedy_ensemble_selection(wine.probas, np.minimum(wine.y, 1))
    with pytest.raises(DataError, match="oof_probas is empty"):
        greedy_ensemble_selection([], wine.y)


def test_stacking_oof_is_cross_validated_and_useful(wine):
    proba, meta = stacking_oof(wine.probas, wine.y)
    assert proba.shape == (len(wine.y), 3)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    features = np.hstack([np.log(np.clip(p, 1e-3, 1)) for p in wine.probas])
    refit = meta.predict_proba(features)
    assert log_loss(wine.y, refit) < log_loss(wine.y, proba)  # in-sample is optimistic
    assert log_loss(wine.y, proba) < np.mean(wine.single_losses())
    assert (proba.argmax(1) == wine.y).mean() >= 0.95


def test_stacking_oof_needs_two_rows_per_class(wine):
    y = wine.y.copy()
    y[0] = 3
    probas = [np.c_[p, np.zeros(len(p))] for p in wine.probas]
    with pytest.raises(TargetError, match="smallest class in y has 1 sample"):
        stacking_oof(probas, y)


def test_choose_ensemble_gains_on_digits(digits, digits_choice):
    c = digits_choice
    assert c.kind in ("greedy", "stacking")
    assert c.best_single == "lr"
    assert c.best_single_log_loss == pytest.approx(min(digits.single_losses()))
    assert c.gain >= 1e-3
    assert c.log_loss[c.kind] == pytest.approx(log_loss(digits.y, c.oof_proba))
    assert sum(c.weights.values()) == pytest.approx(1.0)
    assert set(c.log_loss) == {"single", "single_stacked", "greedy", "stacking"}


def test_choose_ensemble_copies_gain_nothing(wine):
    best = int(np.argmin(wine.single_losses()))
    copies = [wine.probas[best]] * 3
    c = choose_ensemble(["a", "b", "c"], copies, wine.y)
    assert c.kind == "single" and c.gain == 0.0 and c.members == ("a",)
    assert c.log_loss["greedy"] == pytest.approx(c.log_loss["single"], abs=1e-12)
    assert c.log_loss["stacking"] == pytest.approx(c.log_loss["single_stacked"], abs=1e-4)
    np.testing.assert_array_equal(c.oof_proba, wine.probas[best])


def test_choose_ensemble_single_member(wine):
    c = choose_ensemble(["only"], wine.probas[:1], wine.y)
    assert (c.kind, c.weights, c.log_loss) == (
        "single",
        {"only": 1.0},
        {"single": c.gain + c.best_single_log_loss},
    )


def test_choose_ensemble_min_gain_forces_single(wine):
    c = choose_ensemble(wine.names, wine.probas, wine.y, min_gain=10.0)
    assert c.kind == "single" and c.best_single == wine.names[int(np.argmin(wine.single_losses()))]


def test_choose_ensemble_rejects_bad_names(wine):
    with pytest.raises(ConfigError, match=r"names \['a', 'a', 'b', 'c'\] for 4 probability"):
        choose_ensemble(["a", "a", "b", "c"], wine.probas, wine.y)


def test_ensemble_from_choice_reproduces_weighted_average(digits, digits_choice):
    model = ensemble_from_choice(digits_choice, digits.fitted)
    X = digits.X[:50]
    if digits_choice.kind == "greedy":
        manual = sum(
            w * digits.fitted[n].predict_proba(X) for n, w in digits_choice.weights.items()
        )
        np.testing.assert_allclose(model.predict_proba(X), manual)
    assert (model.predict(X) == digits.y[:50]).mean() > 0.9


def test_weighted_ensemble_predict_proba_equals_manual_average(wine):
    members = [(n, wine.fitted[n]) for n in ("lr", "nb", "rf")]
    ens = WeightedEnsemble.from_fitted(members, [2.0, 1.0, 1.0])
    manual = sum(
        w * m.predict_proba(wine.X) for w, (_, m) in zip([0.5, 0.25, 0.25], members, strict=True)
    )
    np.testing.assert_allclose(ens.predict_proba(wine.X), manual)
    np.testing.assert_array_equal(ens.predict(wine.X), ens.classes_[manual.argmax(1)])
    refit = WeightedEnsemble([(n, _members()[n]) for n, _ in members], [2.0, 1.0, 1.0])
    np.testing.assert_allclose(refit.fit(wine.X, wine.y).predict_proba(wine.X), manual)


def test_weighted_ensemble_aligns_member_classes(wine):
    keep = wine.y > 0
    partial = GaussianNB().fit(wine.X[keep], wine.y[keep])  # knows classes 1 and 2 only
    full = GaussianNB().fit(wine.X, wine.y)
    ens = WeightedEnsemble.from_fitted([("part", partial), ("full", full)])
    expected = full.predict_proba(wine.X) / 2
    expected[:, 1:] += partial.predict_proba(wine.X) / 2
    assert ens.classes_.tolist() == [0, 1, 2]
    np.testing.assert_allclose(ens.predict_proba(wine.X), expected)


def test_stacked_ensemble_from_fitted_matches_meta_on_member_features(wine):
    _, meta = stacking_oof(wine.probas, wine.y)
    ens = StackedEnsemble.from_fitted(list(wine.fitted.items()), meta)
    feats = np.hstack(
        [np.log(np.clip(m.predict_proba(wine.X), 1e-3, 1)) for m in wine.fitted.values()]
    )
    np.testing.assert_allclose(ens.predict_proba(wine.X), meta.predict_proba(feats))


def test_stacked_ensemble_fit_is_accurate(wine):
    ens = StackedEnsemble([(n, m) for n, m in _members().items()]).fit(wine.X, wine.y)
    assert (ens.predict(wine.X) == wine.y).mean() > 0.95


def test_from_fitted_rejects_unfitted_member(wine):
    with pytest.raises(NotFittedError, match="Member 'nb' of WeightedEnsemble is not fitted"):
        WeightedEnsemble.from_fitted([("lr", wine.fitted["lr"]), ("nb", GaussianNB())])


@pytest.mark.parametrize("weights", [[1.0], [-1.0, 2.0], [0.0, 0.0], [np.nan, 1.0]])
def test_weighted_ensemble_rejects_bad_weights(wine, weights):
    with pytest.raises(ConfigError, match=r"WeightedEnsemble got weights .* for 2 estimators"):
        WeightedEnsemble(_simple_members(), weights).fit(wine.X, wine.y)


def test_from_fitted_saves_each_member_once(wine):
    import skops.io as sio

    members = list(wine.fitted.items())
    alone = sum(len(sio.dumps(m)) for _, m in members)
    _, meta = stacking_oof(wine.probas, wine.y)
    for ens in (WeightedEnsemble.from_fitted(members), StackedEnsemble.from_fitted(members, meta)):
        assert len(sio.dumps(ens)) < 1.5 * alone  # skops does not share: saved twice, 2x
        assert [est for est in ens.estimators_] == [m for _, m in members]


class CountingScaler(StandardScaler):
    """A real StandardScaler that counts its transforms."""

    calls = 0

    def transform(self, X, copy=None):
        CountingScaler.calls += 1
        return super().transform(X, copy=copy)


def test_members_with_equal_preprocessing_transform_once(wine):
    members = [
        ("lr", make_pipeline(CountingScaler(), LogisticRegression(max_iter=2000))),
        ("knn", make_pipeline(CountingScaler(), KNeighborsClassifier(15))),
        ("nb", GaussianNB()),
    ]
    fitted = [(n, m.fit(wine.X, wine.y)) for n, m in members]
    manual = [m.predict_proba(wine.X) for _, m in fitted]
    assert shared_groups([m for _, m in fitted]) == (0, 0, 2)
    ens = WeightedEnsemble.from_fitted(fitted, [2.0, 1.0, 1.0])
    CountingScaler.calls = 0
    outputs = ens.member_outputs(wine.X)
    assert CountingScaler.calls == 1  # the two scalers are equal: one transform
    for got, expected in zip(outputs, manual, strict=True):
        np.testing.assert_array_equal(got, expected)  # exactly each member's own
    np.testing.assert_array_equal(ens.predict_proba(wine.X), ens.combine(outputs))


def test_member_refitted_in_place_stops_sharing(wine):
    a = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(wine.X, wine.y)
    b = make_pipeline(StandardScaler(), GaussianNB()).fit(wine.X, wine.y)
    ens = WeightedEnsemble.from_fitted([("a", a), ("b", b)])
    assert shared_groups(ens.estimators_) == (0, 0)
    ens.predict_proba(wine.X)
    b.fit(wine.X[:60] * 3.0, wine.y[:60])  # a different scaler now
    assert shared_groups(ens.estimators_) == (0, 1)
    np.testing.assert_array_equal(ens.member_outputs(wine.X)[1], b.predict_proba(wine.X))


def test_backup_among_the_members_is_run_once(wine):
    """A backup that is one of the primary's members shares that member's probabilities."""
    fitted = list(wine.fitted.items())
    for primary in (WeightedEnsemble.from_fitted(fitted), fitted[0][1]):
        for backup in [primary, *getattr(primary, "estimators_", [])]:
            model = GuardedModel(classes=[0, 1, 2], primary=primary, backup=backup)
            got = model.scores(wine.X)
            np.testing.assert_array_equal(got.backup, backup.predict_proba(wine.X))
            np.testing.assert_array_equal(got.primary, primary.predict_proba(wine.X))


def test_stacking_oof_max_rows_fits_a_sample_and_predicts_the_others_unseen(digits):
    proba, meta = stacking_oof(digits.probas, digits.y, max_rows=900)
    full, _ = stacking_oof(digits.probas, digits.y)
    features = np.hstack([np.log(np.clip(p, 1e-3, 1)) for p in digits.probas])
    by_refit = np.isclose(proba, meta.predict_proba(features), rtol=0, atol=1e-12).all(axis=1)
    # rows outside the sample (1797 - about 900) are the refit's; the sample's, its folds'
    assert 850 <= by_refit.sum() <= 950
    np.testing.assert_allclose(proba.sum(1), 1.0)
    # measured: 0.091 on a sample of 900 rows, 0.090 on all 1797 (0.109 on 500)
    assert log_loss(digits.y, proba) <= log_loss(digits.y, full) + 0.03


def test_choose_ensemble_fits_stacking_in_the_seconds_allowed(digits, digits_choice):
    none = choose_ensemble(digits.names, digits.probas, digits.y, seconds=0.0)
    assert "stacking" not in none.log_loss and "greedy" in none.log_loss
    assert none.notes == ("stacking not tried: no time left for it",)
    tiny = choose_ensemble(digits.names, digits.probas, digits.y, seconds=1e-9)
    assert "stacking" not in tiny.log_loss
    assert tiny.notes[0].startswith("stacking not tried: stacking on all 1797 rows projects")
    roomy = choose_ensemble(digits.names, digits.probas, digits.y, seconds=1e6)
    assert roomy.notes == () and roomy.log_loss == digits_choice.log_loss


def test_backup_with_a_members_preprocessing_shares_its_transform(wine):
    """A backup fitted apart, with preprocessing equal to a member's (or to a single primary's),
    transforms the rows once with it; both models' probabilities are their own."""

    def lr() -> object:
        return make_pipeline(CountingScaler(), LogisticRegression(max_iter=2000)).fit(
            wine.X, wine.y
        )

    knn = make_pipeline(CountingScaler(), KNeighborsClassifier(15)).fit(wine.X, wine.y)
    for primary in (
        WeightedEnsemble.from_fitted([("knn", knn), ("nb", GaussianNB().fit(wine.X, wine.y))]),
        knn,
    ):
        backup = lr()
        model = GuardedModel(classes=[0, 1, 2], primary=primary, backup=backup)
        CountingScaler.calls = 0
        got = model.scores(wine.X)
        assert CountingScaler.calls == 1  # the backup's scaler equals the k-NN's: one transform
        np.testing.assert_array_equal(got.backup, backup.predict_proba(wine.X))
        np.testing.assert_array_equal(got.primary, primary.predict_proba(wine.X))
    other = make_pipeline(StandardScaler(), GaussianNB()).fit(wine.X * 2.0, wine.y)
    model = GuardedModel(classes=[0, 1, 2], primary=knn, backup=other)  # nothing to share
    np.testing.assert_array_equal(model.scores(wine.X).backup, other.predict_proba(wine.X))


def _panel_members(k: int = 10) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """150 groups of 7 rows whose label is the group's, drawn at random: no input says it.
    Two members whose (honest, out-of-group) probabilities are a fingerprint of the group,
    alike on all its rows, unrelated to its label."""
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(150), 7)
    y = rng.integers(0, k, 150)[groups]
    members = []
    for _ in range(2):
        p = rng.dirichlet(np.full(k, 0.5), 150)[groups] * np.exp(rng.normal(0, 0.05, (1050, k)))
        members.append(p / p.sum(1, keepdims=True))
    return y, groups, members


def test_stacking_and_greedy_keep_each_group_in_one_fold() -> None:
    """Scored by folds of rows, the meta-model learned each group's label from its other
    rows: a cross-validated log loss of 1.79 where nothing predicts better than the prior's
    2.30, which chose stacking and promised for new groups what they never got (PSID7682's
    locked-test conformal coverage .74 for .90). With the groups, no fold scores a group it
    was fitted on, and nothing below the prior is claimed; choose_ensemble passes them on."""
    y, groups, members = _panel_members()
    prior = np.log(10)
    by_rows, _ = stacking_oof(members, y)
    by_groups, _ = stacking_oof(members, y, groups=groups)
    assert log_loss(y, by_rows, labels=range(10)) < prior - 0.3  # the leak, shown
    assert log_loss(y, by_groups, labels=range(10)) > prior
    choice = choose_ensemble(["a", "b"], members, y, groups=groups)
    assert min(choice.log_loss.values()) >= prior - 0.05, choice.log_loss


def _two_views_and_a_costly_variant(seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Labels drawn from known probabilities; members 'a' and 'b' see them through independent
    noise (averaging them pays), 'c' through nearly the noise of 'a' and slightly less of it:
    a costlier variant of 'a' that greedy selection prefers to it, and that adds nothing
    'a' does not."""
    rng = np.random.default_rng(seed)
    n, k = 3000, 3
    logits = rng.normal(scale=2.0, size=(n, k))
    y = (softmax(logits, axis=1).cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    noise_a, noise_b = rng.normal(size=(n, k)), rng.normal(size=(n, k))
    c = logits + 0.97 * noise_a + rng.normal(scale=0.1, size=(n, k))
    members = [softmax(logits + noise_a, axis=1), softmax(logits + noise_b, axis=1), softmax(c, 1)]
    return members, y


def test_greedy_selection_sheds_a_costly_variant_it_can_do_without() -> None:
    members, y = _two_views_and_a_costly_variant()
    names, costs = ["a", "b", "c"], [0.01, 0.01, 0.05]
    whole = choose_ensemble(names, members, y, seconds=0)
    assert whole.kind == "greedy" and "c" in whole.weights  # it picks the costly variant
    shed = choose_ensemble(names, members, y, seconds=0, costs=costs)
    assert shed.kind == "greedy" and set(shed.weights) == {"a", "b"}
    # as good within the choice's margin, and still that margin better than one model alone
    assert shed.log_loss["greedy"] <= whole.log_loss["greedy"] + 1e-3
    assert shed.gain >= 1e-3
    assert shed.log_loss["greedy"] == pytest.approx(log_loss(y, shed.oof_proba))
    assert shed.notes[-1] == (
        "greedy selection does without c: its predictions cost 0.020 s per 1,000 rows "
        f"instead of 0.060, for a cross-validated log loss of {shed.log_loss['greedy']:.4f} "
        f"against {whole.log_loss['greedy']:.4f}"
    )
    # the same inputs, the same choice; without costs, nothing changes
    again = choose_ensemble(names, members, y, seconds=0, costs=costs)
    assert again.weights == shed.weights
    np.testing.assert_array_equal(again.oof_proba, shed.oof_proba)
    plain = choose_ensemble(names, members, y, seconds=0, costs=None)
    assert plain.weights == whole.weights and plain.notes == whole.notes


def test_greedy_selection_keeps_a_costly_member_that_earns_its_cost(digits) -> None:
    """On digits, k-NN costs most of the ensemble's prediction time, but without it greedy
    selection is the logistic regression alone, no better than the best single model."""
    costs = {"lr": 0.004, "rf": 0.03, "knn": 0.02, "nb": 0.002}
    whole = choose_ensemble(digits.names, digits.probas, digits.y, seconds=0)
    assert whole.kind == "greedy" and "knn" in whole.weights
    kept = choose_ensemble(
        digits.names, digits.probas, digits.y, seconds=0, costs=[costs[n] for n in digits.names]
    )
    assert kept.weights == whole.weights
    assert not any(note.startswith("greedy selection does without") for note in kept.notes)


class _Fixed(ClassifierMixin, BaseEstimator):
    """A fitted classifier whose probabilities for row ``i`` (``X[i, 0] == i``) are given."""

    def __init__(self, proba: np.ndarray | None = None) -> None:
        self.proba = proba

    def fit(self, X: np.ndarray, y: np.ndarray) -> _Fixed:
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        assert self.proba is not None
        return self.proba[np.asarray(X)[:, 0].astype(int)]


def _overconfident(members: list[np.ndarray]) -> list[np.ndarray]:
    """The members' probabilities made overconfident (log-odds x 2.5): stacking recalibrates
    as it combines, greedy selection cannot, so stacking is chosen."""
    return [softmax(2.5 * np.log(p), axis=1) for p in members]


def test_stacking_sheds_a_costly_variant_it_can_do_without() -> None:
    """The meta-model reads every member it was fitted on, so each costs its whole prediction
    time: a near copy of another member is shed when stacking without it is as good within
    the choice's margin, and the meta-model shipped reads only the members kept."""
    members, y = _two_views_and_a_costly_variant()
    members, names = _overconfident(members), ["a", "b", "c"]
    whole = choose_ensemble(names, members, y)
    assert whole.kind == "stacking" and whole.members == ("a", "b", "c")
    shed = choose_ensemble(names, members, y, costs=[0.01, 0.01, 0.05])
    assert shed.kind == "stacking" and shed.members == ("a", "b")
    assert set(shed.weights) == {"a", "b"} and shed.meta is not None
    assert shed.meta.coef_.shape == (3, 2 * 3)  # fitted on the two members kept
    assert shed.log_loss["stacking"] <= whole.log_loss["stacking"] + 1e-3
    assert shed.gain >= 1e-3  # still that margin better than its baseline
    assert shed.log_loss["stacking"] == pytest.approx(log_loss(y, shed.oof_proba))
    assert shed.notes[-1] == (
        "stacking does without c: its predictions cost 0.020 s per 1,000 rows instead of "
        f"0.070, for a cross-validated log loss of {shed.log_loss['stacking']:.4f} against "
        f"{whole.log_loss['stacking']:.4f}"
    )
    fitted = {n: _Fixed(p).fit(None, y) for n, p in zip(names, members, strict=True)}
    shipped = ensemble_from_choice(shed, fitted)
    rows = np.arange(len(y))[:, None].astype(float)
    features = np.hstack([np.log(np.clip(p, 1e-3, 1)) for p in members[:2]])
    np.testing.assert_allclose(shipped.predict_proba(rows), shed.meta.predict_proba(features))


def test_stacking_keeps_costly_members_that_earn_their_cost_or_when_time_is_short() -> None:
    """Two independent views each earn their cost; when a try would pass the seconds
    stacking was allowed, nothing is shed either."""
    members, y = _two_views_and_a_costly_variant()
    members, names = _overconfident(members), ["a", "b", "c"]
    kept = choose_ensemble(names, members, y, costs=[0.01, 0.05, 0.01])
    assert kept.kind == "stacking" and "b" in kept.members  # b: the only other view
    stack, y_idx = np.stack(members), np.asarray(y)
    full = _stacked(stack, y, [0, 1, 2], None, _Options(50, 5, 1e-3, 0, None, costs=[1, 1, 5]))
    for seconds, left in ((None, [0, 1]), (1.5 * full.seconds, [0, 1, 2])):
        options = _Options(50, 5, 1e-3, 0, seconds, costs=[0.01, 0.01, 0.05])
        pruned, _ = _pruned_stacking(names, stack, y, y_idx, full, 0.9, options)
        assert pruned.members == left  # a try costs about a stacking fit: 2x > 1.5x allowed


def _three_views(seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Probabilities of three independent noisy views of the true log-odds; the third, noisier,
    adds a little to the ensemble of the first two (0.0085 of log loss of its 0.08 gain)."""
    rng = np.random.default_rng(seed)
    n, k = 3000, 3
    logits = rng.normal(scale=2.0, size=(n, k))
    y = (softmax(logits, axis=1).cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    views = [logits + s * rng.normal(size=(n, k)) for s in (1.0, 1.0, 2.0)]
    return [softmax(v, axis=1) for v in views], y


def test_over_the_cost_budget_a_member_that_earns_little_is_traded_for_speed() -> None:
    """Within the budget a member that earns more than the margin stays; when the ensemble
    costs more than the budget, it is shed if the ensemble keeps half of its gain."""
    members, y = _three_views()
    names = ["a", "b", "c"]
    cheap = choose_ensemble(names, members, y, seconds=0, costs=[0.005, 0.005, 0.02])
    unbounded = choose_ensemble(
        names, members, y, seconds=0, costs=[0.01, 0.01, 0.05], cost_budget=None
    )
    for kept in (cheap, unbounded):
        assert kept.kind == "greedy" and set(kept.weights) == {"a", "b", "c"}
    costly = choose_ensemble(names, members, y, seconds=0, costs=[0.01, 0.01, 0.05])
    assert costly.kind == "greedy" and set(costly.weights) == {"a", "b"}
    gain = cheap.log_loss["single"] - cheap.log_loss["greedy"]
    assert cheap.log_loss["greedy"] + 1e-3 < costly.log_loss["greedy"]  # c earned its margin
    assert costly.gain >= gain / 2  # half of the gain kept
    assert costly.notes[-1].startswith("greedy selection does without c: its predictions cost")


def test_many_classes_leave_stacking_out_and_say_so(digits):
    """7 models × 10 classes give the meta-model 70 inputs, more than 64: stacking was left
    out without a word; a note now says why. (Stacking the members that fit was tried: with
    many classes it fitted worse than the best single model or greedy selection.)"""
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    extra = {
        "dt": DecisionTreeClassifier(min_samples_leaf=5, random_state=0),
        "lr_strong": make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=2000)),
        "knn5": make_pipeline(StandardScaler(), KNeighborsClassifier(5)),
    }
    names = [*digits.names, *extra]
    probas = [
        *digits.probas,
        *(cross_val_predict(m, digits.X, digits.y, cv=folds, method="predict_proba")
          for m in extra.values()),
    ]  # fmt: skip
    choice = choose_ensemble(names, probas, digits.y, seconds=1e6)
    assert "stacking" not in choice.log_loss and "greedy" in choice.log_loss
    assert choice.notes[0] == (
        "stacking not tried: 7 models × 10 classes would give its meta-model 70 inputs, "
        "more than 64"
    )
    # four of them fit: stacked as before, without a note
    four = choose_ensemble(names[:4], probas[:4], digits.y, seconds=1e6)
    assert "stacking" in four.log_loss and not any("not tried" in n for n in four.notes)
