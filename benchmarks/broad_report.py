"""Tables and target verdicts of the broad benchmark (rich tables; plain dicts for the JSON)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks.broad_run import check_promises

__all__ = ["REVIEW_BUDGET", "means", "print_part", "print_speed", "targets"]

REVIEW_BUDGET = 0.20
"""Largest share of in-distribution test rows sent to review that counts as useful, unless the
bundle promises its own review budget (a promise whose name mentions review, "≤ x")."""
IMBALANCED = 0.5
"""A dataset is imbalanced when its smallest class holds less than this share of 1/k."""

REFS = ("lightgbm", "lightgbm_balanced", "lightgbm_temperature", "logistic", "majority")


def _ok(results: dict[str, Any]) -> dict[str, Any]:
    return {n: r for n, r in results.items() if r.get("prudent", {}).get("status") == "ok"}


def promises(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's promises checked on test.csv (recomputed: the rules may be newer than the
    cached result)."""
    p = r["prudent"]
    stated = {"trust": {"promises": p.get("promises_prudent_locked_test", [])}}
    return check_promises(stated, p["test"]) if "test" in p else []


def _mean(values: list[float]) -> float | None:
    vals = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(vals)) if vals else None


def means(results: dict[str, Any]) -> dict[str, Any]:
    """Means over the datasets where prudent finished (references on the same datasets)."""
    ok = _ok(results)
    out: dict[str, Any] = {"n_datasets": len(ok)}
    for metric in ("balanced_accuracy", "log_loss", "ece"):
        out[metric] = {"prudent": _mean([r["prudent"]["test"][metric] for r in ok.values()])}
        for ref in REFS:
            out[metric][ref] = _mean([r["references"][ref][metric] for r in ok.values()])
    out["ood_auroc"] = {
        "prudent": _mean([r["prudent"]["ood_auroc"] for r in ok.values()]),
        "knn": _mean([r["ood_references"]["knn"] for r in ok.values()]),
        "lightgbm_1_minus_max_prob": _mean(
            [r["ood_references"]["lightgbm_1_minus_max_prob"] for r in ok.values()]
        ),
    }
    out["fit_seconds"] = _mean([r["prudent"]["fit"]["seconds"] for r in ok.values()])
    out["review_share"] = _mean([r["prudent"]["test"]["review_share"] for r in ok.values()])
    out["coverage"] = _mean([r["prudent"]["test"]["coverage"] for r in ok.values()])
    return out


def _verdict(met: bool, figure: str) -> dict[str, Any]:
    return {"met": bool(met), "figure": figure}


def _review_budget(r: dict[str, Any]) -> float:
    for p in promises(r):
        if "review" in str(p["name"]).lower() and "≤" in str(p["promised"]):
            try:
                return float(str(p["promised"]).split("≤")[1].split()[0])
            except (IndexError, ValueError):
                pass
    return REVIEW_BUDGET


def _robustness(results: dict[str, Any], limit: float) -> dict[str, Any]:
    failed = {n: r["prudent"]["status"] for n, r in results.items()}
    crashed = {n: s for n, s in failed.items() if s in ("fit_failed", "predict_failed", "error")}
    fit = {n: r["prudent"]["fit"]["seconds"] for n, r in results.items() if "fit" in r["prudent"]}
    slow = {n: round(s) for n, s in fit.items() if s > 1.1 * limit}
    mb = {n: r["prudent"]["bundle_mb"] for n, r in results.items() if "bundle_mb" in r["prudent"]}
    big = {n: round(v, 1) for n, v in mb.items() if v > 50}
    return {
        "no_crash": _verdict(
            not crashed,
            f"{len(crashed)}/{len(results)} failed {crashed}; killed at the time cap (counted "
            f"under the budget): {[n for n, st in failed.items() if st == 'timeout']}",
        ),
        "fit_within_limit_plus_10pct": _verdict(
            not slow, f"max {max(fit.values(), default=0):.0f} s (limit {limit:.0f}); over: {slow}"
        ),
        "bundle_le_50mb": _verdict(
            not big, f"max {max(mb.values(), default=0):.1f} MB; over: {big}"
        ),
    }


