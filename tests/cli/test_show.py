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
    row = next(line for line in buffer.getvalue().splitlines() if line.startswith(f"│ {model} "))
    assert "0.008 (0.006–0.017)" in row  # was '0.008 (0.01–0.02)': the point outside its interval
    for point, low, high in re.findall(r"(\d\.\d+) \((\d\.\d+)–(\d\.\d+)\)", row):
        assert float(low) <= float(point) <= float(high)
