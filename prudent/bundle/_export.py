"""Save a bundle's shipped model as a plain scikit-learn pipeline file (skops)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from prudent.bundle._integrity import check_trusted_types
from prudent.bundle._skops_file import dump_skops
from prudent.errors import BundleError
from prudent.models._export import export_pipeline

if TYPE_CHECKING:
    from prudent.bundle._bundle import Bundle

__all__ = ["check_target", "export_sklearn", "exported_types"]


def check_target(path: str | Path, *, overwrite: bool) -> Path:
    """Refuse to replace an existing file unless ``overwrite``, or to write into a folder that
    does not exist (checked before any work).

    Examples
    --------
    >>> check_target("/no/such/folder/model.skops", overwrite=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prudent.errors.BundleError: Cannot write ...: the folder '/no/such/folder' does not exist; ...
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise BundleError(
            f"Cannot write '{target}': the folder '{target.parent}' does not exist; create it "
            "first or choose another path."
        )
    if target.exists() and not overwrite:
        raise BundleError(
            f"'{target}' exists; choose another path, or overwrite it (--overwrite, "
            "overwrite=True)."
        )
    return target


def export_sklearn(bundle: Bundle, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the bundle's primary model and calibrator as a scikit-learn ``Pipeline``.

    Parameters
    ----------
    bundle
        The bundle to export.
    path
        The ``.skops`` file to write.
    overwrite
        Replace an existing file.

    Returns
    -------
    Path
        The file written; load it with ``skops.io.load(path, trusted=exported_types(path))``.

    Raises
    ------
    BundleError
        When the file exists already and ``overwrite`` is false, or its folder does not
        exist.
    """
    target = check_target(path, overwrite=overwrite)
    dump_skops(export_pipeline(bundle.model, bundle.manifest["schema"]), target)
    return target


def exported_types(path: str | Path) -> list[str]:
    """The types a skops file needs trusted, checked against the bundle's trusted libraries.

    Pass them to ``skops.io.load(path, trusted=...)``.

    Raises
    ------
    BundleIntegrityError
        The file holds a type prudent does not trust.
    """
    import skops.io as sio

    types = sorted(sio.get_untrusted_types(file=Path(path)))
    check_trusted_types(types, where=f"'{Path(path).name}'")
    return types
