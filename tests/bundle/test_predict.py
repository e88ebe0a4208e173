"""Fit → bundle → load → predict gives what the fitted model gave, for tables and files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prudent.bundle import Bundle, load
from prudent.data import read_table, write_table
from prudent.errors import ConfigError, DataError, SchemaError
from prudent.models import RuleSet, output_columns
from tests.fixtures import example, fit_bundle, mixed_frame, reviews, run_main
from tests.serve._bundles import input_rows

FORMATS = ["csv", "parquet", "jsonl"]


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> tuple[Bundle, Bundle, pd.DataFrame]:
    """Breast-cancer rows with every column role and gaps everywhere: in memory, then loaded."""
    fitted = fit_bundle(mixed_frame(n=300, seed=0), "target")
    loaded = load(fitted.save(tmp_path_factory.mktemp("binary") / "model"))
    new = mixed_frame(n=120, seed=7, missing=0.25).drop(columns="target")
    return fitted, loaded, new


@pytest.fixture(scope="module")
def multiclass(tmp_path_factory: pytest.TempPathFactory) -> tuple[Bundle, Bundle, pd.DataFrame]:
    wine = example("wine")
    fitted = fit_bundle(wine, "target")
    loaded = load(fitted.save(tmp_path_factory.mktemp("wine") / "model"))
    return fitted, loaded, wine.drop(columns="target").sample(60, random_state=1)


@pytest.fixture(scope="module")
def text(tmp_path_factory: pytest.TempPathFactory) -> tuple[Bundle, Bundle, pd.DataFrame]:
    """Rotten Tomatoes snippets: free text with commas, quotes and accents, fresh or rotten."""
    frame = reviews(360, seed=0)
    fitted = fit_bundle(frame.iloc[:300], "label")
    loaded = load(fitted.save(tmp_path_factory.mktemp("text") / "model"))
    return fitted, loaded, frame.iloc[300:].drop(columns="label")


@pytest.fixture(params=["binary", "multiclass", "text"])
def case(request: pytest.FixtureRequest) -> tuple[Bundle, Bundle, pd.DataFrame]:
    return request.getfixturevalue(request.param)


def test_loaded_bundle_predicts_like_the_fitted_one(case) -> None:
    fitted, loaded, new = case
    expected = fitted.predict(new)
    pd.testing.assert_frame_equal(loaded.predict(new), expected)
    assert list(expected.columns) == output_columns(fitted.classes)
    assert len(expected) == len(new)
    probas = expected[[f"proba_{c}" for c in fitted.classes]].to_numpy()
    np.testing.assert_allclose(probas.sum(axis=1), 1.0, rtol=1e-9)
    assert set(expected["prediction"]) <= set(fitted.classes)


def test_predict_keeps_the_input_index(case) -> None:
    fitted, _, new = case
    rows = new.iloc[::3]
    out = fitted.predict(rows)
    assert out.index.equals(rows.index)
    aligned = rows.assign(prediction=out["prediction"])
    assert aligned["prediction"].tolist() == out["prediction"].tolist()


def test_text_model_reads_the_words(text) -> None:
    fitted, loaded, _ = text
    assert fitted.schema.has_text
    probe = pd.DataFrame(
        {
            "text": [
                "A masterpiece, moving and beautifully acted.",
                "Dull, tedious and a waste of time.",
            ],
            "movie_name": ["unseen_movie", "unseen_movie"],
        }
    )
    out = loaded.predict(probe)
    assert out["proba_fresh"].iloc[0] > out["proba_fresh"].iloc[1]


def test_predict_handles_missing_values_in_every_column(binary) -> None:
    _, loaded, new = binary
    assert new.isna().any().all()
    holes = new.copy()
    for i, name in enumerate(holes.columns):
        holes.iloc[i, holes.columns.get_loc(name)] = None
    out = loaded.predict(holes)
    assert out["prediction"].notna().all()
    assert np.isfinite(out["confidence"]).all()


def test_predict_handles_unseen_categories(binary) -> None:
    _, loaded, new = binary
    strange = new.head(10).assign(city="tokyo", note="never seen these words at all")
    out = loaded.predict(strange)
    assert out["prediction"].notna().all() and np.isfinite(out["confidence"]).all()


def test_predict_reports_extra_columns_and_ignores_them(multiclass) -> None:
    fitted, loaded, new = multiclass
    notices: list[str] = []
    out = loaded.predict(new.assign(colour="red"), on_notice=notices.append)
    assert notices == ["Column 'colour' is not in the model's schema: ignored."]
    pd.testing.assert_frame_equal(out, fitted.predict(new))


def test_predict_absent_column_is_missing_in_every_row(multiclass) -> None:
    _, loaded, new = multiclass
    notices: list[str] = []
    out = loaded.predict(new.drop(columns="alcohol"), on_notice=notices.append)
    assert notices == ["Column(s) ['alcohol'] are absent: treated as missing in every row."]
    pd.testing.assert_frame_equal(out, loaded.predict(new.assign(alcohol=None)))


def test_predict_without_on_notice_logs_the_notices(multiclass, caplog, tmp_path) -> None:
    """With no ``on_notice``, an absent input said nothing in Python (the CLI prints it);
    it goes to the ``prudent`` logger, as the fit's notices do."""
    import logging

    _, loaded, new = multiclass
    with caplog.at_level(logging.INFO, logger="prudent"):
        loaded.predict(new.drop(columns="alcohol"))
        source = tmp_path / "in.csv"
        new.drop(columns="alcohol").to_csv(source, index=False)
        loaded.predict_file(source, tmp_path / "out.csv")
    said = [r.getMessage() for r in caplog.records if r.name == "prudent"]
    assert said.count("Column(s) ['alcohol'] are absent: treated as missing in every row.") == 2


