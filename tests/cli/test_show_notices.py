"""``prudent show`` prints every notice of the fit: a small locked test's ``Caution`` beside
the promises it qualifies, a label audit's ``WARNING``, and the unknown-values check."""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from prudent.cli._show import show_manifest
from prudent.errors import PrudentWarning
from tests.fixtures import fit_bundle


def _flat(text: str) -> str:
    """The text with its line wrapping undone (wrapped lines are indented two spaces)."""
    return re.sub(r"\s+", " ", text)


def shown(manifest: dict[str, Any], width: int = 80, *, notices: bool = False) -> str:
    """What ``show_manifest`` prints on a console ``width`` columns wide."""
    buffer = io.StringIO()
    show_manifest(Console(file=buffer, width=width), manifest, notices=notices)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def small_noisy() -> dict[str, Any]:
    """A fit on 240 rows (a locked test below 100 rows: a Caution) of two well-separated
    classes with a fifth of the labels swapped (a WARNING from the label audit)."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 120)
    strong = np.where(y == 0, 3.0, -3.0) + rng.normal(size=240) * 0.5
    frame = pd.DataFrame({"strong": strong, "x": rng.normal(size=240)})
    swap = rng.choice(240, 48, replace=False)
    y[swap] = 1 - y[swap]
    frame["label"] = np.array(["a", "b"])[y]
    with pytest.warns(PrudentWarning, match="WARNING Label audit"):
        manifest: dict[str, Any] = fit_bundle(frame, "label").manifest
    return manifest


def test_every_notice_of_the_fit_is_printed_and_counted(small_noisy: dict[str, Any]) -> None:
    notices = small_noisy["notices"]
    assert any(n.startswith("WARNING") for n in notices), notices
    text = _flat(shown(small_noisy, notices=True))  # as `prudent show` asks
    assert f"Notices of the fit ({len(notices)}" in text
    for notice in notices:  # before, show printed none of them but the skipped families
        assert _flat(notice).removeprefix("WARNING ") in text, notice
    warning = next(n for n in notices if n.startswith("WARNING"))
    assert "• WARNING " + _flat(warning).removeprefix("WARNING ") in text


def _at(lines: list[str], start: str) -> tuple[int, str]:
    """The first line that starts with ``start`` and what follows, unwrapped."""
    found = next(i for i, line in enumerate(lines) if line.startswith(start))
    return found, _flat(" ".join(lines[found:]))


def test_cautions_and_warnings_are_printed_beside_what_they_qualify(
    small_noisy: dict[str, Any],
) -> None:
    """Even without the notices (``prudent fit`` printed them as they came): a caution
    under the promises, the label audit's warning under its line."""
    notices = small_noisy["notices"]
    caution = next(n for n in notices if n.startswith("Caution:"))
    warning = next(n for n in notices if n.startswith("WARNING Label audit"))
    lines = shown(small_noisy).splitlines()
    after, text = _at(lines, "• Caution:")
    assert _at(lines, "Promises, checked")[0] < after < _at(lines, "Unknown values")[0]
    assert text.startswith("• " + _flat(caution)[:60])
    audit, _ = _at(lines, "Label audit:")
    assert _at(lines[audit + 1 :], "")[1].startswith("• " + _flat(warning)[:70])
    assert not any(line.startswith("Notices of the fit") for line in lines)


def test_the_unknown_values_check_is_said(small_noisy: dict[str, Any]) -> None:
    seen = small_noisy["training_values"]
    flagged = f"{seen['test_rows_flagged']} of {seen['test_rows']} locked-test rows flagged"
    assert flagged in _flat(shown(small_noisy))  # before, only the Python summary said it
