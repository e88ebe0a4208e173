"""The bundle: manifest + skops files + evidence, saved and loaded with checks."""

from prudent.bundle._bundle import Bundle, load
from prudent.bundle._codec import EvidenceError
from prudent.bundle._evidence import EVIDENCE_VERSION, FitEvidence, Promise
from prudent.bundle._export import exported_types
from prudent.bundle._integrity import TRUSTED_FUNCTIONS, TRUSTED_PREFIXES, sha256_file
from prudent.bundle._manifest import FORMAT_VERSION, running_versions
from prudent.bundle._test_rows import (
    LABEL_COLUMN,
    ROW_COLUMN,
    TEST_ROWS_FILE,
    inputs_of,
    read_test_rows,
)

__all__ = [
    "EVIDENCE_VERSION",
    "FORMAT_VERSION",
    "LABEL_COLUMN",
    "ROW_COLUMN",
    "TEST_ROWS_FILE",
    "TRUSTED_FUNCTIONS",
    "TRUSTED_PREFIXES",
    "Bundle",
    "EvidenceError",
    "FitEvidence",
    "Promise",
    "exported_types",
    "inputs_of",
    "load",
    "read_test_rows",
    "running_versions",
    "sha256_file",
]