def test_predict_strict_refuses_extra_columns(multiclass) -> None:
    _, loaded, new = multiclass
    with pytest.raises(SchemaError, match=r"Column\(s\) \['colour'\] are not inputs") as e:
        loaded.predict(new.assign(colour="red"), strict=True)
    assert e.value.field == "colour"
    assert len(loaded.predict(new, strict=True)) == len(new)


def test_predict_values_as_strings_and_missing_words_equal_typed_values(binary) -> None:
    """The same rows written as a CSV writes them (every value a string) predict the same."""
    _, loaded, new = binary
    as_text = new.astype(object).map(lambda v: "NA" if pd.isna(v) else str(v))
    pd.testing.assert_frame_equal(loaded.predict(as_text), loaded.predict(new))


@pytest.mark.parametrize("fmt", FORMATS)
def test_predict_file_equals_in_memory_predictions(case, tmp_path: Path, fmt: str) -> None:
    fitted, loaded, new = case
    write_table(new, tmp_path / f"new.{fmt}")
    n = loaded.predict_file(tmp_path / f"new.{fmt}", tmp_path / f"out.{fmt}")
    assert n == len(new)
    back = read_table(tmp_path / f"out.{fmt}")
    expected = fitted.predict(read_table(tmp_path / f"new.{fmt}"))
    assert isinstance(expected["prediction_set"].iloc[0], list)  # lists in Python, JSON in files
    assert [json.loads(s) for s in back["prediction_set"]] == list(expected["prediction_set"])
    back["prediction_set"] = expected["prediction_set"]
    pd.testing.assert_frame_equal(back, expected, check_dtype=False, rtol=1e-12)


@pytest.mark.parametrize("fmt", FORMATS)
def test_predict_file_streaming_gives_the_same_rows_in_order(
    binary, tmp_path: Path, fmt: str
) -> None:
    _, loaded, new = binary
    write_table(new, tmp_path / f"new.{fmt}")
    notices: list[str] = []
    loaded.predict_file(
        tmp_path / f"new.{fmt}", tmp_path / f"small.{fmt}", chunk_rows=7, on_notice=notices.append
    )
    loaded.predict_file(tmp_path / f"new.{fmt}", tmp_path / f"big.{fmt}", chunk_rows=10_000)
    small, big = read_table(tmp_path / f"small.{fmt}"), read_table(tmp_path / f"big.{fmt}")
    # Floats may differ in the last bit (BLAS blocks by batch size); the rest is identical.
    pd.testing.assert_frame_equal(small, big, check_exact=False, rtol=1e-9)
    exact = small.select_dtypes(exclude="float").columns
    assert len(exact) >= 5
    pd.testing.assert_frame_equal(small[exact], big[exact])
    assert len(small) == len(new)


