"""``prudent monitor``: windows and drift of a log of the shared bundle's predictions."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prudent.bundle import load
from prudent.cli import app
from prudent.monitor import Reference
from tests.cli.conftest import Trained
from tests.cli.test_fit_command import assert_one_line_error
from tests.fixtures import mixed_frame, run_cli
from tests.monitor.conftest import T0, served_records, write_log
from tests.monitor.test_notify import Receiver, receiver  # noqa: F401  (a pytest fixture)


@pytest.fixture(scope="module")
def log_url(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> str:
    """400 rows predicted by the shared bundle, 7 minutes apart (two days), all labelled."""
    url = f"sqlite:///{tmp_path_factory.mktemp('monitor') / 'log.db'}"
    frame = mixed_frame(n=400, seed=5)
    recs = served_records(load(trained.bundle), frame.drop(columns="target"), T0,
                          timedelta(minutes=7))  # fmt: skip
    labels = [(r.id, str(label)) for r, label in zip(recs, frame["target"], strict=True)]
    write_log(url, [(recs, labels)])
    return url


def test_monitor_help_names_its_options() -> None:
    done = CliRunner().invoke(app, ["monitor", "--help"])
    assert done.exit_code == 0
    assert "--window" in done.output and "--json" in done.output


def test_monitor_prints_a_table_of_windows(trained: Trained, log_url: str) -> None:
    done = CliRunner().invoke(app, ["monitor", str(trained.bundle), "--log-db", log_url])
    assert done.exit_code == 0, done.output
    promised = Reference.from_bundle(load(trained.bundle)).promises.target_accuracy
    assert f"Windows (day), promise: accepted accuracy ≥ {promised:.3f}" in done.output
    assert "│ 2024-03-01 │ 206 │" in done.output and "│ 2024-03-02 │ 194 │" in done.output


def test_monitor_json_holds_every_window_with_intervals(trained: Trained, log_url: str) -> None:
    args = ["monitor", str(trained.bundle), "--log-db", log_url, "--window", "100", "--json"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["model_version"] == load(trained.bundle).version
    assert [w["n"] for w in report["windows"]] == [100, 100, 100, 100]
    first = report["windows"][0]
    assert first["labelled"] == 100
    assert set(first["ood_rate"]) == {"point", "low", "high", "n"}
    assert first["drift"]["n"] == 100 and first["drift"]["series"]
    assert isinstance(first["estimate_reliable"], bool)
    assert isinstance(report["incidents"], list)


def test_monitor_refuses_a_bad_window_in_one_line(trained: Trained, tmp_path: Path) -> None:
    done = run_cli("monitor", trained.bundle, "--log-db", tmp_path / "log.db", "--window", "week")
    assert_one_line_error(done, "window must be 'hour', 'day' or a number", "'week'")


def test_monitor_sends_one_alert_when_served_inputs_drift(
    trained: Trained,
    tmp_path: Path,
    receiver: Receiver,  # noqa: F811  (the imported fixture)
) -> None:
    """End to end: the bundle's predictions of a stream whose mean_radius moves by 1 SD after
    200 rows; two drifted windows fire input_drift, and the webhook receives it once."""
    frame = mixed_frame(n=400, seed=9).drop(columns="target")
    moved = frame.index >= 200
    frame.loc[moved, "mean_radius"] += frame["mean_radius"].std()
    recs = served_records(load(trained.bundle), frame, T0, timedelta(minutes=1))
    url = f"sqlite:///{tmp_path / 'log.db'}"
    write_log(url, [(recs, None)])
    args = ["monitor", str(trained.bundle), "--log-db", url, "--window", "100",
            "--webhook", receiver.url, "--alert-state", str(tmp_path / "alerts.json")]  # fmt: skip
    for _ in range(2):  # the second run sends nothing new
        done = CliRunner().invoke(app, args)
        assert done.exit_code == 0, done.output
    assert "ALERT input_drift: fired rows 300-399, still firing" in done.output
    drift = [m for m in receiver.received if m["rule"] == "input_drift"]
    assert drift == [
        {"status": "firing", "rule": "input_drift", "fired": "rows 300-399", "resolved": None,
         "windows": ["rows 200-299", "rows 300-399"], "threshold": 0.0}
    ]  # fmt: skip
