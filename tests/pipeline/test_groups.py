"""``--group``: a panel whose only signal is who a row belongs to, fitted with and without it.

Each person's label is their own coin flip, seen at every visit; nothing else carries it. Split
row by row, a person's other visits give the label away (a model learns it from the id), and
the locked test promises what new people will never see. Split by person, every held-out
figure is measured on people new to the model: chance, as new people will get.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import prudent
from prudent.errors import ConfigError, SchemaError
from prudent.retrain._retrain import spec_of


def _panel(people: int = 150, visits: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    person = np.repeat(np.arange(people), visits)
    return pd.DataFrame(
        {
            "person_id": person,
            "weight": rng.normal(70, 10, person.size),  # noise
            "y": np.where(rng.integers(0, 2, people)[person] == 1, "yes", "no"),
        }
    )


def _fit(**options: object) -> prudent.Bundle:
    return prudent.fit(_panel(), target="y", time_limit=20, progress=False, **options)


def _clustered(people: int, seed: int) -> pd.DataFrame:
    """People whose visits lie close together and far from other people's: each person is
    a small cluster of rows in the inputs (where they live, what they earn)."""
    rng = np.random.default_rng(seed)
    centre = rng.normal(0, 1, (people, 4))
    person = np.repeat(np.arange(people), 6)
    X = centre[person] + rng.normal(0, 0.05, (person.size, 4))
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(4)])
    frame["person_id"] = person + seed * 10_000
    frame["y"] = np.where(centre[person, 0] + rng.normal(0, 0.5, person.size) > 0, "yes", "no")
    return frame


def _balanced_accuracy(bundle: prudent.Bundle) -> float:
    return float(bundle.manifest["test_metrics"]["final"]["balanced_accuracy"]["point"])


@pytest.fixture(scope="module")
def grouped() -> prudent.Bundle:
    return _fit(group="person_id", candidates=("lightgbm",))


def test_split_by_person_the_locked_test_sees_new_people_at_chance(grouped) -> None:
    assert "person_id" not in grouped.schema.feature_names
    said = [n for n in grouped.manifest["notices"] if n.startswith("Split by the groups of")]
    assert said and "'person_id' (--group): 150 groups" in said[0]
    assert _balanced_accuracy(grouped) < 0.7  # chance is 0.5: nothing tells new people apart
    assert spec_of(grouped).group == "person_id"  # a retrain splits by person too


def test_split_by_row_the_locked_test_is_fooled_by_the_id() -> None:
    """What --group prevents: the same panel split row by row promises what it cannot keep."""
    plain = _fit(candidates=("lightgbm",))
    assert "person_id" in plain.schema.feature_names
    assert any(
        "identifier of groups" in n and "--group person_id" in n for n in plain.manifest["notices"]
    )
    assert _balanced_accuracy(plain) > 0.85


def test_a_group_option_that_names_no_column_or_an_input_is_refused() -> None:
    with pytest.raises(SchemaError, match=r"Column \['person'\] given as an option \(--group\)"):
        _fit(group="person")
    with pytest.raises(
        ConfigError,
        match=r"group \(--group\) names column 'person_id', which is the target or an input",
    ):
        _fit(group="person_id", numeric=("person_id",))


def test_new_people_are_not_flagged_out_of_distribution_more_than_promised() -> None:
    """A threshold set on rows whose own person's other visits sat in the detector's
    reference took new people, farther from every training row, for strangers."""
    bundle = prudent.fit(
        _clustered(300, 0), target="y", group="person_id", time_limit=20, progress=False
    )
    new = _clustered(300, 1).drop(columns=["y", "person_id"])
    flagged = float(bundle.predict(new)["is_ood"].mean())
    assert flagged <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 300)  # 300 people: rows are not free
    ood = next(p for p in bundle.manifest["trust"]["promises"] if p["name"].startswith("OOD"))
    assert ood["kept"] is True