def test_predict_file_scores_a_chunk_in_pieces_on_threads_with_the_same_rows(
    binary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a large chunk is validated once and scored in pieces on several threads; here the
    # pieces are made small so that 120 rows split in 3 on any machine
    from prudent.bundle import _predicting

    _, loaded, new = binary
    write_table(new, tmp_path / "new.csv")
    loaded.predict_file(tmp_path / "new.csv", tmp_path / "whole.csv")
    monkeypatch.setattr(_predicting, "PIECE_ROWS", 40)
    monkeypatch.setattr(_predicting, "_threads", lambda: 3)
    calls: list[int] = []
    predictions = loaded.model.predictions

    def counted(X: pd.DataFrame, **kwargs: object) -> object:
        calls.append(len(X))
        return predictions(X, **kwargs)

    monkeypatch.setattr(loaded.model, "predictions", counted)
    loaded.predict_file(tmp_path / "new.csv", tmp_path / "pieces.csv")
    assert sorted(calls) == [40, 40, 40]
    whole, pieces = read_table(tmp_path / "whole.csv"), read_table(tmp_path / "pieces.csv")
    pd.testing.assert_frame_equal(pieces, whole, check_exact=False, rtol=1e-9)
    exact = whole.select_dtypes(exclude="float").columns
    pd.testing.assert_frame_equal(pieces[exact], whole[exact])


def test_predict_file_reports_a_notice_once_across_chunks(multiclass, tmp_path: Path) -> None:
    _, loaded, new = multiclass
    write_table(new.assign(colour="red"), tmp_path / "new.csv")
    notices: list[str] = []
    loaded.predict_file(
        tmp_path / "new.csv", tmp_path / "out.csv", chunk_rows=5, on_notice=notices.append
    )
    assert notices == ["Column 'colour' is not in the model's schema: ignored."]


def test_predict_file_names_the_file_row_of_a_bad_value(multiclass, tmp_path: Path) -> None:
    _, loaded, new = multiclass
    bad = new.reset_index(drop=True).astype({"proline": object})
    bad.loc[37, "proline"] = "lots"
    write_table(bad, tmp_path / "bad.csv")
    with pytest.raises(
        SchemaError,
        match=r"Column 'proline' should be numeric, but holds 'lots' "
        r"\(data row 38\)",  # the 38th row after the header
    ):
        loaded.predict_file(tmp_path / "bad.csv", tmp_path / "out.csv", chunk_rows=10)


@pytest.mark.parametrize("fmt", FORMATS)
def test_predict_file_empty_input_gives_empty_output_with_header(
    multiclass, tmp_path: Path, fmt: str
) -> None:
    _, loaded, new = multiclass
    if fmt == "jsonl":
        (tmp_path / "empty.jsonl").write_bytes(b"")
    else:
        write_table(new.head(0), tmp_path / f"empty.{fmt}")
    assert loaded.predict_file(tmp_path / f"empty.{fmt}", tmp_path / f"out.{fmt}") == 0
    out = tmp_path / f"out.{fmt}"
    if fmt == "csv":
        assert out.read_text().splitlines() == [",".join(output_columns(loaded.classes))]
    elif fmt == "parquet":
        frame = pd.read_parquet(out)
        assert frame.empty and list(frame.columns) == output_columns(loaded.classes)
    else:
        assert out.read_bytes() == b""


def test_predict_file_zero_byte_csv_gives_a_header(multiclass, tmp_path: Path) -> None:
    _, loaded, _ = multiclass
    (tmp_path / "empty.csv").write_bytes(b"")
    assert loaded.predict_file(tmp_path / "empty.csv", tmp_path / "out.csv") == 0
    assert (tmp_path / "out.csv").read_text().strip() == ",".join(output_columns(loaded.classes))


@pytest.mark.parametrize(
    ("labels", "classes"),
    [
        ({"setosa": 0, "versicolor": 1, "virginica": 2}, [0, 1, 2]),
        ({"setosa": True, "versicolor": False, "virginica": False}, [False, True]),
    ],
)
def test_round_trip_with_int_and_bool_targets(tmp_path: Path, labels, classes) -> None:
    iris = example("iris")
    frame = iris.assign(target=iris["target"].map(labels))
    fitted = fit_bundle(frame, "target")
    loaded = load(fitted.save(tmp_path / "model"))
    assert loaded.classes == classes
    rows = frame.drop(columns="target")
    pd.testing.assert_frame_equal(loaded.predict(rows), fitted.predict(rows))
    write_table(rows, tmp_path / "rows.csv")
    loaded.predict_file(tmp_path / "rows.csv", tmp_path / "out.csv")
    back = read_table(tmp_path / "out.csv")
    assert back["prediction"].tolist() == fitted.predict(rows)["prediction"].tolist()
    agreement = (back["prediction"].to_numpy() == frame["target"].to_numpy()).mean()
    assert agreement > 0.9


def test_predict_file_leaves_no_partial_output_after_an_error(multiclass, tmp_path: Path) -> None:
    _, loaded, new = multiclass
    bad = new.reset_index(drop=True).astype({"hue": object})
    bad.loc[len(bad) - 1, "hue"] = "pale"
    write_table(bad, tmp_path / "bad.csv")
    (tmp_path / "out.csv").write_text("previous,run\n1,2\n")
    with pytest.raises(SchemaError, match=r"Column 'hue' should be numeric"):
        loaded.predict_file(tmp_path / "bad.csv", tmp_path / "out.csv", chunk_rows=10)
    assert (tmp_path / "out.csv").read_text() == "previous,run\n1,2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "out.csv"]


def test_predict_file_refuses_to_overwrite_its_input(multiclass, tmp_path: Path) -> None:
    _, loaded, new = multiclass
    write_table(new, tmp_path / "rows.csv")
    before = (tmp_path / "rows.csv").read_bytes()
    with pytest.raises(ConfigError, match=r"Output '.*rows.csv' is the input file"):
        loaded.predict_file(tmp_path / "rows.csv", tmp_path / "rows.csv")
    assert (tmp_path / "rows.csv").read_bytes() == before


def test_a_rule_answer_shows_its_label_and_its_probability(multiclass) -> None:
    """A rule's row shows the rule's label with the model's probability of that label, and
    says when the row is also out of distribution (alcohol far beyond the training range)."""
    fitted, _, new = multiclass
    rules = RuleSet.from_yaml(
        "rules: [{name: strong, when: 'alcohol > 14.5', then: class_2}]",
        columns=fitted.schema.feature_names,
        classes=[str(c) for c in fitted.classes],
    )
    rows = new.iloc[:2].copy()
    rows["alcohol"] = [14.6, 1e6]
    out = fitted.predict(rows, rules=rules)
    assert out["decision"].tolist() == ["rule", "rule"]
    assert out["prediction"].tolist() == ["class_2", "class_2"]
    assert np.allclose(out["confidence"], out["proba_class_2"])
    assert bool(out["is_ood"].iloc[1])
    assert "also out of distribution" in out["reason"].iloc[1]


@pytest.fixture(scope="module")
def iris(mixed_dir: Path) -> tuple[Bundle, pd.DataFrame]:
    """The cached mixed bundle (iris, a category and a boolean) and six new rows."""
    return load(mixed_dir), input_rows("mixed", 6, seed=2)


def test_predict_takes_rows_as_dicts_or_a_dict_of_columns(iris) -> None:
    """A list of dicts (the JSON API's records) or a dict of columns is a table; a dict of
    single values is one row (each raised "'list' object has no attribute 'columns'")."""
    bundle, rows = iris
    expected = bundle.predict(rows)
    records = rows.to_dict(orient="records")
    pd.testing.assert_frame_equal(bundle.predict(records), expected)
    pd.testing.assert_frame_equal(bundle.predict(rows.to_dict(orient="list")), expected)
    pd.testing.assert_frame_equal(bundle.predict(records[0]), expected.iloc[:1])
    got, want = bundle.predictions(records), bundle.predictions(rows)
    np.testing.assert_array_equal(got.probabilities, want.probabilities)
    partial = [{k: v for k, v in r.items() if k != "petal_size"} for r in records]
    assert bundle.predict(partial).shape == expected.shape  # a key left out is missing
    assert bundle.predict([]).columns.tolist() == expected.columns.tolist()


_TAKES = r"^Rows to predict are a pandas DataFrame, a list of dicts \(one per row\) or a dict of "
_TAKES += "columns, not "


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        (None, "None"),
        ("rows.csv", r"a path \('rows.csv'\): predict a file with bundle.predict_file"),
        (Path("rows.csv"), r"a path \('rows.csv'\): predict a file with bundle.predict_file"),
        (pd.Series({"petal_size": "large"}), r"a Series: pass one row as series.to_frame\(\).T"),
        (np.zeros((2, 6)), r"a numpy array, which has no column names: name its 6 columns"),
        ([{"petal_size": "large"}, [1, 2]], "a list whose item 1 is a list"),
        (42, "a builtins.int"),
    ],
    ids=["None", "str", "Path", "Series", "ndarray", "list", "int"],
)
def test_predict_refuses_what_is_not_rows_naming_what_it_takes(iris, given, hint) -> None:
    """Each raised AttributeError: '...' object has no attribute 'columns'."""
    bundle, _ = iris
    with pytest.raises(TypeError, match=_TAKES + hint):
        bundle.predict(given)
    with pytest.raises(TypeError, match=_TAKES + hint):
        bundle.predictions(given)


