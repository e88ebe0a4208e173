"""Inputs named like the prediction log's own fields (``created_at``, ``prediction``,
``decision``, ``label``, ``prediction_id``): every step that reads labelled feedback back
from the log reads them as the inputs they are. Retrain, recalibrate and the gated promote
stopped on a real tweet table whose ``created_at`` column is an input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import prudent
from prudent.retrain import Registry, recalibrate, retrain
from prudent.retrain._feedback import labelled_feedback
from tests.retrain._labelled_log import log_with_labels

NAMES = ["created_at", "prediction", "decision", "label", "prediction_id"]


def _table(n: int, seed: int) -> pd.DataFrame:
    """Five numeric inputs with the log's names; the class is the sign of their sum."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, len(NAMES))), columns=NAMES)
    return X.assign(target=np.where(X.sum(axis=1) > 0, "up", "down"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("names")
    train = _table(600, seed=0)
    train.to_csv(root / "train.csv", index=False)
    prudent.fit(train, target="target", time_limit=10.0).save(root / "champion")
    champion = prudent.load(root / "champion")
    stream = _table(300, seed=1)
    url = f"sqlite:///{root / 'log.db'}"
    ids = log_with_labels(champion, url, stream)
    registry = Registry(root / "registry", create=True)
    registry.promote(registry.register(root / "champion", by="test").name, by="test")
    return {"root": root, "url": url, "registry": registry, "stream": stream, "ids": ids}


def test_labelled_feedback_reads_inputs_named_like_the_logs_fields(world) -> None:
    champion = prudent.load(world["root"] / "champion")
    rows = labelled_feedback(world["url"], champion.schema, champion.classes)
    stream, ids = world["stream"], world["ids"]
    assert list(rows.columns) == [*NAMES, "target"]
    assert sorted(rows.index) == sorted(map(str, ids))
    by_id = stream.set_index(pd.Index(map(str, ids)))
    for name in NAMES:  # the inputs' values, not the log's timestamps, labels or ids
        np.testing.assert_allclose(rows[name].astype(float), by_id.loc[rows.index, name])
    assert (rows["target"] == by_id.loc[rows.index, "target"]).all()


def test_retrain_and_recalibrate_learn_from_that_feedback(world) -> None:
    registry, root = world["registry"], world["root"]
    retrained = retrain(registry, str(world["url"]), by="test", data=root / "train.csv")
    assert retrained.counts["feedback_fit_rows"] == 150  # the older half of 300 labels
    recalibrated = recalibrate(registry, str(world["url"]), by="test")
    assert recalibrated.version.name != retrained.version.name
