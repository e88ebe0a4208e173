"""A bundle: a directory that holds a fitted model, its manifest and its evidence.

Saving writes every file, then the manifest with a SHA-256 per file, then the
manifest's own hash. Loading checks the manifest's hash, every file's hash and every
path before parsing anything, checks the versions, and lets skops build only trusted
types: a tampered, truncated or foreign bundle is refused and no code from it runs.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from prudent.bundle._evidence import FitEvidence
from prudent.bundle._integrity import check_trusted_types, safe_member, sha256_file
from prudent.bundle._manifest import FORMAT_VERSION, build_manifest, running_versions
from prudent.bundle._summary import leaderboard_frame, one_line, summary_html, summary_text
from prudent.data import Schema, TableWriter, iter_table, table_format, validate_frame
from prudent.errors import (
    BundleError,
    BundleIntegrityError,
    BundleVersionError,
    ConfigError,
    DataError,
)
from prudent.models._decision_policy import parse_costs
from prudent.models._guarded import GuardedModel
from prudent.models._predictions import Predictions, output_columns

if TYPE_CHECKING:  # the fit is not loaded to predict (start-up of `prudent predict`)
    from prudent.pipeline import FitResult

__all__ = ["Bundle", "load"]

MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.sha256"
MODEL_FILE = "model.skops"


class Bundle:
    """A fitted prudent model with its manifest; predicts tables and files.

    Parameters
    ----------
    model
        The fitted guarded model.
    manifest
        The manifest dict (see ``prudent show``).
    extras
        Other files of the bundle: name → bytes (label audit, report, artifacts).
    path
        Where the bundle lies on disk, when it was saved or loaded.
    """

    def __init__(
        self,
        model: GuardedModel,
        manifest: dict[str, Any],
        extras: dict[str, bytes] | None = None,
        path: Path | None = None,
    ) -> None:
        self.model = model
        self.manifest = manifest
        self.extras = dict(extras or {})
        self.path = path
        self.schema = Schema.from_dict(manifest["schema"])
        self.renderer: Callable[[Bundle], str] | None = None
        """Renders the HTML fit report (set by the faces, which sit above the report)."""

    @classmethod
    def from_fit(cls, result: FitResult) -> Bundle:
        """Build an in-memory bundle from a fit."""
        extras = {"label_issues.csv": result.label_issues.to_csv(index=False).encode()}
        from prudent.bundle._retune import write_arrays

        extras["artifacts.npz"] = write_arrays(result.trust.artifacts)
        if result.test_frame is not None:
            evidence = io.BytesIO()
            result.test_frame.to_parquet(evidence, index=False)
            extras["test_rows.parquet"] = evidence.getvalue()
        if result.spec.rules:
            extras["rules.yaml"] = result.spec.rules.encode()
        return cls(result.model, build_manifest(result), extras)

    @property
    def classes(self) -> list[Any]:
        """The class labels."""
        return list(self.manifest["classes"])

    @property
    def version(self) -> str:
        """A short identifier of this bundle: the first 12 hex digits of the model file's hash."""
        return str(self.manifest.get("files", {}).get(MODEL_FILE, "unsaved"))[:12]

    def predictions(
        self,
        frame: pd.DataFrame,
        *,
        rules: Any = None,
        on_notice: Callable[[str], None] | None = None,
        strict: bool = False,
    ) -> Predictions:
        """Validate ``frame`` against the schema, then predict and decide every row.

        The input contract is :func:`prudent.data.validate_frame`'s, the same on every face:
        numbers and booleans may come as strings, missing values as null or ``""``/``NA``…,
        an absent input is missing in every row, columns that are not inputs are ignored.

        Parameters
        ----------
        frame
            Input rows with the schema's feature columns.
        rules
            A rule set that replaces the bundle's own for this call.
        on_notice
            Receives notices such as ignored extra columns and absent inputs.
        strict
            Refuse columns that are not model inputs instead of ignoring them.

        Returns
        -------
        Predictions
            One result per input row, in order.

        Raises
        ------
        SchemaError
            Values that cannot be read as their column's type (every one in ``problems``),
            no input column at all, or (``strict``) a column that is not an input.
        """
        X, notices = validate_frame(frame, self.schema, strict=strict)
        for n in notices:
            if on_notice is not None:
                on_notice(n)
        return self.model.predictions(X, rules=rules)

    def predict(
        self,
        frame: pd.DataFrame,
        *,
        rules: Any = None,
        on_notice: Callable[[str], None] | None = None,
        strict: bool = False,
        keep: Sequence[str] = (),
        explain: bool = False,
    ) -> pd.DataFrame:
        """:meth:`predictions` as a table, with the input's index (same parameters).

        ``keep`` names input columns (an id, say) copied first into the output. ``explain``
        adds a last column ``explanation``: per row, the input columns that pushed most toward
        the label shown (``[{"column", "contribution"}]`` in log-odds), where the primary
        gives them cheaply (LightGBM, linear models); ``None`` for other primaries.

        Returns
        -------
        pandas.DataFrame
            One row per input row, in order and with the input's index: the ``keep`` columns,
            then those of :func:`prudent.models.output_columns` (prediction, confidence,
            proba_<class>…, ood_score, is_ood, prediction_set, decision, reason, defer_reason).

        Raises
        ------
        SchemaError
            As :meth:`predictions`.
        DataError
            A ``keep`` column is not in ``frame`` or has an output column's name.
        """
        check_keep(frame, keep, self.model.classes)
        out = self.predictions(frame, rules=rules, on_notice=on_notice, strict=strict)
        # the input's index, so that df["prediction"] = bundle.predict(df)[...] aligns
        table = out.to_frame(frame.index, lists=True)  # prediction_set: lists in Python
        if explain:
            from prudent.models._explain import explain_predictions

            X = validate_frame(frame, self.schema, strict=strict)[0]
            found = explain_predictions(self.model, X, out)
            values = found if found is not None else [None] * len(table)
            table["explanation"] = pd.Series(values, index=table.index, dtype=object)
        return with_kept(frame, table, keep)

    def predict_file(
        self,
        source: str | Path,
        destination: str | Path,
        *,
        chunk_rows: int = 50_000,
        rules: Any = None,
        on_notice: Callable[[str], None] | None = None,
        strict: bool = False,
        encoding: str = "utf-8",
        keep: Sequence[str] = (),
    ) -> int:
        """Stream ``source`` through :meth:`predict` into ``destination`` in bounded memory.

        The rows go to a hidden file beside ``destination``, renamed to it only once every
        row is predicted: a failure part-way leaves no truncated output behind (and an older
        ``destination`` untouched). ``encoding`` is the text encoding of a CSV ``source``;
        ``keep`` names input columns (an id, say) copied first into every output row.

        Returns
        -------
        int
            The number of rows predicted.

        Raises
        ------
        ConfigError
            ``destination`` is ``source``.
        DataError
            The input cannot be read, or a row does not fit the schema (named).
        """
        target = Path(destination)
        if target.resolve() == Path(source).resolve():
            raise ConfigError(f"Output '{target}' is the input file; choose another output path.")
        table_format(target)  # name the real output, not the hidden one, if it is wrong
        partial = target.with_name(f".{target.stem}.partial{target.suffix}")
        try:
            chunks = iter_table(Path(source), chunk_rows=chunk_rows, encoding=encoding)
            total = self._stream(chunks, partial, rules, on_notice, strict, tuple(keep))
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)
        return total

    def _stream(
        self,
        chunks: Iterator[pd.DataFrame],
        destination: Path,
        rules: Any,
        on_notice: Callable[[str], None] | None,
        strict: bool,
        keep: tuple[str, ...] = (),
    ) -> int:
        seen: set[str] = set()

        def once(message: str) -> None:
            if message not in seen and on_notice is not None:
                on_notice(message)
            seen.add(message)

        total = 0
        with TableWriter(destination) as writer:
            for chunk in chunks:
                if chunk.shape[1] == 0:
                    columns = [*keep, *output_columns(self.model.classes)]
                    writer.write(pd.DataFrame(columns=columns))
                    continue
                check_keep(chunk, keep, self.model.classes)
                chunk.index = pd.RangeIndex(total, total + len(chunk))  # file row numbers
                got = self.predictions(chunk, rules=rules, on_notice=once, strict=strict)
                out = got.to_frame(chunk.index)  # files keep the prediction set's JSON text
                writer.write(with_kept(chunk, out, keep))
                total += len(out)
        return total

    def retune(
        self,
        *,
        target_accuracy: float | None = None,
        review_budget: float | None = None,
        costs: Any = None,
        review_cost: float | None = None,
    ) -> Bundle:
        """A new bundle whose decision thresholds are chosen again for a new request.

        The fit's decision search runs again on the held-out rows it set the thresholds on
        (the bundle keeps their calibrated probabilities, OOD scores and labels); the locked
        test rows' stored scores are decided again under the new policy, and the promises,
        the manifest and the report are rewritten from them. The models, calibrators, OOD
        detector, conformal sets and rules are kept as they are. This bundle is not changed:
        save the new one elsewhere (:meth:`save`).

        Parameters
        ----------
        target_accuracy
            The accuracy accepted predictions must reach (Learn-Then-Test, as at fit time).
        review_budget
            Instead of a target: the largest share of in-distribution rows sent to review.
        costs
            A cost matrix (rows = true class, columns = predicted, in the order of
            :attr:`classes`), as nested numbers or ``'0,1;10,0'``.
        review_cost
            The cost of a review (with ``costs``; default half the largest cost).

        Returns
        -------
        Bundle
            A new, unsaved bundle; what is not given takes its default (a 15% review budget,
            no costs), the fit's ``delta`` is kept.

        Raises
        ------
        ConfigError
            Nothing to retune for, both a target and a budget, or a value out of range.
        BundleError
            The bundle was saved before prudent kept the evidence retuning needs.

        Examples
        --------
        >>> import prudent
        >>> bundle = prudent.fit(prudent.load_example("wine"), "target", candidates=(),
        ...                      target_accuracy=0.999)
        >>> retuned = bundle.retune(review_budget=0.2)
        >>> retuned.manifest["spec"]["review_budget"], retuned.model is bundle.model
        (0.2, False)
        """
        from prudent.bundle._retune import retune_bundle

        return retune_bundle(
            self,
            target_accuracy=target_accuracy,
            review_budget=review_budget,
            costs=parse_costs(costs),
            review_cost=review_cost,
        )

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the bundle directory: files, then manifest with hashes, then its hash.

        The fit report (``report.html``) is rendered first when the bundle has none.

        Parameters
        ----------
        path
            The directory to write.
        overwrite
            Replace an existing bundle at ``path`` (a folder that is not a bundle is never
            replaced).

        Returns
        -------
        Path
            ``path``.

        Raises
        ------
        BundleError
            ``path`` exists and ``overwrite`` is false, or it is not a bundle.
        """
        root = Path(path)
        if root.exists() and not overwrite:
            raise BundleError(
                f"'{root}' exists; choose another path, or pass overwrite=True to replace it."
            )
        if root.exists():
            if not (root / MANIFEST).exists() and any(root.iterdir()):
                raise BundleError(
                    f"'{root}' exists and is not a prudent bundle; refusing to overwrite it."
                )
            shutil.rmtree(root)
        if "report.html" not in self.extras and self.renderer is not None:
            self.extras["report.html"] = self.renderer(self).encode("utf-8")
        root.mkdir(parents=True)
        import skops.io as sio  # imported here: it costs a second at start-up (it pulls torch)

        sio.dump(self.model, root / MODEL_FILE)
        for name, data in self.extras.items():
            safe_member(root, name).write_bytes(data)
        self.path = root
        self._write_manifest()
        return root

    def add_file(self, name: str, data: bytes) -> None:
        """Add or replace a file (such as ``report.html``) in a saved bundle, rehashing it."""
        self.extras[name] = data
        if self.path is not None:
            safe_member(self.path, name).write_bytes(data)
            self._write_manifest()

    def _write_manifest(self) -> None:
        assert self.path is not None
        names = [MODEL_FILE, *sorted(self.extras)]
        self.manifest["files"] = {n: sha256_file(self.path / n) for n in names}
        text = json.dumps(self.manifest, indent=2, sort_keys=False, allow_nan=False)
        (self.path / MANIFEST).write_text(text + "\n", encoding="utf-8")
        (self.path / MANIFEST_HASH).write_text(sha256_file(self.path / MANIFEST) + "\n")

    @property
    def evidence(self) -> FitEvidence:
        """What the fit measured, as typed records read from the manifest.

        Raises
        ------
        BundleError
            The manifest's evidence is of a newer layout, or a field does not have its type.
        """
        return FitEvidence.from_manifest(self.manifest)

    @property
    def leaderboard(self) -> pd.DataFrame:
        """The out-of-fold leaderboard, one row per model (see ``prudent show``)."""
        return leaderboard_frame(self.evidence)

    def summary(self) -> str:
        """Chosen model, locked-test metrics with 95% intervals, promises and notices."""
        return summary_text(self.manifest, self.version, self.path)

    def __repr__(self) -> str:
        return one_line(self.manifest, self.version, self.path)

    def _repr_html_(self) -> str:
        return summary_html(self.manifest, self.version, self.path)

    def export_sklearn(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save the shipped model alone as a scikit-learn ``Pipeline`` in a skops file.

        The pipeline checks the inputs against the schema, then gives the primary model's
        calibrated probabilities (``predict_proba``, the bundle's) and the bundle's label
        (``predict``); no OOD flag, rules or review decision. Load it with
        ``skops.io.load(path, trusted=prudent.bundle.exported_types(path))`` where prudent
        is installed. Raises ``BundleError`` when ``path`` exists and not ``overwrite``.
        """
        from prudent.bundle._export import export_sklearn

        return export_sklearn(self, path, overwrite=overwrite)

    def report(self, path: str | Path) -> Path:
        """Write the HTML fit report to ``path`` (the bundle's own, or rendered now).

        Raises
        ------
        BundleError
            The bundle holds no report and none can be rendered here.
        """
        page = self.extras.get("report.html")
        if page is None:
            if self.renderer is None:
                raise BundleError(
                    "This bundle holds no report.html; load it with prudent.load() or run "
                    "`prudent report BUNDLE` to render one."
                )
            page = self.renderer(self).encode("utf-8")
        target = Path(path)
        target.write_bytes(page)
        return target

    @classmethod
    def load(cls, path: str | Path) -> Bundle:
        """Load and verify a bundle directory; see :func:`load`."""
        root = Path(path)
        manifest = _read_manifest(root)
        files = manifest.get("files")
        if not isinstance(files, dict) or MODEL_FILE not in files:
            raise BundleIntegrityError(f"Bundle '{root}' has no list of file hashes; refused.")
        for name, digest in files.items():
            member = safe_member(root, name)
            if not member.is_file():
                raise BundleIntegrityError(f"Bundle '{root}' is missing {name!r}; refused.")
            if sha256_file(member) != digest:
                raise BundleIntegrityError(
                    f"Bundle file {name!r} in '{root}' does not match "
                    "its SHA-256 in the manifest (altered or "
                    "truncated); refused."
                )
        _check_versions(root, manifest)
        model = _load_model(root / MODEL_FILE)
        extras = {n: (root / n).read_bytes() for n in files if n != MODEL_FILE}
        return cls(model, manifest, extras, path=root)


