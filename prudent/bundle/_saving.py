"""Writing a bundle directory: the files, then the manifest with their hashes, then its hash."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prudent.bundle._integrity import safe_member, sha256_file
from prudent.bundle._manifest import MANIFEST, MANIFEST_HASH, MODEL_FILE
from prudent.bundle._test_rows import TEST_ROWS_FILE
from prudent.errors import BundleError
from prudent.models._guarded import GuardedModel

if TYPE_CHECKING:  # the fit is not loaded to predict (start-up of `prudent predict`)
    from prudent.pipeline import FitResult

__all__ = ["clear_target", "fit_files", "write_files", "write_manifest"]


def fit_files(result: FitResult) -> dict[str, bytes]:
    """The files a fit's bundle holds beside its model and manifest: name → bytes."""
    extras = {"label_issues.csv": result.label_issues.to_csv(index=False).encode()}
    from prudent.bundle._retune import write_arrays

    extras["artifacts.npz"] = write_arrays(result.trust.artifacts)
    if result.test_frame is not None:
        evidence = io.BytesIO()
        result.test_frame.to_parquet(evidence, index=False)
        extras[TEST_ROWS_FILE] = evidence.getvalue()
    if result.spec.rules:
        extras["rules.yaml"] = result.spec.rules.encode()
    return extras


def clear_target(root: Path, *, overwrite: bool) -> None:
    """Make way for a bundle at ``root``: remove an older bundle there when ``overwrite``.

    Raises
    ------
    BundleError
        ``root`` exists and ``overwrite`` is false, or it is a folder that is not a bundle.
    """
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


def write_files(root: Path, model: GuardedModel, extras: Mapping[str, bytes]) -> None:
    """Create ``root`` and write the model's skops file and the other files into it."""
    root.mkdir(parents=True)
    import skops.io as sio  # imported here: it costs a second at start-up (it pulls torch)

    sio.dump(model, root / MODEL_FILE)
    for name, data in extras.items():
        safe_member(root, name).write_bytes(data)


def write_manifest(root: Path, manifest: dict[str, Any], names: Sequence[str]) -> None:
    """Set ``manifest["files"]`` to the hashes of ``names`` in ``root``; write it, then its hash."""
    manifest["files"] = {n: sha256_file(root / n) for n in names}
    text = json.dumps(manifest, indent=2, sort_keys=False, allow_nan=False)
    (root / MANIFEST).write_text(text + "\n", encoding="utf-8")
    (root / MANIFEST_HASH).write_text(sha256_file(root / MANIFEST) + "\n")
