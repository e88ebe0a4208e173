"""Retrain and recalibrate: a challenger from the champion's spec, its data and the labels
that came back, registered under the ``challenger`` alias.

A bundle does not keep its training table (only up to 2,000 rows of its locked test set), so
the first retrain needs the original table (``data``); a retrained bundle records the path it
used in its manifest's ``retrain`` section, and the next retrain reads it from there.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from prudent._library import with_report
from prudent.bundle import Bundle, load, read_test_rows
from prudent.bundle._retune import ARTIFACTS, read_arrays, write_arrays
from prudent.bundle._test_rows import LABEL_COLUMN, inputs_of
from prudent.data import Role, input_columns, read_table, validate_frame
from prudent.errors import ConfigError, DataError, SchemaError
from prudent.pipeline import FitSpec, Reporter, fit_table
from prudent.pipeline._promises import remeasure_locked_test
from prudent.retrain._feedback import (
    FeedbackIds,
    FeedbackParts,
    labelled_feedback,
    split_feedback,
    validated_keys,
)
from prudent.retrain._interface import interface_change
from prudent.retrain._recalibrate import Evidence, recalibrate_model
from prudent.retrain._records import Version
from prudent.retrain._registry import CHALLENGER, CHAMPION, Registry

__all__ = ["Retrained", "recalibrate", "retrain", "spec_of"]

_TUPLES = ("text", "categorical", "numeric", "drop", "candidates")


@dataclass
class Retrained:
    """What a retrain or recalibration registered, and what it learned from.

    Attributes
    ----------
    version, champion
        The version registered (alias ``challenger``) and the champion it comes from.
    counts
        The rows of each kind it learned from.
    notices
        What it did that the caller should know (also told to the reporter when one is given).
    needs_force
        Its target, classes or inputs differ from the champion's: the promotion gate cannot
        compare them, and only a forced promotion moves it.
    """

    version: Version
    champion: Version
    counts: dict[str, int]
    notices: list[str] = field(default_factory=list)
    needs_force: bool = False


def spec_of(bundle: Bundle, time_limit: float | None = None) -> FitSpec:
    """The champion's :class:`FitSpec`, with every column's role pinned to its schema's."""
    stored = dict(bundle.manifest["spec"])
    for key in _TUPLES:
        if stored.get(key) is not None:
            stored[key] = tuple(stored[key])
    if stored.get("costs") is not None:
        stored["costs"] = tuple(tuple(row) for row in stored["costs"])
    roles = {r: tuple(bundle.schema.names(r)) for r in (Role.text, Role.categorical)}
    stored |= {"text": roles[Role.text], "categorical": roles[Role.categorical]}
    stored["numeric"] = tuple(bundle.schema.names(Role.numeric))
    stored["drop"] = tuple(c.name for c in bundle.schema.columns if c not in bundle.schema.features)
    rules = bundle.extras.get("rules.yaml")
    stored["rules"] = rules.decode() if rules else None
    if time_limit is not None:
        stored["time_limit"] = time_limit
    return FitSpec(**stored)


def _test_keys(bundle: Bundle) -> np.ndarray[Any, Any]:
    rows = read_test_rows(bundle.extras)
    if rows is None:
        return np.array([], dtype=np.uint64)
    return validated_keys(rows[bundle.schema.feature_names], bundle.schema)


def _data_path(champion: Bundle, data: Path | None) -> Path:
    if data is not None:
        return data
    recorded = champion.manifest.get("retrain", {}).get("data")
    if recorded and Path(recorded).is_file():
        return Path(recorded)
    raise ConfigError(
        "The champion's bundle does not keep its training table"
        + (f" and its recorded table '{recorded}' is gone" if recorded else "")
        + "; pass the original training table with --data."
    )