def check_keep(frame: pd.DataFrame, keep: Sequence[str], classes: Any) -> None:
    """Refuse columns to keep that the input lacks, or that an output column would hide.

    Raises
    ------
    DataError
        Naming the columns and the fix.
    """
    missing = [c for c in keep if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, list(frame.columns)[:20]))
        raise DataError(f"Column(s) {missing} to keep are not in the input (it has: {have}).")
    clash = [c for c in keep if c in set(output_columns(classes))]
    if clash:
        raise DataError(
            f"Column(s) {clash} to keep have the name of an output column; rename them first."
        )


def with_kept(frame: pd.DataFrame, out: pd.DataFrame, keep: Sequence[str]) -> pd.DataFrame:
    """``out`` with the ``keep`` columns of ``frame`` (same index) in front."""
    if not keep:
        return out
    return pd.concat([frame[list(dict.fromkeys(keep))], out], axis=1)


def _read_manifest(root: Path) -> dict[str, Any]:
    if not root.exists():
        raise BundleError(f"Bundle directory '{root}' does not exist; check the path.")
    if not (root / MANIFEST).is_file():
        raise BundleError(f"'{root}' is not a prudent bundle: it has no {MANIFEST}.")
    if not (root / MANIFEST_HASH).is_file():
        raise BundleIntegrityError(f"Bundle '{root}' has no {MANIFEST_HASH}; refused.")
    expected = (root / MANIFEST_HASH).read_text().strip()
    if sha256_file(root / MANIFEST) != expected:
        raise BundleIntegrityError(
            f"{MANIFEST} in '{root}' does not match its hash (altered or truncated); refused."
        )
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleIntegrityError(f"{MANIFEST} in '{root}' is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BundleIntegrityError(f"{MANIFEST} in '{root}' is not a JSON object; refused.")
    return data


def _check_versions(root: Path, manifest: dict[str, Any]) -> None:
    saved = manifest.get("versions", {})
    running = running_versions()
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleVersionError(
            str(root), {"format": manifest.get("format_version")}, {"format": FORMAT_VERSION}
        )
    keys = ("scikit-learn", "lightgbm", "skops")
    minor = {k: ".".join(str(saved.get(k, "")).split(".")[:2]) for k in keys}
    now = {k: ".".join(running[k].split(".")[:2]) for k in keys}
    if minor != now:
        raise BundleVersionError(
            str(root), {k: saved.get(k) for k in keys}, {k: running[k] for k in keys}
        )


def _load_model(path: Path) -> GuardedModel:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:
        raise BundleIntegrityError(f"'{path.name}' is not a readable skops file: {exc}") from exc
    check_trusted_types(untrusted, where=f"'{path.name}'")
    try:
        model = sio.load(path, trusted=untrusted)
    except Exception as exc:
        raise BundleIntegrityError(f"'{path.name}' could not be loaded: {exc}") from exc
    if not isinstance(model, GuardedModel):
        raise BundleIntegrityError(f"'{path.name}' does not hold a prudent model; refused.")
    return model


def load(path: str | Path) -> Bundle:
    """Load a bundle directory, verifying hashes, paths, versions and types first.

    Parameters
    ----------
    path
        The bundle directory written by ``prudent fit --out`` or :meth:`Bundle.save`.

    Returns
    -------
    Bundle

    Raises
    ------
    BundleError
        Not a bundle.
    BundleIntegrityError
        A file is missing, altered, outside the bundle, or holds untrusted types.
    BundleVersionError
        Saved with library versions this installation cannot load safely.
    """
    return Bundle.load(path)
