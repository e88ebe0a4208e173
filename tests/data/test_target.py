"""The target column: labelled rows, encoded classes, and named errors when it cannot be used."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes

from prudent.data import look_alike_classes, prepare_target, rare_classes_notice
from prudent.errors import TargetError
from tests.fixtures import example


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    return example("iris")


@pytest.mark.parametrize(
    ("labels", "classes"),
    [
        (lambda s: s, ["setosa", "versicolor", "virginica"]),
        (lambda s: s.map({"setosa": 0, "versicolor": 1, "virginica": 2}), [0, 1, 2]),
        (lambda s: s.map({"setosa": 0.0, "versicolor": 1.0, "virginica": 2.0}), [0, 1, 2]),
        (lambda s: s == "setosa", [False, True]),
        (
            lambda s: s.map({"setosa": " yes ", "versicolor": "no", "virginica": "no"}),
            ["no", "yes"],
        ),
    ],
)
def test_prepare_target_encodes_strings_ints_floats_and_bools(
    iris: pd.DataFrame, labels, classes
) -> None:
    frame = iris.assign(target=labels(iris["target"]))
    target = prepare_target(frame, "target")
    assert target.classes.tolist() == classes
    assert target.n_dropped == 0 and len(target.y) == len(iris)
    decoded = target.classes[target.y]
    assert decoded.tolist() == target.frame["target"].tolist()
    np.testing.assert_array_equal(target.original_rows, np.arange(len(iris)))


def test_prepare_target_integer_classes_stay_integers(iris: pd.DataFrame) -> None:
    digits = example("digits")
    target = prepare_target(digits, "target")
    assert target.classes.tolist() == list(range(10))
    assert np.issubdtype(target.classes.dtype, np.integer)


def test_prepare_target_drops_and_counts_missing_labels(iris: pd.DataFrame) -> None:
    frame = iris.astype({"target": object})
    missing = [3, 50, 51, 149]
    frame.loc[missing, "target"] = None
    target = prepare_target(frame, "target")
    assert target.n_dropped == 4
    assert len(target.frame) == len(iris) - 4
    assert not set(missing) & set(target.original_rows.tolist())
    np.testing.assert_array_equal(
        target.frame["sepal_length_(cm)"].to_numpy(),
        iris["sepal_length_(cm)"].to_numpy()[target.original_rows],
    )


def test_prepare_target_int_labels_with_gaps_stay_integers(iris: pd.DataFrame) -> None:
    codes = iris["target"].map({"setosa": 0, "versicolor": 1, "virginica": 2}).astype(float)
    target = prepare_target(iris.assign(target=codes.where(codes.index % 10 != 0)), "target")
    assert target.classes.tolist() == [0, 1, 2] and target.n_dropped == 15


def test_prepare_target_absent_column_lists_the_columns(iris: pd.DataFrame) -> None:
    with pytest.raises(
        TargetError,
        match=r"Target column 'species' is not in the table; the "
        r"columns are \['sepal_length_\(cm\)'.*'target'\]",
    ):
        prepare_target(iris, "species")
    with pytest.raises(TargetError, match=r"not in the table \(did you mean 'target'\?\)"):
        prepare_target(iris, "Taget")
    # a header written "x, y ": the name the user typed, with spaces around it in the file
    spaced = iris.rename(columns={"target": " target "})
    with pytest.raises(
        TargetError, match=r"\(did you mean ' target '\? the file's header has spaces around"
    ):
        prepare_target(spaced, "target")


def test_prepare_target_single_class(iris: pd.DataFrame) -> None:
    with pytest.raises(
        TargetError,
        match=r"Target 'target' has a single class \('setosa'\); a "
        "classifier needs at least two",
    ):
        prepare_target(iris.assign(target="setosa"), "target")


def test_prepare_target_no_labelled_rows(iris: pd.DataFrame) -> None:
    # it said "has a single class ('(no labelled rows)')", a class that is not one
    said = r"Target 'target' has no labelled row: every one of its 150 value\(s\) is missing"
    with pytest.raises(TargetError, match=said):
        prepare_target(iris.assign(target=None), "target")
    with pytest.raises(TargetError, match=said):
        prepare_target(iris.assign(target=["NA", "", "null"] * 50), "target")


def test_prepare_target_names_the_classes_with_too_few_rows(iris: pd.DataFrame) -> None:
    frame = iris.astype({"target": object})
    frame.loc[[0, 1], "target"] = "rare"
    frame.loc[[60], "target"] = "rarer"
    with pytest.raises(
        TargetError,
        match=r"Class\(es\) 'rare' \(2 rows\), 'rarer' \(1 row\) of "
        "target 'target' have fewer than 3 rows",
    ):
        prepare_target(frame, "target", min_per_class=3)
    assert prepare_target(frame, "target", min_per_class=1).classes.size == 5


def test_prepare_target_many_tiny_classes_says_what_is_needed() -> None:
    frame = pd.DataFrame({"x": range(900), "target": [f"c{i // 3}" for i in range(900)]})
    with pytest.raises(
        TargetError,
        match=r"Target 'target' has 300 classes and 300 of them have fewer than 10 rows "
        r"\(the median class has 3\); prudent needs at least 10 rows in most classes .* merge "
        r"rare classes",
    ):
        prepare_target(frame, "target", min_per_class=3, min_median=10)
    assert prepare_target(frame, "target", min_per_class=3).classes.size == 300


def test_prepare_target_names_five_small_classes_and_counts_the_rest() -> None:
    frame = pd.DataFrame({"x": range(40), "target": [f"c{i // 2:02d}" for i in range(40)]})
    with pytest.raises(TargetError, match=r"'c04' \(2 rows\) and 15 more of target 'target'"):
        prepare_target(frame, "target", min_per_class=3)


def test_prepare_target_a_continuous_target_is_named_as_such(iris: pd.DataFrame) -> None:
    """A regression target (a measurement) read as classes: each value its own tiny class.
    The refusal says what the column looks like and what to do, not only "too few rows"."""
    frame = iris.assign(target=iris["petal_width_(cm)"] * 1.37 + 0.011)
    with pytest.raises(TargetError, match=r"looks continuous: \d+ distinct numbers") as err:
        prepare_target(frame, "target", min_per_class=3)
    assert "bin it into classes" in str(err.value)
    whole = iris.assign(target=(iris["petal_width_(cm)"] * 10).round())  # counts: classes
    with pytest.raises(TargetError, match="too few to validate"):  # 3 of 22 classes small
        prepare_target(whole.assign(target=whole["target"] * 7), "target", min_per_class=3)
    # whole numbers, most of them in fewer rows than a class needs: a quantity (a disease
    # progression score, 214 distinct values in 442 rows)
    scores = load_diabetes(as_frame=True).frame
    with pytest.raises(TargetError, match=r"looks continuous: 214 distinct numbers") as err:
        prepare_target(scores, "target", min_per_class=3)
    assert "such as 151, 75, 141" in str(err.value)


def test_look_alike_classes_group_labels_that_differ_in_case_or_spaces() -> None:
    labels = pd.Series(["yes", "Yes ", "no", "NO", "no", "may be", "may  be"])
    classes = prepare_target(pd.DataFrame({"x": range(7), "y": labels}), "y", min_per_class=1)
    alike = look_alike_classes(classes.classes)
    assert alike == [["NO", "no"], ["Yes", "yes"], ["may  be", "may be"]]
    assert look_alike_classes(np.array(["a", "b"])) == []


def _written(tmp_path, labels: list[str], name: str = "y") -> pd.DataFrame:
    """A CSV whose target column holds ``labels`` as written, read as ``prudent fit`` reads it."""
    from prudent.data import read_table

    path = tmp_path / "t.csv"
    rows = "".join(f"{i},{label}\n" for i, label in enumerate(labels))
    path.write_text(f"x,{name}\n{rows}", encoding="utf-8")
    return read_table(path, text=(name,))


@pytest.mark.parametrize(
    ("labels", "classes"),
    [
        (["01", "02", "10"] * 4, ["01", "02", "10"]),  # codes keep their leading zeros
        (["1", "01"] * 4, ["01", "1"]),  # two spellings that mean two classes
        (["+1", "-1"] * 4, ["+1", "-1"]),
        (["1", "1.0", "2", "2.0"] * 3, [1, 2]),  # one number, one class
        (["0", "1", "2"] * 4, [0, 1, 2]),
        (["true", "False", "TRUE", "false"] * 3, [False, True]),
        ([" yes", "no ", "yes"] * 4, ["no", "yes"]),
    ],
)
def test_a_csv_target_keeps_the_classes_its_labels_spell(tmp_path, labels, classes) -> None:
    target = prepare_target(_written(tmp_path, labels), "y")
    assert target.classes.tolist() == classes
    assert [type(c) for c in target.classes.tolist()] == [type(c) for c in classes]
    assert target.n_dropped == 0


def test_words_read_as_missing_in_a_target_are_named_with_their_count(tmp_path) -> None:
    from prudent.data import dropped_notice

    labels = ["EU", "NA", "APAC", "null", "", "NA"] * 5
    target = prepare_target(_written(tmp_path, labels), "y")
    assert target.classes.tolist() == ["APAC", "EU"]
    assert target.n_dropped == 20 and target.missing_spellings == {"NA": 10, "null": 5}
    notice = dropped_notice(target, "y")
    assert notice.startswith("Dropped 20 row(s) whose target 'y' is missing (10 written 'NA'")
    assert "if 'NA' or 'null' is a class" in notice
    empty_only = prepare_target(_written(tmp_path, ["a", "b", ""] * 3), "y")
    assert dropped_notice(empty_only, "y") == "Dropped 3 row(s) whose target 'y' is missing."
    # blank cells were counted as "written ''" and offered as a class to write otherwise
    blank = prepare_target(_written(tmp_path, ["a", "b", "   ", "NA"] * 3), "y")
    assert dropped_notice(blank, "y") == (
        "Dropped 6 row(s) whose target 'y' is missing (3 blank, 3 written 'NA'); if "
        "'NA' is a class, write it otherwise in the file: such words are read as missing in "
        "every column."
    )


def test_reading_a_target_as_written_leaves_the_other_columns_as_pandas_reads_them(
    tmp_path,
) -> None:
    from prudent.data import read_table

    path = tmp_path / "t.csv"
    path.write_text("a,b,y,c\n1,NA,01,x\n,2.5,NA,None\n3,n/a,,null\n", encoding="utf-8")
    plain, written = read_table(path), read_table(path, text=("y",))
    pd.testing.assert_frame_equal(plain.drop(columns="y"), written.drop(columns="y"))
    assert plain["y"].tolist()[:1] == ["01"] and pd.isna(plain["y"][1])  # a code; NA missing
    assert written["y"].tolist()[:2] == ["01", "NA"] and pd.isna(written["y"][2])


def test_none_in_a_target_is_a_class_with_a_notice(tmp_path) -> None:
    """``none`` (any case) labels a class of its own in a target (no damage, no finding), where
    other columns read it as missing; empty cells and ``NA`` still mark unlabelled rows."""
    from prudent.data import label_words_notice

    labels = ["mild", "none", "severe", "NONE ", "", "NA", "none"] * 4
    target = prepare_target(_written(tmp_path, labels), "y")
    assert target.classes.tolist() == ["NONE", "mild", "none", "severe"]
    assert target.n_dropped == 8 and target.missing_spellings == {"NA": 4}
    assert target.label_words == {"none": 8, "NONE": 4}
    assert np.bincount(target.y).tolist() == [4, 4, 8, 4]
    notice = label_words_notice(target, "y")
    assert notice is not None and notice.startswith(
        "Kept 12 row(s) whose target 'y' is 'none' (8) or 'NONE' (4) as labelled"
    )
    plain = prepare_target(_written(tmp_path, ["a", "b", ""] * 3), "y")
    assert plain.label_words == {} and label_words_notice(plain, "y") is None


def test_drop_rare_drops_the_classes_too_small_to_validate_and_counts_them() -> None:
    """Asked to, the target drops the rows of classes under ``min_per_class`` (their file rows
    with them) instead of refusing; the refusal names the way to ask."""
    frame = pd.DataFrame(
        {"x": range(14), "target": ["a"] * 5 + ["rare"] * 2 + ["b"] * 6 + ["rarer"]}
    )
    with pytest.raises(TargetError, match=r"--drop-rare-classes \(drop_rare_classes=True"):
        prepare_target(frame, "target", min_per_class=3)
    t = prepare_target(frame, "target", min_per_class=3, drop_rare=True)
    assert t.classes.tolist() == ["a", "b"] and t.rare_dropped == {"rare": 2, "rarer": 1}
    assert t.y.tolist() == [0] * 5 + [1] * 6 and t.frame["x"].tolist() == [*range(5), *range(7, 13)]
    assert t.original_rows.tolist() == [*range(5), *range(7, 13)]
    notice = rare_classes_notice(t, "target", 3)
    assert notice is not None and notice.startswith(
        "Dropped 3 row(s) of target 'target' whose class has fewer than 3 rows: 'rare' (2 rows), "
        "'rarer' (1 row). The model never predicts those classes"
    )
    kept_all = prepare_target(frame, "target", min_per_class=1)
    assert rare_classes_notice(kept_all, "target", 3) is None


def test_drop_rare_keeps_refusing_what_dropping_cannot_fix() -> None:
    """Dropping the small classes must leave two to tell apart; and a continuous target is
    named as such, not thinned to the values that repeat."""
    one_left = pd.DataFrame({"target": ["a"] * 5 + ["b", "b", "c"]})
    with pytest.raises(TargetError, match=r"fewer than two classes of at least 3 rows .* 'a' \(5"):
        prepare_target(one_left, "target", min_per_class=3, drop_rare=True)
    amounts = pd.DataFrame({"target": [float(v) + 0.5 for v in range(40)] + [1.5] * 3})
    with pytest.raises(TargetError, match="looks continuous"):
        prepare_target(amounts, "target", min_per_class=3, drop_rare=True)