def _calibration(ok: dict[str, Any]) -> dict[str, Any]:
    n = len(ok)
    mine = sum(r["prudent"]["test"]["ece_p"] >= 0.1 for r in ok.values())
    temp = sum(r["references"]["lightgbm_temperature"]["ece_p"] >= 0.1 for r in ok.values())
    worse = [
        n2
        for n2, r in ok.items()
        if (c := r["prudent"]["calibration"]).get("ece_after_holdout") is not None
        and c.get("ece_before_holdout") is not None
        and c["ece_after_holdout"] > c["ece_before_holdout"]
    ]
    return {
        "calibration_p_ge_0.1_on_90pct": _verdict(n > 0 and mine >= 0.9 * n, f"{mine}/{n}"),
        "calibration_ge_lightgbm_temperature": _verdict(
            mine >= temp, f"prudent {mine}/{n} vs LightGBM+T {temp}/{n}"
        ),
        "calibrator_never_worsens_holdout": _verdict(not worse, f"worsened on {worse}"),
    }


def _ood(ok: dict[str, Any]) -> dict[str, Any]:
    pairs = {n: (r["prudent"]["ood_auroc"], r["ood_references"]["knn"]) for n, r in ok.items()}
    close = sum(p >= k - 0.02 for p, k in pairs.values())
    low = {n: round(p, 3) for n, (p, k) in pairs.items() if p < 0.6 and k >= 0.75}
    mp = _mean([p for p, _ in pairs.values()]) or 0.0
    mk = _mean([k for _, k in pairs.values()]) or 0.0
    n = len(pairs)
    return {
        "ood_ge_knn_minus_0.02_on_90pct": _verdict(n > 0 and close >= 0.9 * n, f"{close}/{n}"),
        "ood_mean_ge_knn_mean": _verdict(mp >= mk, f"{mp:.3f} vs k-NN {mk:.3f}"),
        "ood_none_below_0.6_where_knn_0.75": _verdict(not low, f"below: {low}"),
    }


def _accuracy(ok: dict[str, Any]) -> dict[str, Any]:
    m = means(ok)
    ba, ll = m["balanced_accuracy"], m["log_loss"]
    if not ok:
        return {}
    best_ll = min(ll["lightgbm"], ll["logistic"])
    imb = {
        n: (
            r["prudent"]["test"]["balanced_accuracy"],
            r["references"]["lightgbm_balanced"]["balanced_accuracy"],
        )
        for n, r in ok.items()
        if r["minority_share"] < IMBALANCED / r["classes"]
    }
    short = {n: f"{a:.3f}<{b:.3f}" for n, (a, b) in imb.items() if a < b}
    return {
        "mean_balanced_accuracy_ge_lightgbm": _verdict(
            ba["prudent"] >= ba["lightgbm"], f"{ba['prudent']:.3f} vs {ba['lightgbm']:.3f}"
        ),
        "mean_balanced_accuracy_ge_logistic": _verdict(
            ba["prudent"] >= ba["logistic"], f"{ba['prudent']:.3f} vs {ba['logistic']:.3f}"
        ),
        "mean_log_loss_le_better_of_two": _verdict(
            ll["prudent"] <= best_ll, f"{ll['prudent']:.3f} vs {best_ll:.3f}"
        ),
        "minority_ba_ge_lightgbm_balanced": _verdict(
            not short, f"{len(imb) - len(short)}/{len(imb)} imbalanced; short: {short}"
        ),
    }


def _share_se(r: dict[str, Any]) -> float:
    """The standard error of the test's review share at the budget, for its test size."""
    b = _review_budget(r)
    return math.sqrt(b * (1 - b) / max(int(r["meta"]["n_test"]), 1))