def test_predict_a_dict_of_columns_of_unequal_lengths_is_a_data_error(iris) -> None:
    bundle, _ = iris
    with pytest.raises(DataError, match=r"columns have different lengths \{'petal_size': 2, "):
        bundle.predict({"petal_size": ["large", "small"], "wide_sepal": [True]})


def test_predict_keep_a_string_is_one_column(iris, tmp_path: Path) -> None:
    """keep="petal_size" was read letter by letter: "Column(s) ['p', 'e', ...] to keep"."""
    bundle, rows = iris
    out = bundle.predict(rows, keep="petal_size")
    assert out.columns[0] == "petal_size" and out.columns[1] == "prediction"
    assert out["petal_size"].tolist() == rows["petal_size"].tolist()
    write_table(rows, tmp_path / "rows.csv")
    bundle.predict_file(tmp_path / "rows.csv", tmp_path / "out.csv", keep="petal_size")
    assert read_table(tmp_path / "out.csv").columns[0] == "petal_size"


def test_predict_file_names_the_output_it_cannot_write(
    iris, mixed_dir: Path, tmp_path: Path
) -> None:
    """The error named the hidden file the rows go to first ('/proc/.nope.partial.csv'), a path
    the user never gave; and an output that is a folder left that hidden file behind."""
    bundle, rows = iris
    write_table(rows, tmp_path / "rows.csv")
    with pytest.raises(FileNotFoundError, match=r"Cannot write the output .*: '/proc/nope.csv'$"):
        bundle.predict_file(tmp_path / "rows.csv", "/proc/nope.csv")
    deeper = "/proc/x/nope.csv"  # a folder that cannot be made: named by the output given
    with pytest.raises(FileNotFoundError, match=rf"Cannot write the output .*: '{deeper}'$"):
        bundle.predict_file(tmp_path / "rows.csv", deeper)
    done = run_main("predict", mixed_dir, tmp_path / "rows.csv", "--out", "/proc/nope.csv")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "prudent: error: [Errno 2] Cannot write the output (No such file or directory): "
        "'/proc/nope.csv'"
    )
    (tmp_path / "out.csv").mkdir()
    with pytest.raises(IsADirectoryError, match=rf"'{tmp_path / 'out.csv'}'$"):
        bundle.predict_file(tmp_path / "rows.csv", tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "rows.csv"]