def _original_rows(champion: Bundle, data: Path, encoding: str) -> tuple[pd.DataFrame, str | None]:
    """The original table, with the champion's columns in its order: refused when it lacks
    the target or an input (a refit would learn that input as missing on every original row),
    and left without the columns the champion does not take (a retrain keeps its inputs; the
    notice says which)."""
    schema = champion.schema
    frame = read_table(data, encoding=encoding, text=(schema.target,), strings=schema.string_names)
    if schema.target not in frame.columns:
        raise DataError(
            f"'{data}' has no column '{schema.target}', the champion's target; pass the table "
            "it was trained on."
        )
    absent = input_columns(list(frame.columns), schema).absent
    if absent:
        raise SchemaError(
            f"'{data}' has no column {_names(absent)}, an input of the champion; a retrain "
            "keeps the champion's inputs, and refitting would learn it as missing on every "
            "original row: pass the table it was trained on, or fit a new bundle without it "
            "(prudent fit).",
            field=absent[0],
        )
    names = [c.name for c in schema.columns]
    extra = [str(c) for c in frame.columns if c not in {*names, schema.target}]
    notice = None
    if extra:
        notice = (
            f"Column(s) {_names(extra)} of '{data}' left out: the champion does not take them "
            "and a retrain keeps its inputs (fit a new bundle to use them)."
        )
    return frame.reindex(columns=[*names, schema.target]), notice


def _told(reporter: Reporter | None, *notices: str | None) -> list[str]:
    """The notices given (``None`` is none), each told to ``reporter`` too."""
    given = [n for n in notices if n]
    for notice in given:
        if reporter is not None:
            reporter.notice(notice)
    return given


def _names(columns: Sequence[str]) -> str:
    return ", ".join(f"'{c}'" for c in columns)


def _training_table(
    champion: Bundle, frame: pd.DataFrame, fit_rows: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The original rows and the feedback rows; feedback replaces original rows with the same
    inputs, and no row with the inputs of a row of the champion's locked test set is kept (the
    gate compares the two models on it). Columns that the feedback's Python objects made
    ``object`` take their values' type again (ages int64, notes str), so that the challenger's
    schema keeps the champion's types and the service can swap it in."""
    schema, names = champion.schema, champion.schema.feature_names
    feedback = fit_rows[[*names, schema.target]]
    test, keys = _test_keys(champion), validated_keys(feedback, schema)
    original = validated_keys(frame, schema)
    replaced = np.isin(original, keys)  # the same inputs labelled again: the feedback wins
    keep = ~replaced & ~np.isin(original, test), ~np.isin(keys, test)
    counts = {
        "original_rows": len(frame), "feedback_fit_rows": len(fit_rows),
        "original_rows_relabelled": int(replaced.sum()),
        "test_rows_dropped": int((~replaced).sum() - keep[0].sum() + (~keep[1]).sum()),
    }  # fmt: skip
    table = pd.concat([frame[keep[0]], feedback[keep[1]]], ignore_index=True)
    return table[frame.columns].infer_objects(), counts


def _parts(champion: Bundle, log_url: str, since: datetime | None, share: float) -> FeedbackParts:
    rows = labelled_feedback(log_url, champion.schema, champion.classes, since)
    used = rows.index.astype(str).isin(FeedbackIds.of(champion.manifest).used)
    parts = split_feedback(rows[~used], share)
    return replace(parts, fit=pd.concat([rows[used], parts.fit]))


def _no_feedback_notice(parts: FeedbackParts, since: datetime | None) -> str | None:
    """One line when the log holds no labelled prediction to learn from (in the window): the
    challenger is then the champion's own table fitted again, which a user who expected the
    labels to count should know before reading its counts."""
    if len(parts.fit) + len(parts.calibration) + len(parts.gate):
        return None
    window = f" made since {since.isoformat()}" if since is not None else ""
    return (
        f"The log holds no labelled prediction{window}: the challenger is fitted on the "
        "original table alone; label predictions first (prudent feedback, the review "
        "queue) for a retrain to learn from them."
    )


def _encoded(bundle: Bundle, labels: pd.Series) -> np.ndarray[Any, np.dtype[np.int64]]:
    index = {str(c): i for i, c in enumerate(bundle.model.classes)}
    return np.array([index[str(v)] for v in labels], dtype=np.int64)


def _recalibrate(
    bundle: Bundle, rows: pd.DataFrame, spec: FitSpec, evidence: Evidence | None
) -> str | None:
    """Refit the calibrators and thresholds on ``rows`` (and ``evidence``); a reason when
    they are kept."""
    labels = rows[spec.target].astype(str)
    unknown = ~labels.isin(list(map(str, bundle.model.classes)))
    if unknown.any():
        return (
            f"Calibration and thresholds kept from the fit: {unknown.sum()} of the {len(rows)} "
            f"recent labelled rows are of class(es) {_names(sorted(set(labels[unknown])))}, "
            "which the new model does not have."
        )
    X, _ = validate_frame(rows[bundle.schema.feature_names], bundle.schema)
    y = _encoded(bundle, rows[spec.target])
    try:
        model, info = recalibrate_model(bundle.model, X, y, spec, evidence)
    except DataError as exc:
        return f"Calibration and thresholds kept from the fit: {exc}"
    bundle.model = model
    measured = _remeasure(bundle, spec, info)
    notice = (
        f"Calibration and thresholds refitted on {len(rows)} recent labelled rows"
        + ("" if evidence is None else " with the fit's held-out rows")
        + " after the fit; "
        + (
            "the test metrics above were measured before."
            if measured is None
            else f"the promises and the locked test's figures were measured again on {measured}."
        )
    )
    bundle.manifest |= bundle.evidence.with_trust(info, notice).to_manifest()
    return None


