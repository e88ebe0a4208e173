"""``benchmarks.bench_predict.ratio_verdict``: the guarded / primary target's verdict."""

from __future__ import annotations

from benchmarks.bench_predict import ratio_verdict

PARTS = {"validate": 0.06, "backup": 0.1, "ood_features": 0.1, "rest": 0.33}


def _speed(primary: float, ood_score: float, ratio: float) -> dict[str, object]:
    parts = PARTS | {"primary": primary, "ood_score": ood_score, "guarded": ratio * primary}
    return {"guarded_over_primary": ratio, "guarded_parts_seconds": parts}


def test_ratio_verdict_says_when_the_ood_check_alone_exceeds_twice_the_primary() -> None:
    got = ratio_verdict(_speed(primary=0.1, ood_score=0.44, ratio=11.0))
    assert got["ood_floor_over_primary"] == 6.4
    assert got["verdict"].startswith("not met (11.00x), and not reachable with a k-NN OOD check")
    assert "largest parts beside the primary: ood_score 0.44 s, rest 0.33 s" in got["verdict"]


def test_ratio_verdict_names_the_largest_parts_when_reachable_but_not_met() -> None:
    got = ratio_verdict(_speed(primary=2.0, ood_score=0.5, ratio=2.5))
    assert got["verdict"] == (
        "not met (2.50x); largest parts beside the primary: ood_score 0.50 s, rest 0.33 s, "
        "backup 0.10 s, ood_features 0.10 s, validate 0.06 s"
    )


def test_ratio_verdict_met_and_not_measured() -> None:
    assert ratio_verdict(_speed(primary=2.9, ood_score=0.56, ratio=1.37))["verdict"] == (
        "met: guarded 1.37x the primary's predict_proba"
    )
    assert ratio_verdict({"error": "prudent predict failed"})["verdict"] == "not measured"
