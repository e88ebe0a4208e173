"""What training held, and the unknown values of new rows, on real tables with known answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from prudent.data import infer_schema, validate_frame
from prudent.models import CascadePolicy, TrainingValues, decide
from prudent.models import _training_values as training_values
from prudent.models._training_values import MARGIN
from tests.fixtures import example, mixed_frame, reviews


def _split(frame: pd.DataFrame, target: str, **roles: list[str]) -> tuple[Any, Any, Any]:
    schema = infer_schema(frame, target, **roles)
    X, _ = validate_frame(frame.drop(columns=[target]), schema)
    order = np.random.default_rng(0).permutation(len(X))
    cut = int(0.8 * len(X))
    train, test = X.iloc[order[:cut]], X.iloc[order[cut:]].reset_index(drop=True)
    return TrainingValues.fit(train, schema), train, test


def test_numbers_beyond_the_range_and_its_margin_or_of_a_new_sign_are_unknown() -> None:
    seen, train, test = _split(example("breast_cancer"), "target")
    flagged = [names for names in seen.columns(test) if names]
    assert len(flagged) <= 0.02 * len(test), "held-out rows of the same table are known"
    low, q1, q3, high = seen.numbers["mean_radius"]
    assert (low, high) == (train["mean_radius"].min(), train["mean_radius"].max())
    margin = MARGIN * (q3 - q1)
    rows = test.iloc[:5].copy()
    rows.loc[0, "mean_radius"] = -5.0  # impossible: a radius was never negative
    rows.loc[1, "mean_area"] = 1e6
    rows.loc[2, "mean_radius"] = high + 0.9 * margin  # past the range, inside the margin
    rows.loc[3, "mean_radius"] = high + 1.1 * margin
    rows.loc[4, "mean_radius"] = np.nan  # imputed, but training never left it missing
    assert seen.columns(rows).tolist() == [
        ("mean_radius",),
        ("mean_area",),
        (),
        ("mean_radius",),
        ("mean_radius",),
    ]
    assert seen.note("mean_radius", np.nan) == (
        "missing, never missing in training: unknown to the model"
    )
    assert seen.note("mean_radius", -5.0).endswith(
        "of a sign never seen in training: unknown to the model"
    )
    assert (
        seen.note("mean_radius", high + 0.9 * margin) == f"above the training range (max {high:g})"
    )
    assert seen.note("mean_radius", (low + high) / 2) == ""


def test_missing_values_are_unknown_only_where_training_rows_almost_never_missed_them() -> None:
    """A column an upstream change leaves empty: imputed, the model sees a typical value, so
    the row says the column is missing where training (almost) never was; where training rows
    often missed it, the model learnt how that goes and the row says nothing."""
    frame = mixed_frame(300)  # every input of it is missing in 5-13% of the rows
    seen, train, test = _split(frame, "target", categorical=["city"])
    gaps = test.assign(mean_radius=np.nan, city=None, member=np.nan)
    assert not any(seen.columns(gaps).tolist()), "missing values were routine in training"
    rare = train.fillna({"mean_radius": 12.0, "city": "paris", "member": 0.0})
    rare.loc[rare.index[:2], "mean_radius"] = np.nan  # under 1% of the training rows
    strict = TrainingValues.fit(rare, infer_schema(frame, "target", categorical=["city"]))
    share = strict.missing["mean_radius"]
    assert 0 < share < training_values.EMPTY_SHARE
    assert strict.missing["city"] == strict.missing["member"] == 0.0
    flagged = strict.columns(gaps.head(3)).tolist()
    assert all(set(names) >= {"mean_radius", "city", "member"} for names in flagged)
    assert strict.note("city", None) == "missing, never missing in training: unknown to the model"
    assert strict.note("mean_radius", np.nan) == (
        f"missing, as only {share:.1%} of the training rows were: unknown to the model"
    )
    assert strict.note("mean_radius", 12.0) == seen.note("mean_radius", 12.0) == ""
    old = TrainingValues.fit(rare, infer_schema(frame, "target", categorical=["city"]))
    del old.__dict__["missing"]  # as a bundle saved before the share was kept
    assert not any(old.columns(gaps.head(3)).tolist())


def test_unseen_categories_and_booleans_are_unknown_missing_ones_are_not() -> None:
    frame = mixed_frame(300)
    seen, _, test = _split(frame, "target", categorical=["city"])
    assert sorted(seen.categories["city"]) == ["lyon", "nice", "paris"]
    rows = test.iloc[:4].copy()
    rows.loc[0, "city"] = "berlin"
    rows.loc[1, "city"] = "Paris"  # another category for the model's one-hot encoder
    rows.loc[2, "city"] = None
    rows.loc[3, "member"] = 1.0
    got = seen.columns(rows).tolist()
    assert got[:3] == [("city",), ("city",), ()] and "member" not in got[3]
    only_yes = TrainingValues.fit(test[test["member"] == 1.0], infer_schema(frame, "target"))
    assert only_yes.columns(rows.assign(member=0.0)).tolist()[3] == ("member",)


def test_categories_checked_per_distinct_value_as_per_row() -> None:
    """Strings are checked once per distinct value; mixed objects (1, 1.0, True: equal hashes,
    different texts) value by value; both give what a check of every row gives."""
    frame = mixed_frame(300)
    seen, _, test = _split(frame, "target", categorical=["city"])
    rows = pd.concat([test] * 50, ignore_index=True)
    rows.loc[::7, "city"] = "berlin"
    rows.loc[::11, "city"] = None
    per_row = [c not in set(seen.categories["city"]) for c in rows["city"].fillna("paris")]
    assert seen.unknown(rows)["city"].tolist() == per_row
    seen.categories["code"] = np.array(["1", "True"])
    mixed = pd.Series([1, 1.0, True, "1", None], dtype=object)
    assert seen._unseen("code", mixed).tolist() == [False, True, False, False, False]


def test_a_long_column_with_no_value_at_all_has_no_unknown_value() -> None:
    """A boolean or categorical column absent (or empty) in more than 64 rows: no distinct
    value to look up, where the check indexed the first one (IndexError: every prediction
    face failed, and the service sent each such row to review as a model failure)."""
    frame = mixed_frame(300)
    seen, _, test = _split(frame, "target", categorical=["city"])
    rows = pd.concat([test] * 2, ignore_index=True).head(100)
    assert len(rows) > training_values._FEW_ROWS
    for name, nothing in (("member", np.nan), ("city", None)):  # as validation gives them
        empty = rows.assign(**{name: nothing})
        found = seen.unknown(empty).get(name)
        assert found is None or not found.any()
        one_by_one = [seen.columns(empty.iloc[[i]]).tolist()[0] for i in range(len(empty))]
        assert seen.columns(empty).tolist() == one_by_one  # what short batches give


def test_empty_and_out_of_vocabulary_texts_are_unknown() -> None:
    frame = reviews(600)
    seen, _, test = _split(frame, "label", text=["text"], categorical=["movie_name"])
    assert seen.unchecked == ("movie_name",)  # most films appear once: new ones are routine
    flagged = [names for names in seen.columns(test) if names]
    assert len(flagged) <= 0.01 * len(test), "reviews like the training ones are known"
    odd = pd.DataFrame({"text": ["", None, "zxqv wplk", "これは日本語の文です", "a fine film"]})
    assert seen.columns(odd).tolist() == [("text",)] * 4 + [()]
    assert (
        seen.note("text", "zxqv wplk")
        == "a text with no word seen in training: unknown to the model"
    )
    assert seen.note("text", "").startswith("an empty text")
    with_empty = TrainingValues.fit(
        pd.DataFrame({"text": ["good", "", "bad", None] * 10}),
        infer_schema(pd.DataFrame({"text": ["good"], "y": [0]}), "y", text=["text"]),
    )
    assert with_empty.columns(odd).tolist()[:2] == [(), ()], "empty texts were common in training"


def test_the_vocabulary_is_counted_on_a_bounded_number_of_words(monkeypatch) -> None:
    """Long texts: the sampled texts are read only until they have held ``TEXT_WORDS``
    words, and the share of empty texts is of the texts read."""
    monkeypatch.setattr(training_values, "TEXT_WORDS", 40)
    texts = [" ".join(f"w{i}x{j}" for j in range(10)) for i in range(100)] + [""] * 100
    schema = infer_schema(pd.DataFrame({"text": ["good"], "y": [0]}), "y", text=["text"])
    seen = TrainingValues.fit(pd.DataFrame({"text": texts}), schema, seed=1)
    read = len(seen.vocabularies["text"].split("\n")) // 10  # texts with words read
    assert 1 <= read <= 4
    assert 0 < seen.empty_texts["text"] < 1


def test_the_summary_is_bounded_and_plain() -> None:
    seen, _, _ = _split(reviews(600), "label", text=["text"], categorical=["movie_name"])
    state = seen.__getstate__()
    seen.columns(pd.DataFrame({"text": ["a film"]}))  # builds the word set, never saved
    assert set(seen.__getstate__()) == set(state)
    assert len(seen.vocabularies["text"].split("\n")) <= 20_000
    assert all(isinstance(v, np.ndarray) and v.dtype.kind == "U" for v in seen.categories.values())


def test_decide_names_the_unknown_values_and_changes_no_decision() -> None:
    P = np.array([[0.95, 0.05], [0.6, 0.4]])
    plain = decide(CascadePolicy(0.9), classes=["a", "b"], primary_proba=P)
    noted = decide(
        CascadePolicy(0.9),
        classes=["a", "b"],
        primary_proba=P,
        unknown_values=[("age", "fare"), ()],
    )
    assert (
        noted.kind.tolist() == plain.kind.tolist() and noted.label.tolist() == plain.label.tolist()
    )
    assert (
        noted.reason[0] == f"{plain.reason[0]}; unknown values (never seen in training): age, fare"
    )
    assert noted.reason[1] == plain.reason[1]
    with pytest.raises(ValueError, match="unknown_values has 1 rows, but the decisions 2"):
        decide(CascadePolicy(0.9), classes=["a", "b"], primary_proba=P, unknown_values=[()])


def test_short_batches_checked_value_by_value_as_long_ones_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A served request's few rows are checked value by value: the same columns flagged as
    when each column is checked once per distinct value."""
    frame = mixed_frame(300)
    seen, _, test = _split(frame, "target", categorical=["city"])
    rows = test.iloc[:12].copy()
    rows.loc[0, "city"], rows.loc[1, "member"], rows.loc[2, "mean_radius"] = "berlin", 2.0, -5.0
    rows.loc[3, "city"] = rows.loc[4, "member"] = None
    mixed_types = rows.astype({"city": object}).assign(city=["lyon", 3, True, *rows["city"][3:]])
    batches = [rows, rows.iloc[[0]], mixed_types]
    few = [seen.columns(b).tolist() for b in batches]
    monkeypatch.setattr(training_values, "_FEW_ROWS", -1)  # every column by distinct values
    assert few == [seen.columns(b).tolist() for b in batches]
    assert few[0][:3] == [("city",), (), ("mean_radius",)]  # 2.0 reads as true, a seen value
