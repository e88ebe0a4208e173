"""``prudent quickstart`` for real: the shipped iris data shows a rule, review and OOD at work."""

from __future__ import annotations

from pathlib import Path

from prudent.data import read_table
from tests.fixtures import run_cli


def test_quickstart_shows_a_rule_a_decision_mix_and_flagged_rows(tmp_path: Path) -> None:
    out = tmp_path / "q"
    done = run_cli("quickstart", "--out", out, "--time-limit", "20")
    assert done.returncode == 0, done.stderr[-2000:]
    new = read_table(out / "new.csv")
    predictions = read_table(out / "predictions.csv")
    assert len(predictions) == len(new) == 18
    # the rule decides exactly the in-range rows with petals under 2.5 cm (setosa's), as setosa
    short = (new["petal_length_(cm)"] < 2.5).to_numpy()
    by_rule = (predictions["decision"] == "rule").to_numpy()
    assert by_rule.any() and (by_rule == short).all()
    assert set(predictions.loc[by_rule, "prediction"]) == {"setosa"}
    # the three rows typed in millimetres are flagged and not accepted; the others are not
    flagged = predictions["is_ood"].astype(bool).to_numpy()
    assert flagged[-3:].all() and not flagged[:-3].any()
    assert not (predictions["decision"].iloc[-3:] == "accept").any()
    # the model accepts some rows: a decision mix, not all review
    assert (predictions["decision"] == "accept").sum() >= 5
    for shown in ("report.html", "predictions.csv", "out of distribution: 3 of 18", "/review"):
        assert shown in done.stdout + done.stderr, shown
    assert (out / "model" / "report.html").stat().st_size > 10_000


def test_quickstart_help_names_every_shipped_example() -> None:
    """The help listed four datasets while the error for a fifth name listed five."""
    from prudent.data._datasets import EXAMPLES

    shown = " ".join(run_cli("quickstart", "--help").stdout.split())
    assert all(name in shown for name in EXAMPLES), shown