def _policy(ok: dict[str, Any]) -> dict[str, Any]:
    over = {
        n: round(r["prudent"]["test"]["review_share"], 3)
        for n, r in ok.items()
        if r["prudent"]["test"]["review_share"] > _review_budget(r)
    }
    # the bundle promises the budget "kept within 2 standard errors" of a test sample's share
    beyond = {n: s for n, s in over.items() if s > _review_budget(ok[n]) + 2 * _share_se(ok[n])}
    pairs = [p["kept"] for r in ok.values() for p in promises(r) if p["kept"] is not None]
    kept = sum(pairs)
    broken = {n: [p["name"] for p in promises(r) if p["kept"] is False] for n, r in ok.items()}
    bugs = {
        n: len(r["prudent"]["bug_warnings"]) for n, r in ok.items() if r["prudent"]["bug_warnings"]
    }
    return {
        "review_share_within_budget": _verdict(
            not over,
            f"{len(ok) - len(over)}/{len(ok)} within; over: {over}; "
            f"over by more than 2 standard errors: {beyond}",
        ),
        "promises_kept_95pct": _verdict(
            bool(pairs) and kept >= 0.95 * len(pairs),
            f"{kept}/{len(pairs)}; broken: { {k: v for k, v in broken.items() if v} }",
        ),
        "no_bug_warnings": _verdict(not bugs, f"warnings: {bugs}"),
    }


def targets(results: dict[str, Any], limit: float) -> dict[str, Any]:
    """Every target of issue 8's "Required 2" with its verdict and the figure behind it."""
    ok = _ok(results)
    return _robustness(results, limit) | _calibration(ok) | _ood(ok) | _accuracy(ok) | _policy(ok)


# ------------------------------------------------------------------------------ printing


