"""A bundle: a directory that holds a fitted model, its manifest and its evidence.

Saving writes every file, then the manifest with a SHA-256 per file, then the
manifest's own hash. Loading (``_loading.py``) checks the manifest's hash, every file's
hash and every path before parsing anything, checks the versions, and lets skops build only
trusted types: a tampered, truncated or foreign bundle is refused and no code from it runs.
Saving is in ``_saving.py``, predicting in ``_predicting.py``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from prudent.bundle import _predicting
from prudent.bundle._evidence import FitEvidence
from prudent.bundle._integrity import safe_member, sha256_file
from prudent.bundle._loading import read_bundle
from prudent.bundle._manifest import MODEL_FILE, build_manifest
from prudent.bundle._saving import clear_target, fit_files, write_files, write_manifest
from prudent.bundle._summary import leaderboard_frame, one_line, summary_html, summary_text
from prudent.data import Schema
from prudent.errors import BundleError
from prudent.models._cost_matrix import parse_costs
from prudent.models._guarded import GuardedModel
from prudent.models._predictions import Predictions

if TYPE_CHECKING:  # the fit is not loaded to predict (start-up of `prudent predict`)
    from prudent.pipeline import FitResult

__all__ = ["Bundle", "load"]


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
        return cls(result.model, build_manifest(result), fit_files(result))

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
        frame: _predicting.Rows,
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
            Input rows with the schema's feature columns: a DataFrame, a list of dicts (one
            per row, as the JSON API's records; a key left out is missing) or a dict of
            columns (a dict of single values is one row). For a file, use
            :meth:`predict_file`.
        rules
            A rule set that replaces the bundle's own for this call.
        on_notice
            Receives notices such as ignored extra columns and absent inputs (without it,
            :meth:`predict` and :meth:`predict_file` log them to the ``prudent`` logger, at
            INFO, and this method drops them: the service calls it on every request).
        strict
            Refuse columns that are not model inputs instead of ignoring them.

        Returns
        -------
        Predictions
            One result per input row, in order.

        Raises
        ------
        TypeError
            ``frame`` is none of those (a path, a Series, an array, None): the message says
            what to pass instead.
        SchemaError
            Values that cannot be read as their column's type (every one in ``problems``),
            no input column at all, or (``strict``) a column that is not an input.
        """
        return _predicting.predictions(self, frame, rules=rules, on_notice=on_notice, strict=strict)

    def predict(
        self,
        frame: _predicting.Rows,
        *,
        rules: Any = None,
        on_notice: Callable[[str], None] | None = None,
        strict: bool = False,
        keep: str | Sequence[str] = (),
        explain: bool = False,
    ) -> pd.DataFrame:
        """:meth:`predictions` as a table, with the input's index (same parameters).

        ``keep`` names input columns (an id, say) copied first into the output; a string is
        one column. ``explain``
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
        TypeError, SchemaError
            As :meth:`predictions`.
        DataError
            A ``keep`` column is not in ``frame`` or has an output column's name.
        """
        return _predicting.predict(
            self, frame, rules=rules, on_notice=on_notice, strict=strict, keep=keep, explain=explain
        )

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
        keep: str | Sequence[str] = (),
    ) -> int:
        """Stream ``source`` through :meth:`predict` into ``destination`` in bounded memory.

        The rows go to a hidden file beside ``destination``, renamed to it only once every
        row is predicted: a failure part-way leaves no truncated output behind (and an older
        ``destination`` untouched). ``encoding`` is the text encoding of a CSV or JSON ``source``;
        ``keep`` names input columns (an id, say) copied first into every output row (a
        string is one column).

        Returns
        -------
        int
            The number of rows predicted.

        Raises
        ------
        ConfigError
            ``destination`` is ``source``, or ``chunk_rows`` is not a positive integer.
        DataError
            The input cannot be read, or a row does not fit the schema (named).
        OSError
            ``destination`` cannot be written (named, with the system's reason).
        """
        return _predicting.predict_file(
            self,
            source,
            destination,
            chunk_rows=chunk_rows,
            rules=rules,
            on_notice=on_notice,
            strict=strict,
            encoding=encoding,
            keep=keep,
        )

    def retune(
        self,
        *,
        target_accuracy: float | None = None,
        review_budget: float | None = None,
        costs: Any = None,
        review_cost: float | None = None,
        delta: float | None = None,
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
        delta
            The allowed chance that the promised accuracy (or, under a budget, the review
            share) is missed, with ``target_accuracy`` or ``review_budget``; the fit's by
            default.

        Returns
        -------
        Bundle
            A new, unsaved bundle; what is not given takes its default (a 15% review budget,
            no costs), the fit's ``delta`` unless one is given.

        Raises
        ------
        ConfigError
            Nothing to retune for; two of a target, a budget and costs; a review cost without
            costs; a budget at or below the bundle's OOD false-positive rate (its alarms alone
            would fill it); or a value out of range.
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
            delta=delta,
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
        clear_target(root, overwrite=overwrite)
        write_files(root, self.model, self.extras)
        try:
            if "report.html" not in self.extras and self.renderer is not None:
                # rendered once the model file is written, so the page names this bundle's
                # version (the model file's hash), not "unsaved"
                self.manifest["files"] = {MODEL_FILE: sha256_file(root / MODEL_FILE)}
                self.extras["report.html"] = self.renderer(self).encode("utf-8")
                (root / "report.html").write_bytes(self.extras["report.html"])
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)  # no folder without a manifest is left
            raise
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
        write_manifest(self.path, self.manifest, [MODEL_FILE, *sorted(self.extras)])

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
        """Write the HTML fit report to ``path`` (the bundle's own, or rendered now), its
        folder made if need be.

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
        target.parent.mkdir(parents=True, exist_ok=True)  # as save and predict_file do
        target.write_bytes(page)
        return target

    @classmethod
    def load(cls, path: str | Path) -> Bundle:
        """Load and verify a bundle directory; see :func:`load`."""
        root = Path(path)
        model, manifest, extras = read_bundle(root)
        bundle = cls(model, manifest, extras, path=root)
        model.rules = _predicting.typed_rules(bundle) or model.rules
        return bundle


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