def _remeasure(bundle: Bundle, spec: FitSpec, info: dict[str, Any]) -> str | None:
    """Measure the recalibrated model again on the locked-test rows the bundle keeps: its
    scores, promises, test section and test arrays (``info`` gains the sections, the
    manifest and the bundle's arrays the rest). Returns which rows, or None when the bundle
    keeps none (its figures are then the fit's, and the notice says so)."""
    rows = read_test_rows(bundle.extras)
    if rows is None or not len(rows):
        return None
    X, _ = validate_frame(inputs_of(rows), bundle.schema)
    y = rows[LABEL_COLUMN].to_numpy(dtype=np.int64)
    trust = bundle.manifest.get("trust", {})
    measured = remeasure_locked_test(bundle.model, spec, trust | info, X, y)
    test = dict(trust.get("test") or {}) | measured.sections["test"]
    test["ood"] = dict((trust.get("test") or {}).get("ood") or {}) | test.get("ood", {})
    info |= measured.sections | {"test": test}
    final = bundle.manifest.get("test_metrics", {})
    bundle.manifest["test_metrics"] = final | {"final": measured.test_metrics["final"]}
    arrays = read_arrays(bundle.extras[ARTIFACTS]) if ARTIFACTS in bundle.extras else {}
    total = arrays.get("evidence_rows_total")
    whole = len(y) if total is None or len(total) < 2 else max(int(total[1]), len(y))
    if total is not None and len(total) >= 2:
        total = np.asarray(total).copy()
        total[1] = whole
        arrays["evidence_rows_total"] = total
    arrays.pop("evidence_test_rows", None)  # the kept rows replace the ones drawn
    arrays.pop("test_rule_index", None)
    bundle.extras = {k: v for k, v in bundle.extras.items() if k != "report.html"}
    bundle.extras[ARTIFACTS] = write_arrays(arrays | measured.artifacts)
    return (
        "its locked test rows"
        if whole == len(y)
        else f"the {len(y)} of its {whole} locked test rows it keeps"
    )


def _register(
    registry: Registry, bundle: Bundle, section: dict[str, Any], by: str, reason: str
) -> Version:
    """Register ``bundle`` and move the challenger alias to it: the last step, once every
    check passed, so that a failed retrain leaves no version behind. A new challenger
    replaces the previous one whatever its classes (forced, and so recorded, when they
    differ): the champion is the version it is compared with."""
    bundle.manifest["retrain"] = section
    bundle.manifest.pop("files", None)
    previous = registry.aliases().get(CHALLENGER)
    force = previous is not None and (
        interface_change(registry.version(previous).manifest(), bundle.manifest) is not None
    )
    with tempfile.TemporaryDirectory(prefix="prudent-retrain-") as tmp:
        bundle.save(Path(tmp) / "bundle")
        version = registry.register(Path(tmp) / "bundle", by=by, reason=reason)
    registry.promote(version.name, alias=CHALLENGER, by=by, reason=reason, force=force)
    return version


def _interface_notice(champion: Version, old: Bundle, new: Bundle) -> str | None:
    change = interface_change(old.manifest, new.manifest)
    if change is None:
        return None
    return (
        f"WARNING The challenger has other {change.part} than the champion {champion.name} "
        f"({change.detail()}); the gate cannot compare them: promoting it needs --force."
    )


def _section(
    kind: str, champion: Version, data: Path | None, since: datetime | None, parts: FeedbackParts
) -> dict[str, Any]:
    return {
        "kind": kind, "from": champion.name, "from_model": champion.model_version,
        "data": None if data is None else str(data.resolve()),
        "since": None if since is None else since.isoformat(),
        "feedback_ids": parts.ids(),
    }  # fmt: skip