def _f(v: Any, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _quality_row(n: str, r: dict[str, Any]) -> list[str]:
    p, ref = r["prudent"], r.get("references", {})
    te = p.get("test", {})

    def g(model: str, key: str, digits: int = 3) -> str:
        return _f(ref.get(model, {}).get(key), digits)

    return [
        n,
        p["status"],
        _f(te.get("balanced_accuracy")),
        g("lightgbm", "balanced_accuracy"),
        g("lightgbm_balanced", "balanced_accuracy"),
        g("logistic", "balanced_accuracy"),
        _f(te.get("log_loss")),
        g("lightgbm", "log_loss"),
        g("lightgbm_temperature", "log_loss"),
        g("logistic", "log_loss"),
        f"{_f(te.get('ece'))}({_f(te.get('ece_p'), 2)})",
        f"{g('lightgbm_temperature', 'ece')}({g('lightgbm_temperature', 'ece_p', 2)})",
    ]


def _quality_table(title: str, results: dict[str, Any], m: dict[str, Any]) -> Table:
    t = Table(title=title)
    heads = (
        "dataset",
        "status",
        "BA",
        "BAlgb",
        "BAbal",
        "BAlog",
        "LL",
        "LLlgb",
        "LLlgbT",
        "LLlog",
        "ECE(p)",
        "ECE_T(p)",
    )
    for h in heads:
        t.add_column(h, justify="left" if h in ("dataset", "status") else "right")
    for n, r in results.items():
        t.add_row(*_quality_row(n, r))
    ba, ll, ece = m.get("balanced_accuracy", {}), m.get("log_loss", {}), m.get("ece", {})
    t.add_row(
        f"MEAN ({m['n_datasets']})",
        "",
        _f(ba.get("prudent")),
        _f(ba.get("lightgbm")),
        _f(ba.get("lightgbm_balanced")),
        _f(ba.get("logistic")),
        _f(ll.get("prudent")),
        _f(ll.get("lightgbm")),
        _f(ll.get("lightgbm_temperature")),
        _f(ll.get("logistic")),
        _f(ece.get("prudent")),
        _f(ece.get("lightgbm_temperature")),
    )
    return t


def _trust_row(n: str, r: dict[str, Any], limit: float) -> list[str]:
    p, o = r["prudent"], r.get("ood_references", {})
    te = p.get("test", {})
    dec = te.get("decisions", {})
    total = max(1, sum(dec.values()))
    checked = promises(r)
    promise = next((pr["promised"] for pr in checked if "accepted" in pr["name"]), "")
    kept = [pr["kept"] for pr in checked if pr["kept"] is not None]
    fit = p.get("fit", {})
    return [
        n,
        _f(p.get("ood_auroc")),
        _f(o.get("knn")),
        _f(o.get("lightgbm_1_minus_max_prob")),
        f"{dec.get('accept', 0) / total:.0%}",
        f"{dec.get('review', 0) / total:.0%}",
        f"{_f(te.get('accepted_accuracy'))} {promise.split('(')[0].strip()}",
        f"{sum(kept)}/{len(kept)}" if kept else "-",
        f"{fit.get('seconds', 0):.0f} ({p.get('fit_seconds_manifest') or 0:.0f})/{limit:.0f}"
        f" [{fit.get('load_before', 0):.1f}]",
        _f(p.get("bundle_mb"), 1),
        _f(p.get("predict_rows_per_s"), 0),
    ]


def _trust_table(title: str, results: dict[str, Any], m: dict[str, Any], limit: float) -> Table:
    t = Table(title=title)
    for h in (
        "dataset",
        "OOD",
        "kNN",
        "1-MP",
        "accept",
        "review",
        "acc accepted (promise)",
        "promises kept",
        "fit wall (own) s/limit [load]",
        "MB",
        "rows/s",
    ):
        t.add_column(h, justify="left" if h == "dataset" else "right")
    for n, r in results.items():
        t.add_row(*_trust_row(n, r, limit))
    o = m.get("ood_auroc", {})
    t.add_row(
        f"MEAN ({m['n_datasets']})",
        _f(o.get("prudent")),
        _f(o.get("knn")),
        _f(o.get("lightgbm_1_minus_max_prob")),
        _f(m.get("coverage"), 2),
        _f(m.get("review_share"), 2),
        "",
        "",
        _f(m.get("fit_seconds"), 0),
        "",
        "",
    )
    return t


def _targets_table(title: str, verdicts: dict[str, Any]) -> Table:
    t = Table(title=title)
    for h in ("target", "verdict", "figure"):
        t.add_column(h)
    for name, v in verdicts.items():
        t.add_row(name, "met" if v["met"] else "NOT MET", v["figure"])
    return t


def print_part(part: str, results: dict[str, Any], summary: dict[str, Any], limit: float) -> None:
    """Print the per-dataset tables (with means) and the targets of one part."""
    console = Console(width=200)
    m = summary["means"]
    console.print(_quality_table(f"{part}: accuracy and calibration (test.csv)", results, m))
    console.print(_trust_table(f"{part}: OOD, decisions, promises, cost", results, m, limit))
    console.print(_targets_table(f"{part}: targets (issue 8, Required 2)", summary["targets"]))


def print_speed(speed: dict[str, Any]) -> None:
    """Print the predict-speed measurements (Required 3)."""
    console = Console(width=200)
    t = Table(title="predict speed (Required 3)")
    for h in ("dataset", "rows", "CLI rows/s", "guarded/primary", "stages (s)", "largest costs"):
        t.add_column(h)
    for name, s in speed.items():
        if "error" in s:
            t.add_row(name, "-", "-", "-", s["error"])
            continue
        stages = ", ".join(f"{k} {v:.2f}" for k, v in s["stages_seconds"].items())
        t.add_row(
            name,
            str(s["rows"]),
            f"{s['cli_rows_per_s']:.0f}",
            f"{s['guarded_over_primary']:.2f}",
            stages,
            "; ".join(s.get("largest_costs", [])),
        )
    console.print(t)
