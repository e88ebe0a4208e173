"""``prudent show``'s tables: each interval printed to the precision of its point."""

from __future__ import annotations

import io
import json
import re

from rich.console import Console

from prudent.cli._show import show_manifest
from tests.cli.conftest import Trained


def test_locked_test_intervals_share_their_points_precision(trained: Trained) -> None:
    manifest = json.loads((trained.bundle / "manifest.json").read_text())
    model = next(iter(manifest["test_metrics"]))
    manifest["test_metrics"][model]["ece"] = {"point": 0.00799, "low": 0.00614, "high": 0.01716}
    buffer = io.StringIO()
    show_manifest(Console(file=buffer, width=250), manifest)
    row = next(line for line in buffer.getvalue().splitlines() if line.startswith("ECE "))
    assert "0.008 (0.006–0.017)" in row  # was '0.008 (0.01–0.02)': the point outside its interval
    for point, low, high in re.findall(r"(\d\.\d+) \((\d\.\d+)–(\d\.\d+)\)", row):
        assert float(low) <= float(point) <= float(high)


def test_a_simpler_family_losing_is_said_plainly_not_as_a_warning() -> None:
    """k-NN losing to the logistic baseline on a linear problem is expected: the fit says so
    without a warning, and ``prudent show`` and the report must not turn it into one (they
    printed WARNING, and an alert banner, before every loss)."""
    import numpy as np
    import pandas as pd

    from prudent.report import render_report
    from tests.fixtures import fit_bundle

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 20))
    y = np.where(X @ rng.normal(size=20) + rng.normal(scale=0.5, size=3000) > 0, "yes", "no")
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(20)]).assign(y=y)
    # the plan in CPU seconds alone decides (wall_guard=False), with 90 s, not the fixtures'
    # 20: on a machine busy with the other tests k-NN was cut from the 20 s fit either way
    # (CI's way on 7b3a1c1), and the test found no row
    bundle = fit_bundle(frame, "y", candidates=("knn",), wall_guard=False, time_limit=90.0)
    board = bundle.manifest["leaderboard"]
    knn = next((r for r in board if r["name"] == "knn"), None)
    assert knn is not None, bundle.manifest["skipped"]
    assert knn["vs_baseline"]["verdict"] == "worse"
    buffer = io.StringIO()
    show_manifest(Console(file=buffer, width=250), bundle.manifest)
    printed = re.sub(r"\s+", " ", buffer.getvalue())  # lines wrapped at 100 columns
    assert "WARNING" not in printed
    assert "• knn: significantly less accurate than logistic, as a simpler family" in printed
    html = render_report(bundle)
    alerts = re.findall(r'<p class="banner" role="alert">(.*?)</p>', html)
    assert not any("knn" in a for a in alerts)
    assert "knn: significantly less accurate than logistic, as a simpler family" in html


def test_sentences_name_their_counts_without_a_dicts_braces(trained: Trained) -> None:
    manifest = json.loads((trained.bundle / "manifest.json").read_text())
    buffer = io.StringIO()
    show_manifest(Console(file=buffer, width=250), manifest)
    text = buffer.getvalue()
    accept = next(line for line in text.splitlines() if line.startswith("Accept threshold:"))
    assert "test decisions: accept " in accept and "{" not in accept  # was {'accept': 1177, …}
    calibration = next(line for line in text.splitlines() if line.startswith("Calibration:"))
    assert "the lowest held-out log loss" in calibration and "{" not in calibration


def test_the_show_command_lists_every_notice_of_the_fit(trained: Trained) -> None:
    """``prudent show`` is where a bundle's notices are read after the fit: all of them,
    counted (the command printed only the leaderboard's, the rest stayed in the manifest)."""
    from tests.fixtures import run_cli

    notices = json.loads((trained.bundle / "manifest.json").read_text())["notices"]
    assert notices
    out = run_cli("show", trained.bundle)
    assert out.returncode == 0, out.stderr
    assert f"Notices of the fit ({len(notices)}" in out.stdout
