"""Retrain and the promotion gate on a real table with a drifted stream whose labels are known.

breast_cancer: the champion never sees the rows whose ``mean_radius`` is in the top 30%; the
stream brings them, and in the drifted world every one of them is labelled ``benign`` (a
concept change with a known right answer). The champion calls most of them malignant.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

import prudent
from prudent.errors import ConfigError, DataError, PrudentWarning
from prudent.retrain import GateRefused, Registry, promote_gated, recalibrate, retrain, run_gate
from tests.fixtures import example
from tests.retrain._labelled_log import log_with_labels

pytestmark = pytest.mark.slow  # three fits on 400-500 rows: ~30 s on a quiet machine

FIT = {"time_limit": 20.0, "candidates": ("lightgbm",), "n_folds": 3}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("retrain")
    frame = example("breast_cancer")
    drifted = frame["mean_radius"] >= frame["mean_radius"].quantile(0.7)
    train = frame[~drifted].reset_index(drop=True)
    stream = frame[drifted].sample(frac=1.0, random_state=0).reset_index(drop=True)
    stream["target"] = "benign"
    train.to_csv(root / "train.csv", index=False)
    champion = prudent.fit(train, target="target", **FIT)
    champion.save(root / "champion")
    url = f"sqlite:///{root / 'log.db'}"
    log_with_labels(champion, url, stream)
    registry = Registry(root / "registry", create=True)
    registry.promote(registry.register(root / "champion", by="test").name, by="test")
    return {"root": root, "url": url, "registry": registry, "train": train}


@pytest.fixture(scope="module")
def retrained(world: dict[str, object]) -> prudent.retrain.Retrained:
    registry, root = world["registry"], world["root"]
    assert isinstance(registry, Registry) and isinstance(root, Path)
    return retrain(registry, str(world["url"]), by="test", data=root / "train.csv")


def test_retrain_registers_a_challenger_from_the_feedback(world, retrained) -> None:
    registry = world["registry"]
    assert registry.aliases() == {"champion": "v1", "challenger": retrained.version.name}
    section = prudent.load(retrained.version.path).manifest["retrain"]
    ids = section["feedback_ids"]
    parts = [set(ids[k]) for k in ("fit", "calibration", "gate")]
    assert sum(map(len, parts)) == len(set().union(*parts)) == 171  # disjoint, every label
    assert len(parts[0]) == 85 and abs(len(parts[1]) - len(parts[2])) <= 1
    # the original table holds the champion's locked test rows: none is trained on again
    assert section["counts"]["test_rows_dropped"] == 80
    assert section["data"] == str((world["root"] / "train.csv").resolve())


def test_retrain_with_no_label_in_its_window_says_it_learns_from_none(
    world, retrained, tmp_path: Path
) -> None:
    """--since past every labelled prediction: the challenger had been registered with
    'feedback fit rows 0' among its counts and nothing more said. A retrain whose window
    holds labels says nothing of the kind."""
    registry = Registry(tmp_path / "registry", create=True)
    registry.promote(registry.register(world["root"] / "champion", by="test").name, by="test")
    since = datetime(2100, 1, 1, tzinfo=UTC)
    train = world["root"] / "train.csv"
    done = retrain(registry, str(world["url"]), by="test", data=train, since=since)
    assert done.counts["feedback_fit_rows"] == done.counts["gate_rows"] == 0
    assert done.notices[0].startswith(
        "The log holds no labelled prediction made since 2100-01-01T00:00:00+00:00: the "
        "challenger is fitted on the original table alone"
    )
    assert not any("no labelled prediction" in n for n in retrained.notices)


def test_retrain_without_the_training_table_says_how_to_give_it(world) -> None:
    with pytest.raises(ConfigError, match=r"does not keep its training table.*--data"):
        retrain(world["registry"], str(world["url"]), by="test")


def test_gate_finds_the_retrained_challenger_better_on_the_drifted_rows(world, retrained):
    registry = world["registry"]
    result = run_gate(
        prudent.load(registry.version("@champion").path), prudent.load(retrained.version.path),
        names=("v1", retrained.version.name), log_url=str(world["url"]),
    )  # fmt: skip
    checks = {(c.name, c.rows): c for c in result.checks}
    main = checks["balanced accuracy", "recent feedback"]
    assert main.verdict == "better" and main.challenger > main.champion + 0.3, main.detail
    assert checks["log loss", "recent feedback"].verdict == "better"


@pytest.fixture(scope="module")
def shuffled(world: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A challenger fitted on the champion's table with its labels shuffled."""
    train = world["train"].copy()  # type: ignore[attr-defined]
    train["target"] = np.random.default_rng(0).permutation(train["target"].to_numpy())
    path = tmp_path_factory.mktemp("shuffled") / "bundle"
    with warnings.catch_warnings():  # the label audit rightly warns about shuffled labels
        warnings.simplefilter("ignore", PrudentWarning)
        prudent.fit(train, target="target", **FIT).save(path)
    return path


def test_gate_refuses_a_challenger_fitted_on_shuffled_labels(world, shuffled) -> None:
    registry = world["registry"]
    version = registry.register(shuffled, by="test")
    with pytest.raises(GateRefused, match=rf"Refused: {version.name} is worse than v1 on") as e:
        promote_gated(registry, version.name, by="test", log_url=str(world["url"]))
    assert "balanced accuracy on the locked test set" in str(e.value)
    assert e.value.report.is_file() and "Promotion refused" in e.value.report.read_text()
    assert registry.aliases()["champion"] == "v1"


def test_recalibrate_refuses_too_few_labels_of_a_class(world) -> None:
    # every label of the drifted stream is 'benign': no calibration can be fitted on them
    with pytest.raises(DataError, match="needs at least 60 recent labelled rows with 5 of") as e:
        recalibrate(world["registry"], str(world["url"]), by="test")
    has = int(re.search(r"but has (\d+) \(", str(e.value))[1])  # type: ignore[index]
    total = re.search(r"every other one of the (\d+) recent labelled rows and keeps", str(e.value))
    assert total is not None and has <= int(total[1]) <= 2 * has + 1  # the user's count, too


def test_cli_promote_refused_by_the_gate_exits_with_one_line(world, shuffled) -> None:
    from typer.testing import CliRunner

    from prudent.cli import app

    registry = world["registry"]
    name = registry.register(shuffled, by="test").name
    result = CliRunner().invoke(
        app, ["registry", "promote", str(registry.root), name, "--log-db", str(world["url"])]
    )
    assert result.exit_code != 0 and isinstance(result.exception, GateRefused)
    assert str(result.exception).startswith(f"Refused: {name} is worse than v1 on")
    forced = CliRunner().invoke(
        app, ["registry", "promote", str(registry.root), name, "--force", "--by", "ops"]
    )
    assert forced.exit_code == 0, forced.output
    assert registry.history()[-1].forced and registry.aliases()["champion"] == name
    registry.rollback(by="test")
