"""Reading a bundle directory: every check comes before anything from it is parsed or run.

The manifest's own hash first, then every file's hash and path, then the versions, and
only then the model, with skops building trusted types alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prudent._compat import read_skops
from prudent._json import label_text
from prudent.bundle._integrity import check_trusted_types, safe_member, sha256_file
from prudent.bundle._manifest import (
    FORMAT_VERSION,
    MANIFEST,
    MANIFEST_HASH,
    MODEL_FILE,
    running_versions,
)
from prudent.errors import BundleError, BundleIntegrityError, BundleVersionError
from prudent.models._guarded import GuardedModel

__all__ = ["read_bundle"]


def read_bundle(root: Path) -> tuple[GuardedModel, dict[str, Any], dict[str, bytes]]:
    """The verified model, manifest and other files (name → bytes) of the bundle at ``root``.

    Raises the errors :func:`prudent.bundle.load` lists.
    """
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
    _check_classes(root, manifest, model)
    extras = {n: (root / n).read_bytes() for n in files if n != MODEL_FILE}
    return model, manifest, extras


def _check_classes(root: Path, manifest: dict[str, Any], model: GuardedModel) -> None:
    """Refuse a manifest whose classes are not the model's: ``show`` and the report would
    name other classes than the predictions (a manifest edited, its hash made anew)."""
    said = [label_text(c) for c in manifest.get("classes", [])]
    held = [label_text(c) for c in model.classes]
    if said != held:
        raise BundleIntegrityError(
            f"Bundle '{root}' lists the classes {said} in its manifest, but its model predicts "
            f"{held}; refused (the manifest was altered)."
        )


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
    try:
        untrusted, build = read_skops(path)
    except Exception as exc:
        raise BundleIntegrityError(f"'{path.name}' is not a readable skops file: {exc}") from exc
    check_trusted_types(untrusted, where=f"'{path.name}'")
    try:
        model = build()
    except Exception as exc:
        raise BundleIntegrityError(f"'{path.name}' could not be loaded: {exc}") from exc
    if not isinstance(model, GuardedModel):
        raise BundleIntegrityError(f"'{path.name}' does not hold a prudent model; refused.")
    return model
