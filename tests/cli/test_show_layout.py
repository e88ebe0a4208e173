"""``prudent show`` in an 80-column terminal and piped (160 columns): no number, name or
header split, lines no wider than the terminal (100 columns piped), the classes and a wide
schema summed up before the leaderboard."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from tests.cli.conftest import Trained
from tests.cli.test_show_notices import shown
from tests.fixtures import example, fit_bundle


def _manifest(trained: Trained) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((trained.bundle / "manifest.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def long_names() -> dict[str, Any]:
    """A fit of families with long names, so that an ensemble is weighed and the error
    correlations have a column per family."""
    frame = example("wine")
    candidates = ("lightgbm_shallow", "lightgbm_random", "extra_trees")
    # 90 s, not the fixtures' 20: a loaded machine otherwise runs none of them
    bundle = fit_bundle(frame, "target", candidates=candidates, time_limit=90.0)
    manifest: dict[str, Any] = bundle.manifest
    return manifest


def test_80_columns_split_no_number_name_or_header(long_names: dict[str, Any]) -> None:
    manifest = long_names
    text = shown(manifest, 80)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    words = set(text.split())
    for model, metrics in manifest["test_metrics"].items():
        assert model in words  # was 'linear_s' / 'vm' on two lines
        for m in metrics.values():
            # each bound whole: it was '(0.436–0' / '.477)'
            assert f"{m['low']:.3f}–{m['high']:.3f}".replace("-0.000", "0.000") in text
    for model in manifest["trust"]["diversity"]["models"]:
        assert model in words  # the error-correlation headers were 'logisti' / 'c'
    for header in ("balanced_accuracy", "macro_f1", "log_loss"):
        assert not re.search(rf"\b{header[:5]}\w*\n", text)


def test_piped_lines_stay_within_100_columns_and_break_between_words(trained: Trained) -> None:
    text = shown(_manifest(trained), 160)
    lines = text.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 100  # the promises were ~150 wide
    calibration = next(i for i, line in enumerate(lines) if line.startswith("Calibration:"))
    sentence = " ".join(line.strip() for line in lines[calibration : calibration + 3])
    assert "top-label ECE passes the consistency test" in sentence  # whole words each line


def test_many_classes_and_a_wide_schema_are_summed_up(trained: Trained) -> None:
    manifest = copy.deepcopy(_manifest(trained))
    manifest["classes"] = [f"class {i}" for i in range(40)]
    columns = manifest["schema"]["columns"]
    wide = [dict(columns[i % len(columns)], name=f"c{i}") for i in range(1500)]
    manifest["schema"]["columns"] = wide
    lines = shown(manifest, 80).splitlines()
    before = next(i for i, line in enumerate(lines) if line.startswith("Leaderboard"))
    assert before < 32  # was 1,507 lines (one per column) and 15 of classes in the title
    head = " ".join(lines[:before])
    assert "40 classes: 'class 0', 'class 1'" in head and "(the first 10;" in head
    assert "'class 10'" not in head and "… and 1,480 more columns." in head
    assert "Schema (1,500 columns:" in head and "prudent show --json lists all" in head
