"""``prudent monitor``: windows and drift of a log of the shared bundle's predictions."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prudent._format import at_least
from prudent.bundle import load
from prudent.cli import app
from prudent.monitor import AlertEvaluator, Reference, load_rules
from prudent.store import AlertStore
from tests.cli.conftest import Trained
from tests.cli.test_fit_command import assert_one_line_error
from tests.fixtures import mixed_frame, run_main
from tests.monitor.conftest import (
    T0,
    make_reference,
    make_stream,
    records,
    served_records,
    write_log,
)
from tests.monitor.receiver import Receiver, receiver  # noqa: F401  (a pytest fixture)


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
    assert f"Windows (day), promise: accepted accuracy ≥ {at_least(promised)}" in done.output
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
    done = run_main("monitor", trained.bundle, "--log-db", tmp_path / "log.db", "--window", "week")
    assert_one_line_error(done, "window must be 'hour', 'day' or a number", "'week'")


def test_monitor_sends_one_alert_when_served_inputs_drift(
    trained: Trained,
    tmp_path: Path,
    receiver: Receiver,  # noqa: F811  (the imported fixture)
) -> None:
    """End to end: the bundle's predictions of a stream whose mean_radius moves by 1 SD after
    200 rows (one a minute); evaluated at the end of the log over the last 2 hours, input_drift
    fires and the webhook receives it once, with the window, value and threshold."""
    frame = mixed_frame(n=400, seed=9).drop(columns="target")
    moved = frame.index >= 200
    frame.loc[moved, "mean_radius"] += frame["mean_radius"].std()
    recs = served_records(load(trained.bundle), frame, T0, timedelta(minutes=1))
    url = f"sqlite:///{tmp_path / 'log.db'}"
    write_log(url, [(recs, None)])
    rules = tmp_path / "alerts.yaml"
    rules.write_text("defaults: {window: 2h, min_sample: 100, for: 0}\n")
    at = (T0 + timedelta(minutes=400)).isoformat()
    args = ["monitor", str(trained.bundle), "--log-db", url, "--window", "100", "--alerts",
            str(rules), "--webhook", receiver.url, "--at", at, "--apply"]  # fmt: skip
    for _ in range(2):  # the second run sends nothing new
        done = CliRunner().invoke(app, args)
        assert done.exit_code == 0, done.output
    assert "input_drift" in done.output and "firing" in done.output
    assert "of 200 windows of" in done.output  # the false-alarm rate beside each rule
    drift = [m for m in receiver.received if m["rule"] == "input_drift"]
    assert len(drift) == 1 and drift[0]["status"] == "firing"
    assert drift[0]["window"] == "2024-03-01T04:40:00Z/2024-03-01T06:40:00Z"
    assert drift[0]["value"]["point"] == 1.0 and drift[0]["value"]["n"] == 120
    assert drift[0]["threshold"] == 0.0


def test_monitor_at_is_a_what_if_that_stores_and_sends_nothing(
    trained: Trained,
    tmp_path: Path,
    receiver: Receiver,  # noqa: F811  (the imported fixture)
) -> None:
    """input_drift fires at the end of a drifting stream (stored, sent once). ``--at`` two days
    later, when no prediction is in the window, stored its state (last_sent_at two days ahead,
    holding the real repeats back) and posted 'firing … input_drift = None' to the webhook;
    now it stores and sends nothing, says so, and names the repeat it would send as no data."""
    frame = mixed_frame(n=400, seed=9).drop(columns="target")
    frame.loc[frame.index >= 200, "mean_radius"] += frame["mean_radius"].std()
    url = f"sqlite:///{tmp_path / 'log.db'}"
    write_log(url, [(served_records(load(trained.bundle), frame, T0, timedelta(minutes=1)), None)])
    rules = tmp_path / "alerts.yaml"
    rules.write_text("defaults: {window: 2h, min_sample: 100, for: 0}\n")
    base = ["monitor", str(trained.bundle), "--log-db", url, "--alerts", str(rules),
            "--webhook", receiver.url, "--at"]  # fmt: skip
    end = T0 + timedelta(minutes=400)
    fired = CliRunner().invoke(app, [*base, end.isoformat(), "--apply"])
    assert fired.exit_code == 0, fired.output
    assert [m["status"] for m in receiver.received if m["rule"] == "input_drift"] == ["firing"]
    before, posted = _stored_records(url), len(receiver.received)
    later = (end + timedelta(days=2)).isoformat()
    done = CliRunner().invoke(app, [*base, later], env={"COLUMNS": "300"})
    assert done.exit_code == 0, done.output
    assert "(--at): no alert state stored, no notification sent" in done.output
    assert "add --apply to store and send" in done.output
    assert "WOULD SEND firing input_drift: input_drift = no data" in done.output
    assert "None" not in done.output.split("What-if at")[1]
    assert len(receiver.received) == posted  # no new POST
    assert _stored_records(url) == before  # last_sent_at, states: as the real run left them
    as_json = json.loads(CliRunner().invoke(app, [*base, later, "--json"]).output)
    assert as_json["what_if"] is True and "sent" not in as_json
    (repeat,) = [m for m in as_json["would_send"] if m["rule"] == "input_drift"]
    assert repeat["summary"].startswith("firing input_drift: input_drift = no data")


def test_monitor_apply_needs_at(trained: Trained, log_url: str) -> None:
    done = run_main("monitor", trained.bundle, "--log-db", log_url, "--apply")
    assert_one_line_error(done, "--apply stores and sends what an evaluation --at", "no --at")


def _stored_records(url: str) -> list[tuple[str, str, dict]]:
    store = AlertStore.open(url)
    try:
        return sorted((s.rule, s.state, dict(s.record)) for s in store.states())
    finally:
        store.close()


def test_monitor_says_its_rules_and_webhook_did_nothing_while_another_evaluates(
    trained: Trained,
    tmp_path: Path,
    receiver: Receiver,  # noqa: F811  (the imported fixture)
) -> None:
    """The service's evaluator holds the lease: a run with its own rules and webhook shows the
    stored states, posts nothing, and says why (it printed the states under its 'for 0s')."""
    frame = mixed_frame(n=300, seed=9).drop(columns="target")
    frame.loc[frame.index >= 100, "mean_radius"] += frame["mean_radius"].std()
    url = f"sqlite:///{tmp_path / 'log.db'}"
    write_log(url, [(served_records(load(trained.bundle), frame, T0, timedelta(minutes=1)), None)])
    at = T0 + timedelta(minutes=300)
    service = AlertEvaluator(url, Reference.from_bundle(load(trained.bundle)), load_rules(),
                             clock=lambda: at)  # fmt: skip
    assert service.evaluate().evaluated
    service.close(release=False)
    rules = tmp_path / "alerts.yaml"
    rules.write_text("defaults: {window: 2h, min_sample: 100, for: 0}\n")
    args = ["monitor", str(trained.bundle), "--log-db", url, "--alerts", str(rules),
            "--webhook", receiver.url, "--at", at.isoformat(), "--apply"]  # fmt: skip
    done = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert done.exit_code == 0, done.output
    assert receiver.received == []
    assert f"Not evaluated here: {service.holder} holds the log's alert evaluator" in done.output
    assert "--alerts and --webhook apply only where the rules are evaluated" in done.output


def test_monitor_json_shows_each_rule_with_its_false_alarm_rate(
    trained: Trained, log_url: str
) -> None:
    args = ["monitor", str(trained.bundle), "--log-db", log_url, "--json",
            "--at", "2024-03-02T12:00:00Z"]  # fmt: skip
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    alerts = {a["rule"]: a for a in json.loads(done.output)["alerts"]}
    assert "confidence_drift" in alerts and "accept_rate_drop" in alerts
    replay = alerts["ood_rate_spike"]["false_alarm_rate"]
    assert replay["windows"] == 200 and 0.0 <= replay["rate"] <= 0.05
    assert alerts["log_write_failures"]["false_alarm_rate"]["rate"] is None


def test_monitor_names_the_key_of_a_bad_alerts_file(trained: Trained, tmp_path: Path) -> None:
    rules = tmp_path / "alerts.yaml"
    rules.write_text("rules:\n  ood_rate_spike:\n    window: soon\n")
    done = run_main("monitor", trained.bundle, "--log-db", tmp_path / "log.db", "--alerts", rules)
    assert_one_line_error(done, "rules.ood_rate_spike.window must be a duration", "'soon'")


def test_monitor_watch_stops_cleanly_on_ctrl_c(trained: Trained, log_url: str) -> None:
    """``--watch`` evaluates until interrupted, then exits 0 having given the lease up."""
    import signal
    import subprocess
    import time

    from tests.fixtures import PRUDENT

    command = [str(PRUDENT), "monitor", str(trained.bundle), "--log-db", log_url, "--watch",
               "--interval", "0.5", "--json", "--at", "2024-03-02T12:00:00Z"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    evaluations = [json.loads(line) for line in lines]
    assert all(e["evaluated"] for e in evaluations) and "Traceback" not in err
    from prudent.store import AlertStore

    store = AlertStore.open(log_url)
    try:
        assert store.holder("monitor", T0 + timedelta(days=1, hours=12)) is None  # given up
    finally:
        store.close()


def _stored_states(url: str) -> list[str]:
    store = AlertStore.open(url)
    try:
        return [s.rule for s in store.states()]
    finally:
        store.close()


def test_monitor_refuses_a_log_without_this_bundle_and_evaluates_nothing(
    trained: Trained, tmp_path: Path
) -> None:
    """450 predictions of another model: exit 2 naming it, no figures, no alert state."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    write_log(url, [(records(make_stream(450, 1), T0, timedelta(seconds=5), "other"), None)])
    done = run_main("monitor", trained.bundle, "--log-db", url, "--at", "2024-03-01T00:30:00Z")
    assert done.returncode == 2
    version = load(trained.bundle).version
    assert_one_line_error(done, f"holds no prediction of bundle {version}", "450 of model other")
    assert done.stdout == "" and _stored_states(url) == []


