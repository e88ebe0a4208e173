"""The bundle: manifest + skops files + evidence, saved and loaded with checks."""

from prudent.bundle._bundle import Bundle, load
from prudent.bundle._export import exported_types
from prudent.bundle._integrity import TRUSTED_FUNCTIONS, TRUSTED_PREFIXES, sha256_file
from prudent.bundle._manifest import FORMAT_VERSION, running_versions

__all__ = [
    "FORMAT_VERSION",
    "TRUSTED_FUNCTIONS",
    "TRUSTED_PREFIXES",
    "Bundle",
    "exported_types",
    "load",
    "running_versions",
    "sha256_file",
]