def retrain(
    registry: Registry,
    log_url: str,
    *,
    by: str,
    data: Path | None = None,
    since: datetime | None = None,
    reason: str = "",
    time_limit: float | None = None,
    recent_share: float = 0.5,
    reporter: Reporter | None = None,
    encoding: str = "utf-8",
) -> Retrained:
    """Fit a challenger on the champion's data plus the labelled feedback; register it.

    The champion's spec is reused with its column roles pinned. The older feedback joins the
    training table (duplicates removed, the latest label winning, no row of the champion's
    locked test set kept); half of the recent feedback, with the fit's own held-out rows,
    recalibrates the challenger and sets its thresholds (recent rows alone may cover one
    region: on a drifted slice of hmda_mortgage they took the locked test ECE from 0.028 to
    0.125), the other half is kept for the promotion gate. The OOD detector is
    refitted by the fit, on the new training table.

    Parameters
    ----------
    registry
        The registry holding the champion.
    log_url
        The prediction log holding the labels.
    by, reason
        Who retrains and why (kept in the history).
    data
        The original training table; needed unless the champion records one.
    since
        Only feedback on predictions made at or after this time.
    time_limit
        Seconds for the fit (default: the champion's).
    recent_share
        The share of the feedback, newest first, kept out of the fit.
    reporter
        Where the fit's notices go.
    encoding
        The text encoding of a CSV ``data``.

    Returns
    -------
    Retrained
        The new version (alias ``challenger``) and what it learned from.

    Raises
    ------
    ConfigError
        No training table: the champion records none and ``data`` is not given.
    RegistryError
        No champion.
    """
    champion = registry.version(f"@{CHAMPION}")
    old = load(champion.path)
    spec = spec_of(old, time_limit)
    path = _data_path(old, data)
    frame, left_out = _original_rows(old, path, encoding)
    notices = _told(reporter, left_out)
    parts = _parts(old, log_url, since, recent_share)
    notices += _told(reporter, _no_feedback_notice(parts, since))
    table, counts = _training_table(old, frame, parts.fit)
    with threadpool_limits(limits=1):
        result = fit_table(table, spec, reporter=reporter)
    bundle = with_report(Bundle.from_fit(result))
    kept = None
    if len(parts.calibration):
        kept = _recalibrate(bundle, parts.calibration, spec, Evidence.from_bundle(bundle))
    changed = _interface_notice(champion, old, bundle)
    notices += _told(reporter, kept, changed)
    counts |= {"feedback_calibration_rows": len(parts.calibration), "gate_rows": len(parts.gate)}
    section = _section("retrain", champion, path, since, parts) | {"counts": counts}
    why = reason or f"retrained from {champion.name} with {len(parts.fit)} labelled rows"
    version = _register(registry, bundle, section, by, why)
    return Retrained(version, champion, counts, notices, needs_force=changed is not None)


def recalibrate(
    registry: Registry, log_url: str, *, by: str, since: datetime | None = None, reason: str = ""
) -> Retrained:
    """Register the champion with a new calibrator and thresholds fitted on recent labels.

    Half of the labelled feedback (alternate rows, oldest first; none the champion was fitted
    on) recalibrates; the other half is kept for the promotion gate.

    Raises
    ------
    DataError
        Too few recent labelled rows, or a class with too few.
    RegistryError
        No champion.
    """
    champion = registry.version(f"@{CHAMPION}")
    old = load(champion.path)
    spec = spec_of(old)
    parts = _parts(old, log_url, since, 1.0)
    manifest = {k: v for k, v in old.manifest.items() if k != "files"}
    extras = {k: v for k, v in old.extras.items() if k != "report.html"}
    bundle = with_report(Bundle(old.model, manifest, extras))
    problem = _recalibrate(bundle, parts.calibration, spec, None)
    if problem is not None:
        total = len(parts.calibration) + len(parts.gate)
        raise DataError(
            problem.replace("Calibration and thresholds kept from the fit: ", "")
            + f" It recalibrates on every other one of the {total} recent labelled rows and "
            "keeps the others for the promotion gate."
        )
    data = old.manifest.get("retrain", {}).get("data")
    section = _section("recalibrate", champion, None, since, parts) | {"data": data}
    section["counts"] = {"calibration_rows": len(parts.calibration), "gate_rows": len(parts.gate)}
    why = reason or f"recalibrated {champion.name} on {len(parts.calibration)} recent labels"
    return Retrained(_register(registry, bundle, section, by, why), champion, section["counts"])