def test_monitor_refuses_a_sqlite_log_that_is_not_there(trained: Trained, tmp_path: Path) -> None:
    typo = tmp_path / "nolog2.db"
    done = run_main("monitor", trained.bundle, "--log-db", f"sqlite:///{typo}")
    assert_one_line_error(done, f"No prediction log at '{typo}'", "--log-db")
    assert done.returncode == 2 and not typo.exists()


def test_monitor_shows_no_alert_state_of_another_model(trained: Trained, tmp_path: Path) -> None:
    """The log's evaluator (holding the lease) judges model 'other', whose OOD rate spikes:
    this bundle's rules are shown inactive, naming 'other', not as its pending spike."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    ours = served_records(load(trained.bundle), mixed_frame(n=50, seed=4).drop(columns="target"),
                          T0, timedelta(minutes=1))  # fmt: skip
    spike = records(make_stream(300, 2, ood_rate=0.5), T0 + timedelta(hours=1),
                    timedelta(seconds=10), "other")  # fmt: skip
    write_log(url, [(ours, None), (spike, None)])
    at = T0 + timedelta(hours=2)
    other = make_reference()
    rules = [r for r in load_rules() if r.name == "ood_rate_spike"]
    holder = AlertEvaluator(url, dataclasses.replace(other, model_version="other"), rules,
                            clock=lambda: at)  # fmt: skip
    assert holder.evaluate().states[0].state == "pending"
    holder.close(release=False)
    args = ["monitor", str(trained.bundle), "--log-db", url, "--json",
            "--at", (at + timedelta(minutes=1)).isoformat(), "--apply"]  # fmt: skip
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert sum(w["n"] for w in report["windows"]) == 50  # this bundle's predictions only
    assert report["evaluated"] is False
    spiking = {a["rule"]: a for a in report["alerts"]}["ood_rate_spike"]
    assert spiking["state"] == "inactive"
    assert spiking["observation"]["note"] == "last evaluated for model other, not this one"


def test_monitor_drift_figures_stay_finite_for_huge_inputs(
    trained: Trained, tmp_path: Path
) -> None:
    """Half the rows send mean_radius = 1e30 (the OOD score follows): it drifts, and its
    W1/sd is read within the reference's reach (it was about 1e29)."""
    frame = mixed_frame(n=300, seed=12).drop(columns="target")
    frame.loc[frame.index % 2 == 0, "mean_radius"] = 1e30
    url = f"sqlite:///{tmp_path / 'log.db'}"
    write_log(url, [(served_records(load(trained.bundle), frame, T0, timedelta(seconds=10)), None)])
    args = ["monitor", str(trained.bundle), "--log-db", url, "--window", "300", "--json",
            "--at", "2024-03-01T01:00:00Z"]  # fmt: skip
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    (window,) = json.loads(done.output)["windows"]
    series = {s["name"]: s for s in window["drift"]["series"]}
    assert series["mean_radius"]["drifted"]
    assert 1.0 < series["mean_radius"]["effect"] < 30.0
    assert all(s["effect"] < 30.0 for s in series.values()), series
