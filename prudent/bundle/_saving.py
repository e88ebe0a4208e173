"""Writing a bundle directory: the files, then the manifest with their hashes, then its hash."""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from prudent.bundle._integrity import safe_member, sha256_file
from prudent.bundle._manifest import MANIFEST, MANIFEST_HASH, MODEL_FILE, TRAIN_ROWS_FILE
from prudent.bundle._skops_file import dump_skops
from prudent.bundle._test_rows import TEST_ROWS_FILE
from prudent.errors import BundleError
from prudent.models._guarded import GuardedModel

if TYPE_CHECKING:  # the fit is not loaded to predict (start-up of `prudent predict`)
    from prudent.pipeline import FitResult

__all__ = [
    "BUNDLE_BYTES",
    "ROWS_MAX_BYTES",
    "check_bundle_path",
    "clear_target",
    "fit_files",
    "rows_limit",
    "write_files",
    "write_manifest",
]


def fit_files(result: FitResult) -> dict[str, bytes]:
    """The files a fit's bundle holds beside its model and manifest: name → bytes."""
    extras = {"label_issues.csv": result.label_issues.to_csv(index=False).encode()}
    from prudent.bundle._retune import write_arrays

    extras["artifacts.npz"] = write_arrays(result.trust.artifacts)
    limit = rows_limit(result.trust.model_bytes + sum(map(len, extras.values())))
    if result.test_frame is not None:
        extras[TEST_ROWS_FILE] = _capped_parquet(result.test_frame, limit)
    if result.train_frame is not None and len(result.train_frame):
        extras[TRAIN_ROWS_FILE] = _capped_parquet(result.train_frame, limit)
    if result.spec.rules:
        extras["rules.yaml"] = result.spec.rules.encode()
    return extras


ROWS_MAX_BYTES = 4 * 2**20
"""The training rows' file and the test rows' are each kept under 4 MB: long texts and wide
tables keep fewer rows (halved until it fits), so that a bundle stays small on every
dataset. 2,000 rows of 400 numeric columns had taken 7.7 MB each."""


BUNDLE_BYTES = 46 * 2**20
"""What a fit's model and files take at most beside its report and manifest (the bundle
stays under 50 MB): the rows' files keep less than :data:`ROWS_MAX_BYTES` when the model,
the evidence and the label issues leave less room."""

ROWS_MIN_BYTES = 256 * 2**10
"""The least each rows' file may keep (a few hundred rows of a wide table)."""


def rows_limit(taken: int) -> int:
    """The bytes each of the two rows' files may take when the rest of the bundle takes
    ``taken``.

    Examples
    --------
    >>> rows_limit(10 * 2**20) == ROWS_MAX_BYTES  # a 10 MB model: the usual cap
    True
    >>> rows_limit(43 * 2**20) / 2**20  # 3 MB left: 1.5 MB each
    1.5
    >>> rows_limit(60 * 2**20) == ROWS_MIN_BYTES
    True
    """
    return int(min(ROWS_MAX_BYTES, max(ROWS_MIN_BYTES, (BUNDLE_BYTES - taken) // 2)))


def _parquet(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


def _capped_parquet(frame: pd.DataFrame, limit: int = ROWS_MAX_BYTES) -> bytes:
    """``frame`` as Parquet, its first half kept again and again until under ``limit`` bytes."""
    data = _parquet(frame)
    while len(data) > limit and len(frame) > 1:
        frame = frame.iloc[: len(frame) // 2]
        data = _parquet(frame)
    return data


def clear_target(root: Path, *, overwrite: bool) -> None:
    """Make way for a bundle at ``root``: remove an older bundle there when ``overwrite``.

    Raises
    ------
    BundleError
        ``root`` exists and ``overwrite`` is false, or it is a file or a folder that is not a
        bundle.
    """
    refusal = _refusal(root, overwrite=overwrite)
    if refusal is not None:
        raise BundleError(refusal)
    if root.exists():
        shutil.rmtree(root)


def check_bundle_path(root: Path, *, overwrite: bool) -> None:
    """Refuse, before any work, a bundle path that the save would refuse or fail to write.

    Raises
    ------
    BundleError
        As :func:`clear_target`, or no folder can be made at ``root``: its nearest existing
        parent is a file, or making a folder there fails (tried for real: permissions, a
        read-only or virtual file system), with the system's reason.
    """
    refusal = _refusal(root, overwrite=overwrite) or _unwritable(root)
    if refusal is not None:
        raise BundleError(refusal)


def _refusal(root: Path, *, overwrite: bool) -> str | None:
    """Why the save refuses to replace what is at ``root``, or ``None``."""
    if not root.exists():
        return None
    if not overwrite:
        return f"'{root}' exists; choose another path, or pass overwrite=True to replace it."
    if not root.is_dir():
        return (
            f"'{root}' is a file, but a bundle is a folder; choose a new path, or a bundle "
            "to replace."
        )
    if not (root / MANIFEST).exists() and any(root.iterdir()):
        return f"'{root}' exists and is not a prudent bundle; refusing to overwrite it."
    return None


def _unwritable(root: Path) -> str | None:
    """Why no folder can be made at ``root`` (the save makes it anew), or ``None``."""
    base = next((p for p in (root.parent, *root.parent.parents) if p.exists()), None)
    if base is None:
        return None
    if not base.is_dir():
        return f"'{base}' is a file, so no bundle folder can be made in it; choose another path."
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".prudent-probe-", dir=base))
    except OSError as exc:
        return (
            f"no bundle folder can be made in '{base}' ({exc.strerror or exc}); choose "
            "another path."
        )
    return None


def write_files(root: Path, model: GuardedModel, extras: Mapping[str, bytes]) -> None:
    """Create ``root`` and write the model's skops file and the other files into it."""
    root.mkdir(parents=True)
    dump_skops(model, root / MODEL_FILE)
    for name, data in extras.items():
        safe_member(root, name).write_bytes(data)


def write_manifest(root: Path, manifest: dict[str, Any], names: Sequence[str]) -> None:
    """Set ``manifest["files"]`` to the hashes of ``names`` in ``root``; write it, then its hash."""
    manifest["files"] = {n: sha256_file(root / n) for n in names}
    text = json.dumps(manifest, indent=2, sort_keys=False, allow_nan=False)
    (root / MANIFEST).write_text(text + "\n", encoding="utf-8")
    (root / MANIFEST_HASH).write_text(sha256_file(root / MANIFEST) + "\n")
