"""One dataset of the broad benchmark: prudent through its real CLI, the references, the scores.

``prudent fit train.csv --target T --time-limit L --seed 0 [--text C ...]`` and ``prudent
predict`` on test.csv and on ood.csv (target removed) run as subprocesses of this interpreter
(``python -m prudent.cli``, the repository first on ``PYTHONPATH``); wall times include process
start and the bundle save. A fit still running at ``KILL_FACTOR`` x the limit (at least the
limit + 120 s) is killed and recorded; a non-zero exit is recorded with its last line. Nothing
of prudent's failure stops the benchmark.

Promises are read from the bundle's manifest and checked on test.csv, each within two standard
errors of the promised rate at the measured sample size (the tolerance prudent states):
accuracy of accepted rows (at the accepted count), coverage (one-sided, at least the promised
share), conformal coverage, the OOD false-positive rate, a review share (at most), calibration
(consistency test p >= 0.1). A promise of another kind is listed as unchecked; a figure the
manifest states without a verdict of its own (kept: null, e.g. the coverage seen on validation)
is measured but not counted as a promise.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from benchmarks.broad_data import Task
from benchmarks.broad_refs import reference_ood, reference_probas
from prudent.metrics import ece_consistency_test, expected_calibration_error, log_loss

__all__ = ["KILL_FACTOR", "cli", "run_dataset", "scores"]

ROOT = Path(__file__).resolve().parent.parent
KILL_FACTOR = 3.0
PREDICT_TIMEOUT = 900.0
SEED = 0


def cli(args: list[str], timeout: float, cwd: Path) -> dict[str, Any]:
    """Run ``prudent <args>`` as a new process; its wall and CPU time (user + system of the
    process and its children: less sensitive to a shared machine's load), the 1-minute load
    average before and after, exit code and output tail."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    load = os.getloadavg()[0]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "prudent.cli", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        rc, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out, err = None, _text(exc.stdout), _text(exc.stderr)
    seconds = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    lines = [ln for ln in (err or out or "").strip().splitlines() if ln.strip()]
    return {
        "rc": rc,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "load_before": load,
        "load_after": os.getloadavg()[0],
        "last_line": lines[-1] if lines else "",
        "timed_out": rc is None,
        "internal_error": "internal error" in (err or "") + (out or ""),
    }


def _text(raw: bytes | str | None) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else (raw or "")


def scores(y: np.ndarray, P: np.ndarray, pred: np.ndarray | None = None) -> dict[str, float]:
    """Balanced accuracy (of ``pred``, else the argmax), log loss, top-label ECE and its
    consistency-test p-value."""
    hard = P.argmax(1) if pred is None else pred
    ok = P.argmax(1) == y
    return {
        "balanced_accuracy": float(balanced_accuracy_score(y, hard)),
        "log_loss": float(log_loss(y, P)),
        "ece": float(expected_calibration_error(y, P)),
        "ece_p": float(ece_consistency_test(P.max(1), ok, seed=SEED).p_value),
    }


def _auroc(score_in: np.ndarray, score_out: np.ndarray) -> float:
    labels = np.r_[np.zeros(len(score_in)), np.ones(len(score_out))]
    return float(roc_auc_score(labels, np.r_[score_in, score_out]))


# ---------------------------------------------------------------------------- promises


def _number(text: str, sign: str) -> float | None:
    found = re.search(sign + r"\s*([0-9]*\.?[0-9]+)", text)
    return float(found.group(1)) if found else None


def _two_se(p: float, n: int) -> float:
    return 2.0 * float(np.sqrt(p * (1 - p) / max(n, 1)))


def _check(name: str, promised: str, t: dict[str, Any]) -> tuple[bool | None, str]:
    """Is one promise kept on the test rows ``t`` (see the module docstring)?"""
    low, n = name.lower(), t["n"]
    at_least, at_most = _number(promised, "≥"), _number(promised, "≤")
    if "calibration" in low:
        return t["ece_p"] >= 0.1, f"p={t['ece_p']:.2f}"
    if "accepted" in low and "accuracy" in low and at_least is not None:
        if t["n_accepted"] == 0:
            return None, "nothing accepted"
        tol = _two_se(at_least, t["n_accepted"])
        return t["accepted_accuracy"] >= at_least - tol, f"{t['accepted_accuracy']:.3f}"
    if "coverage (share" in low or low.startswith("coverage"):
        promised_cov = at_least if at_least is not None else _number(promised, "")
        if promised_cov is None:
            return None, "unparsed"
        return t["coverage"] >= promised_cov - _two_se(promised_cov, n), f"{t['coverage']:.3f}"
    if "conformal" in low and at_least is not None:
        return t["set_coverage"] >= at_least - _two_se(at_least, n), f"{t['set_coverage']:.3f}"
    if "ood" in low and at_most is not None:
        return t["ood_fpr"] <= at_most + _two_se(at_most, n), f"{t['ood_fpr']:.3f}"
    if "review" in low and at_most is not None:
        share = t["review_share"]
        return share <= at_most + _two_se(at_most, n), f"{share:.3f}"
    return None, "unchecked"


def check_promises(manifest: dict[str, Any], t: dict[str, Any]) -> list[dict[str, Any]]:
    """Every promise of the manifest with the benchmark's own verdict on test.csv."""
    out = []
    for p in manifest.get("trust", {}).get("promises", []):
        kept, measured = _check(str(p["name"]), str(p["promised"]), t)
        if "kept" in p and p["kept"] is None:
            kept = None  # stated without a verdict (e.g. coverage on validation): not a promise
        out.append(
            {"name": p["name"], "promised": p["promised"], "measured": measured, "kept": kept}
        )
    return out


# ------------------------------------------------------------------------- prudent's run


def _proba(out: pd.DataFrame, classes: list[str]) -> np.ndarray:
    cols = {str(c).removeprefix("proba_"): c for c in out.columns if str(c).startswith("proba_")}
    P = np.zeros((len(out), len(classes)))
    for j, c in enumerate(classes):
        if c in cols:
            P[:, j] = out[cols[c]].to_numpy(dtype=float)
    return P


def _test_facts(out: pd.DataFrame, truth: pd.Series, classes: list[str]) -> dict[str, Any]:
    y = pd.Index(classes).get_indexer(truth)
    P = _proba(out, classes)
    pred = pd.Index(classes).get_indexer(out["prediction"].astype(str))
    decision = out["decision"].astype(str)
    accepted = (decision == "accept").to_numpy()
    right = pred == y
    sets = out["prediction_set"].map(lambda s: set(map(str, json.loads(s))))
    facts = scores(y, P, pred) | {
        "n": len(out),
        "n_accepted": int(accepted.sum()),
        "accepted_accuracy": float(right[accepted].mean()) if accepted.any() else None,
        "coverage": float(accepted.mean()),
        "review_share": float((decision == "review").mean()),
        "decisions": {str(k): int(v) for k, v in decision.value_counts().items()},
        "set_coverage": float(np.mean([t in s for t, s in zip(truth, sets, strict=True)])),
        "ood_fpr": float(out["is_ood"].astype(str).str.lower().eq("true").mean()),
    }
    return facts


def _dir_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def _prudent(task: Task, work: Path, limit: float, kill: float | None) -> dict[str, Any]:
    """Fit and predict with the CLI; the facts measured on test and OOD rows."""
    work.mkdir(parents=True, exist_ok=True)
    ood_x = work / "ood_features.csv"
    task.frame("ood").drop(columns=task.target).to_csv(ood_x, index=False)
    text = [a for c in task.meta.get("text_columns", []) for a in ("--text", c)]
    bundle = work / "bundle"
    args = ["fit", str(task.folder / "train.csv"), "--target", task.target, "--out", str(bundle)]
    shutil.rmtree(bundle, ignore_errors=True)
    kill = kill or max(KILL_FACTOR * limit, limit + 120)
    fit = cli([*args, "--time-limit", str(limit), "--seed", str(SEED), *text], kill, work)
    res: dict[str, Any] = {"fit": fit, "status": "ok"}
    if fit["rc"] != 0:
        res["status"] = "timeout" if fit["timed_out"] else "fit_failed"
        return res
    manifest = json.loads((bundle / "manifest.json").read_text())
    res["bundle_mb"] = _dir_mb(bundle)
    res["model_mb"] = (bundle / "model.skops").stat().st_size / 1e6
    outs = {}
    for part, path in (("test", task.folder / "test.csv"), ("ood", ood_x)):
        run = cli(
            ["predict", str(bundle), str(path), "--out", str(work / f"pred_{part}.csv")],
            PREDICT_TIMEOUT,
            work,
        )
        res[f"predict_{part}"] = run
        if run["rc"] != 0:
            res["status"] = "predict_failed"
            return res
        outs[part] = pd.read_csv(work / f"pred_{part}.csv", dtype={"prediction": str})
    res |= _from_outputs(task, manifest, outs)
    return res


def _from_outputs(
    task: Task, manifest: dict[str, Any], outs: dict[str, pd.DataFrame]
) -> dict[str, Any]:
    test = task.frame("test")
    facts = _test_facts(outs["test"], test[task.target].astype(str), task.classes)
    notices = [str(n) for n in manifest.get("notices", [])]
    cal = manifest.get("trust", {}).get("calibration", {})
    return {
        "test": facts,
        "ood_auroc": _auroc(
            outs["test"]["ood_score"].to_numpy(), outs["ood"]["ood_score"].to_numpy()
        ),
        "ood_rows_not_accepted": float((outs["ood"]["decision"].astype(str) != "accept").mean()),
        "promises": check_promises(manifest, facts),
        "promises_prudent_locked_test": manifest.get("trust", {}).get("promises", []),
        "chosen": manifest.get("chosen"),
        "calibration": {
            k: cal.get(k) for k in ("method", "ece_before_holdout", "ece_after_holdout")
        },
        "bug_warnings": [n for n in notices if "bug" in n.lower() and "warning" in n.lower()],
        "notices": notices,
        "fit_seconds_manifest": manifest.get("fit_seconds"),
    }


def run_dataset(task: Task, work: Path, limit: float, kill: float | None = None) -> dict[str, Any]:
    """prudent and every reference on one dataset."""
    train, test, ood = task.frame("train"), task.frame("test"), task.frame("ood")
    classes = task.classes
    y_train = pd.Index(classes).get_indexer(train[task.target].astype(str))
    y_test = pd.Index(classes).get_indexer(test[task.target].astype(str))
    counts = np.bincount(y_train, minlength=len(classes))
    res: dict[str, Any] = {
        "meta": {k: task.meta.get(k) for k in ("task", "ood_kind", "n_train", "n_test", "n_ood")},
        "classes": len(classes),
        "minority_share": float(counts.min() / counts.sum()),
        "prudent": _prudent(task, work, limit, kill),
    }
    p = res["prudent"]
    if p["status"] == "ok":
        p["predict_rows_per_s"] = p["test"]["n"] / p["predict_test"]["seconds"]
    frames = {"test": test.drop(columns=task.target), "ood": ood.drop(columns=task.target)}
    probas = reference_probas(task, train, y_train, frames)
    res["references"] = {name: scores(y_test, P) for name, P in probas["test"].items()}
    knn_in, knn_out = reference_ood(task, train, test.drop(columns=task.target), frames["ood"])
    lgb_in, lgb_out = probas["test"]["lightgbm"], probas["ood"]["lightgbm"]
    res["ood_references"] = {
        "knn": _auroc(knn_in, knn_out),
        "lightgbm_1_minus_max_prob": _auroc(1 - lgb_in.max(1), 1 - lgb_out.max(1)),
    }
    return res
