"""``prudent retrain`` on bad input, for real: a training table that lacks an input, one that
brings a new class (or loses one), one with a column the champion does not take, and what
the registry then refuses or accepts.

The champion is fitted on breast-cancer rows with a column of every role (``mixed_frame``),
baselines only; each retrain reuses its spec, so a fit takes a few seconds.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import prudent
from prudent.cli import app
from prudent.errors import RegistryError, SchemaError
from prudent.pipeline import QuietReporter
from prudent.retrain import Registry, retrain, run_gate
from prudent.serve._batch import build_records
from prudent.serve._served import check_replacement
from prudent.store import SqlPredictionLog
from tests.cli.test_fit_command import assert_one_line_error
from tests.fixtures import fit_bundle, mixed_frame, run_cli, run_main

pytestmark = pytest.mark.slow  # four fits of 300 rows, baselines only: ~30 s

TWO, THREE = "['benign', 'malignant']", "['benign', 'malignant', 'unsure']"
JAN, FEB = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)


def _rows(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows of every role; no identifier column: a retrain pins one as dropped, and the
    service's hot swap compares every column's role (reported to its owners)."""
    return mixed_frame(n, seed=seed).drop(columns="row_id")


def _log(bundle: prudent.Bundle, url: str, rows: pd.DataFrame, at: datetime) -> None:
    """``rows`` predicted by ``bundle`` at ``at``, then labelled with their ``target``."""
    X = rows.drop(columns="target")
    ids, records = build_records(
        X, bundle.predictions(X), model_name="m", model_version=bundle.version,
        latency_ms=1.0, clock=lambda: at,
    )  # fmt: skip
    with SqlPredictionLog.open(url) as log:
        log.write(records)
        for pid, label in zip(ids, rows["target"], strict=True):
            log.add_feedback(pid, str(label), source="reviewer")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The champion's table, a copy with 25% of its labels moved to a new class ``unsure``,
    and a registry whose champion v1 was fitted on the first."""
    root = tmp_path_factory.mktemp("retrain_cli")
    frame = _rows(300)
    frame.to_csv(root / "train.csv", index=False)
    unsure = frame.copy()
    unsure.loc[np.random.default_rng(0).random(len(frame)) < 0.25, "target"] = "unsure"
    unsure.to_csv(root / "unsure.csv", index=False)
    fit_bundle(frame, "target").save(root / "champion")
    registry = Registry(root / "registry", create=True)
    registry.promote(registry.register(root / "champion", by="test").name, by="test")
    return {"root": root, "registry": root / "registry", "log": root / "log.db"}


def _copy(registry: Path, target: Path) -> Registry:
    shutil.copytree(registry, target, symlinks=True)
    return Registry(target)


@pytest.fixture(scope="module")
def unsure(world: dict[str, Path]) -> dict[str, object]:
    """``prudent retrain --data unsure.csv``, run as users run it: the challenger v2."""
    root = world["root"]
    done = run_cli(
        "retrain", "--registry", world["registry"], "--data", root / "unsure.csv",
        "--log-db", f"sqlite:///{world['log']}", "--time-limit", "5", "--by", "test",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {"done": done, "registry": Registry(world["registry"])}


def test_retrain_refuses_a_table_without_an_input_before_any_fit(world, tmp_path) -> None:
    registry = _copy(world["registry"], tmp_path / "reg")
    pd.read_csv(world["root"] / "train.csv").drop(columns="city").to_csv(
        tmp_path / "no_city.csv", index=False
    )
    reporter = QuietReporter()
    url = f"sqlite:///{world['log']}"
    with pytest.raises(SchemaError, match=r"'[^']*no_city.csv' has no column 'city', an input of"):
        retrain(registry, url, by="t", data=tmp_path / "no_city.csv", reporter=reporter)
    assert reporter.notices == []  # the fit never started: it reports from its first step
    assert [v.name for v in registry.versions()] == ["v1"]  # nothing registered
    done = run_main(
        "retrain", "--registry", registry.root, "--data", tmp_path / "no_city.csv", "--log-db", url
    )
    line = assert_one_line_error(done, "has no column 'city'", "pass the table it was trained")
    assert done.returncode == 2 and "--force" not in line
    assert [v.name for v in Registry(registry.root).versions()] == ["v1"]


def test_retrain_says_in_one_notice_line_that_the_classes_changed(unsure) -> None:
    done = unsure["done"]
    assert "PrudentWarning" not in done.stderr  # fit warnings are notices, as in prudent fit
    notices = [line for line in done.stderr.splitlines() if line.startswith("• ")]
    changed = [line for line in notices if "other classes" in line]
    assert changed == [
        f"• WARNING The challenger has other classes than the champion v1 ({THREE} against "
        f"{TWO}; new: 'unsure'); the gate cannot compare them: promoting it needs --force."
    ]
    # the fit's own notices reach the same lines (a quarter of the labels moved at random to
    # a class no input predicts reads as hard rows to a calibrated audit, not a warning)
    assert any(line.startswith(("• Label audit", "• WARNING Label audit")) for line in notices)
    assert done.stdout.startswith("Registered v2 as challenger (from v1;")
    assert "prudent registry promote DIR @challenger --force" in done.stdout


def test_promote_of_other_classes_is_refused_in_one_line_and_forced(unsure, tmp_path) -> None:
    registry = _copy(unsure["registry"].root, tmp_path / "reg")  # type: ignore[attr-defined]
    done = run_main("registry", "promote", registry.root, "@challenger")
    assert_one_line_error(
        done, f"v2 has other classes than v1, which holds 'champion' ({THREE} against {TWO}; "
        "new: 'unsure')", "Pass --force to promote it anyway",
    )  # fmt: skip
    assert done.returncode == 2 and registry.aliases()["champion"] == "v1"
    with pytest.raises(RegistryError, match=r"same target, classes and inputs: v2 has other cl"):
        run_gate(
            prudent.load(registry.version("v1").path), prudent.load(registry.version("v2").path),
            names=("v1", "v2"),
        )  # fmt: skip
    forced = CliRunner().invoke(
        app, ["registry", "promote", str(registry.root), "@challenger", "--force", "--by", "ops"]
    )
    assert forced.exit_code == 0, forced.output
    assert forced.output == "Promoted: champion -> v2 (was v1) (forced).\n"
    assert registry.history()[-1].forced and registry.aliases()["champion"] == "v2"


@pytest.fixture(scope="module")
def replaced(world, unsure, tmp_path_factory) -> dict[str, object]:
    """A retrain on the original table plus a column the champion does not take, with
    labelled feedback in the log, while the challenger is v2 (other classes)."""
    root = tmp_path_factory.mktemp("replaced")
    registry = _copy(unsure["registry"].root, root / "reg")  # type: ignore[attr-defined]
    frame = pd.read_csv(world["root"] / "train.csv")
    frame.assign(extra=np.arange(len(frame))).to_csv(root / "extra.csv", index=False)
    url = f"sqlite:///{root / 'log.db'}"
    champion = prudent.load(registry.version("@champion").path)
    _log(champion, url, _rows(120, seed=1), JAN)
    # a labelled row of a class the champion does not give (left out of the feedback), its
    # number sent as text: the log's column of numbers reads as objects
    odd = _rows(1, seed=4).astype({"mean_radius": object}).assign(target="other")
    odd.loc[0, "mean_radius"] = "12.5"
    _log(champion, url, odd, JAN)
    done = retrain(registry, url, by="t", data=root / "extra.csv")
    return {"registry": registry, "done": done, "champion": champion}


def test_retrain_replaces_a_challenger_of_other_classes(replaced) -> None:
    registry, done = replaced["registry"], replaced["done"]
    assert done.version.name == "v3" and not done.needs_force
    assert registry.aliases() == {"champion": "v1", "challenger": "v3"}
    last = registry.history()[-1]
    assert (last.action, last.alias, last.previous, last.forced) == (
        "promote", "challenger", "v2", True,
    )  # fmt: skip
    assert done.notices[0] == (
        f"Column(s) 'extra' of '{registry.root.parent / 'extra.csv'}' left out: the champion "
        "does not take them and a retrain keeps its inputs (fit a new bundle to use them)."
    )
    assert not any("other" in notice for notice in done.notices), done.notices


def test_retrained_challenger_keeps_the_champions_inputs_and_types(replaced) -> None:
    champion, done = replaced["champion"], replaced["done"]
    assert done.counts["feedback_fit_rows"] > 0  # the feedback joined the training table
    challenger = prudent.load(done.version.path)
    typed = [(c.name, c.role, c.dtype) for c in challenger.schema.columns]
    assert typed == [(c.name, c.role, c.dtype) for c in champion.schema.columns]
    check_replacement(champion, challenger)  # what serve --registry checks before a swap


def test_retrain_that_loses_a_class_keeps_the_calibration_and_says_so(
    world, unsure, tmp_path
) -> None:
    registry = _copy(unsure["registry"].root, tmp_path / "reg")  # type: ignore[attr-defined]
    registry.promote("v2", by="t", force=True)  # the champion now gives 'unsure' too
    url = f"sqlite:///{tmp_path / 'log.db'}"
    champion = prudent.load(registry.version("v2").path)
    _log(champion, url, _rows(60, seed=2), JAN)
    _log(champion, url, _rows(60, seed=3).assign(target="unsure"), FEB)  # the recent half
    done = retrain(registry, url, by="t", data=world["root"] / "train.csv")
    assert done.needs_force and registry.aliases()["challenger"] == done.version.name
    assert done.notices == [
        "Calibration and thresholds kept from the fit: 30 of the 30 recent labelled rows are of "
        "class(es) 'unsure', which the new model does not have.",
        f"WARNING The challenger has other classes than the champion v2 ({TWO} against {THREE}; "
        "gone: 'unsure'); the gate cannot compare them: promoting it needs --force.",
    ]
