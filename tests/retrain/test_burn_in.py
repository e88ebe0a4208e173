"""Burn-in on a real log: the champion before a promotion was right, the new one is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

import prudent
from prudent.cli import app
from prudent.retrain import Registry
from prudent.retrain._burn_in import BurnInRule, burn_in
from prudent.serve._batch import build_records
from prudent.store import SqlPredictionLog
from tests.fixtures import example
from tests.retrain.test_registry_serve import other_dir  # noqa: F401  (a fixture)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _serve_period(url: str, bundle: prudent.Bundle, at: datetime, *, right: bool) -> None:
    """Log the iris rows as predicted by ``bundle`` at ``at``; label them right or wrong."""
    frame = example("iris")
    X = frame.drop(columns="target")
    predictions = bundle.predictions(X)
    ids, records = build_records(X, predictions, model_name="iris",
                                 model_version=bundle.version, latency_ms=1.0,
                                 clock=lambda: at)  # fmt: skip
    classes = [str(c) for c in bundle.classes]
    with SqlPredictionLog.open(url) as log:
        log.write(records)
        for pid, shown in zip(ids, predictions.prediction, strict=True):
            wrong = classes[(classes.index(str(shown)) + 1) % len(classes)]
            log.add_feedback(pid, str(shown) if right else wrong, source="rev")


def test_burn_in_rolls_back_a_champion_worse_than_the_one_before(
    tmp_path: Path,
    bundle_dir: Path,
    other_dir: Path,  # noqa: F811
) -> None:
    now = [T0]
    registry = Registry(tmp_path / "reg", create=True, clock=lambda: now[0])
    registry.register(bundle_dir, by="t"), registry.register(other_dir, by="t")
    registry.promote("v1", by="t")
    url = f"sqlite:///{tmp_path / 'log.db'}"
    _serve_period(
        url, prudent.load(registry.version("v1").path), T0 + timedelta(hours=1), right=True
    )
    now[0] = T0 + timedelta(hours=2)
    registry.promote("v2", by="t", force=True)
    assert not burn_in(registry, url).rollback  # nothing logged by v2 yet
    _serve_period(
        url, prudent.load(registry.version("v2").path), T0 + timedelta(hours=3), right=False
    )
    off = burn_in(registry, url, BurnInRule(enabled=False))
    assert not off.rollback and off.reason == "the burn-in rule is off"
    dry = CliRunner().invoke(
        app, ["registry", "burn-in", str(registry.root), "--log-db", url, "--dry-run"]
    )
    assert dry.output.startswith("Would roll back: burn-in: v2's realised accuracy"), dry.output
    assert registry.aliases()["champion"] == "v2"
    verdict = burn_in(registry, url)
    assert verdict.rollback and "realised accuracy 0.000" in verdict.reason, verdict.reason
    assert registry.aliases()["champion"] == "v1"
    last = registry.history()[-1]
    assert (last.action, last.by, last.reason) == ("rollback", "burn-in", verdict.reason)
    after = burn_in(registry, url)  # the last move is a rollback: nothing to watch
    assert not after.rollback and after.reason.startswith("no promotion to watch: the champion's")
