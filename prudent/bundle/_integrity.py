"""File hashes and safe paths: a bundle is verified before anything in it is parsed."""

from __future__ import annotations

import hashlib
import importlib
import inspect
from pathlib import Path, PurePosixPath

from prudent.errors import BundleIntegrityError

__all__ = [
    "TRUSTED_FUNCTIONS",
    "TRUSTED_PREFIXES",
    "check_trusted_types",
    "safe_member",
    "sha256_file",
]

TRUSTED_PREFIXES = ("prudent.", "sklearn.", "lightgbm.", "numpy.", "scipy.")
"""Module prefixes whose types a bundle may contain; skops refuses everything else."""

_TRUSTED_EXACT = frozenset({"collections.OrderedDict", "builtins.slice", "builtins.frozenset"})

TRUSTED_FUNCTIONS = frozenset({"prudent.models._features.fill_text"})
"""Functions a bundle may reference. Any other name under a trusted prefix must be a class:
a function is code a crafted bundle could make a transformer call with its own arguments."""


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB blocks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:12]
    'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def safe_member(root: Path, name: str) -> Path:
    """Resolve ``name`` inside the bundle directory, refusing anything that escapes it.

    Raises
    ------
    BundleIntegrityError
        For absolute paths, ``..`` parts, or links that lead outside ``root``.

    Examples
    --------
    >>> from pathlib import Path
    >>> from prudent.errors import BundleIntegrityError
    >>> try:
    ...     safe_member(Path("/b"), "../etc/passwd")
    ... except BundleIntegrityError as e:
    ...     print(str(e)[:41])
    Bundle file name '../etc/passwd' is not a
    """
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or "\\" in name or not pure.parts:
        raise BundleIntegrityError(
            f"Bundle file name {name!r} is not a plain relative path "
            "inside the bundle; the bundle is refused."
        )
    path = (root / pure).resolve()
    if root.resolve() not in path.parents:
        raise BundleIntegrityError(f"Bundle file {name!r} resolves outside the bundle; refused.")
    return path


def _is_class(name: str) -> bool:
    """Whether ``name`` (module.attribute, under a trusted prefix) is a class."""
    module, _, attribute = name.rpartition(".")
    try:
        return inspect.isclass(getattr(importlib.import_module(module), attribute))
    except (ImportError, AttributeError):
        return False


def check_trusted_types(types: list[str], *, where: str) -> None:
    """Refuse a skops file that holds a type outside prudent's trusted libraries.

    Examples
    --------
    >>> check_trusted_types(["sklearn.tree._tree.Tree"], where="'model.skops'")
    >>> try:
    ...     check_trusted_types(["numpy.load"], where="'model.skops'")
    ... except BundleIntegrityError as e:
    ...     print(e)
    'model.skops' holds functions prudent does not trust: ['numpy.load']; the bundle is refused.
    """
    bad = [t for t in types if not (t.startswith(TRUSTED_PREFIXES) or t in _TRUSTED_EXACT)]
    if bad:
        raise BundleIntegrityError(
            f"{where} holds types prudent does not trust: {sorted(bad)}; the bundle is refused "
            "(only prudent, scikit-learn, LightGBM, NumPy and SciPy types are allowed)."
        )
    calls = [
        t
        for t in types
        if t.startswith(TRUSTED_PREFIXES) and t not in TRUSTED_FUNCTIONS and not _is_class(t)
    ]
    if calls:
        raise BundleIntegrityError(
            f"{where} holds functions prudent does not trust: {sorted(calls)}; the bundle is "
            "refused."
        )
