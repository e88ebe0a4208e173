"""The shipped Prometheus alerting rules: valid (promtool check rules), right on synthetic series
(promtool test rules), and the same rules as the shipped alerts.yaml (R-ALERT-RULES).

promtool comes with Debian's ``prometheus`` package (installed by ``.ci/run``); without it the
tests skip, and fail under ``PRUDENT_REQUIRE_PROMTOOL=1``.
"""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from prudent.monitor import MonitorGauges, duration_label, load_rules
from prudent.serve import render_metrics
from tests.conftest import require

RULES = Path(str(resources.files("prudent.monitor").joinpath("prometheus-rules.yaml")))


def _promtool() -> str:
    found = shutil.which("promtool")
    require("promtool", found is not None, "promtool not found (apt-get install prometheus)")
    assert found is not None
    return found


def _alerts() -> dict[str, dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {r["alert"]: r for g in groups for r in g["rules"]}


def test_promtool_checks_the_shipped_rules() -> None:
    done = subprocess.run([_promtool(), "check", "rules", str(RULES)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 8 rules found" in done.stdout


def test_the_prometheus_rules_are_the_shipped_defaults() -> None:
    alerts = _alerts()
    specs = load_rules()
    assert set(alerts) == {s.name for s in specs}
    for spec in specs:
        rule = alerts[spec.name]
        assert rule.get("for", "0s") == (duration_label(spec.for_) if spec.for_ else "0s")
        assert rule["labels"] == dict(spec.labels)
        if spec.measure == "log_write_failures":
            assert f"[{duration_label(spec.window)}]) > 0" in rule["expr"]
            continue
        assert f'window="{duration_label(spec.window)}"' in rule["expr"]
        assert f">= {spec.min_sample}" in rule["expr"]
        if isinstance(spec.threshold, str):
            kind, _, offset = spec.threshold.partition(" ")
            assert f'kind="{kind}"' in rule["expr"] and offset in rule["expr"]


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inside = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{name}{{{inside}}}", "values": values}


def _measure(measure: str, low: float, high: float, rows: int) -> list[dict[str, str]]:
    window = {"measure": measure, "window": "1h"}
    return [
        _series("prudent_monitor_measure", {**window, "bound": "low"}, f"{low}x40"),
        _series("prudent_monitor_measure", {**window, "bound": "high"}, f"{high}x40"),
        _series("prudent_monitor_measure", {**window, "bound": "point"},
                f"{(low + high) / 2}x40"),
        _series("prudent_monitor_rows", window, f"{rows}x40"),
    ]  # fmt: skip


def _expected(measure: str, kind: str, value: float) -> dict[str, str]:
    return _series("prudent_monitor_expected", {"measure": measure, "kind": kind}, f"{value}x40")


def _fires(name: str, at: str, labels: dict[str, str], description: str = "") -> dict[str, Any]:
    """The alert firing at ``at``, with the rule's severity and summary."""
    rule = _alerts()[name]
    annotations = {"summary": rule["annotations"]["summary"]}
    if description:
        annotations["description"] = description
    expected = {"exp_labels": {**labels, **rule["labels"]}, "exp_annotations": annotations}
    return {"eval_time": at, "alertname": name, "exp_alerts": [expected]}


def _quiet(name: str, at: str) -> dict[str, Any]:
    return {"eval_time": at, "alertname": name, "exp_alerts": []}


def _case(series: list[dict[str, str]], checks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"interval": "1m", "input_series": series, "alert_rule_test": checks}


def _tests() -> list[dict[str, Any]]:
    spike = [*_measure("ood_rate", 0.20, 0.30, 500), _expected("ood_rate", "reference", 0.05)]
    near = [*_measure("ood_rate", 0.08, 0.12, 500), _expected("ood_rate", "reference", 0.05)]
    small = [*_measure("ood_rate", 0.20, 0.30, 150), _expected("ood_rate", "reference", 0.05)]
    errors = [*_measure("high_confidence_error_rate", 0.12, 0.25, 60),
              _expected("high_confidence_error_rate", "promise", 0.05)]  # fmt: skip
    drift = [_series("prudent_monitor_measure",
                     {"measure": "confidence_drift", "window": "1h", "bound": "point"}, "1x40"),
             _series("prudent_monitor_rows", {"measure": "confidence_drift", "window": "1h"},
                     "300x40")]  # fmt: skip
    failures = [_series("prudent_log_write_failures_total", {}, "0 0 0 2 2 2 2 2 2 2 2 2 2 2")]
    accept = [*_measure("accept_rate", 0.50, 0.60, 400), _expected("accept_rate", "reference", 0.8)]
    flag = {"measure": "confidence_drift", "window": "1h", "bound": "point"}
    return [
        _case(spike, [
            _quiet("ood_rate_spike", "5m"),
            _fires("ood_rate_spike", "15m", {"measure": "ood_rate"}, "ood_rate over the last "
                   "1h: 0.200 (low end of its 95% interval) above the threshold.")]),
        _case(near, [_quiet("ood_rate_spike", "30m")]),
        _case(small, [_quiet("ood_rate_spike", "30m")]),
        _case(errors, [
            _fires("high_confidence_error_rate_above_promise", "1m",
                   {"measure": "high_confidence_error_rate"}, "high_confidence_error_rate over "
                   "the last 1h: 0.120 (low end of its 95% interval) above the threshold.")]),
        _case(drift, [
            _quiet("confidence_drift", "20m"), _fires("confidence_drift", "35m", flag)]),
        _case(failures, [
            _quiet("log_write_failures", "2m"),
            _fires("log_write_failures", "4m", {}, "2 failed batch(es) in the last 5m.")]),
        _case(accept, [
            _quiet("accept_rate_drop", "5m"),
            _fires("accept_rate_drop", "15m", {"measure": "accept_rate"}, "accept_rate over the "
                   "last 1h: 0.600 (high end of its 95% interval) below the threshold.")]),
    ]  # fmt: skip


def test_promtool_tests_the_rules_on_synthetic_series(tmp_path: Path) -> None:
    promtool = _promtool()
    spec = {"rule_files": [str(RULES)], "evaluation_interval": "1m", "tests": _tests()}
    path = tmp_path / "rules-test.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    done = subprocess.run([promtool, "test", "rules", str(path)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_gauges_the_rules_read_are_exported() -> None:
    """Every metric the rules name is one the service exports (or the log failures counter)."""
    registry = CollectorRegistry()
    MonitorGauges(registry)
    exported = {f.name for f in text_string_to_metric_families(
        render_metrics(registry).decode())}  # fmt: skip
    text = RULES.read_text()
    for name in ("prudent_monitor_measure", "prudent_monitor_rows", "prudent_monitor_expected"):
        assert name in text and name in exported
