"""What comes in: reading tables, column roles and validation, the target, and splits."""

from prudent.data._coerce import (
    ACCEPTS,
    MAX_MAGNITUDE,
    MISSING_WORDS,
    is_missing_word,
    string_pattern,
    validate_frame,
)
from prudent.data._datasets import EXAMPLES, load_example
from prudent.data._input_columns import InputColumns, input_columns, refuse_look_alikes
from prudent.data._io import (
    DECIMAL_ATTR,
    REPEATED_HEADER_ATTR,
    SHORT_ROWS_ATTR,
    TableWriter,
    iter_table,
    read_table,
    table_format,
    write_table,
)
from prudent.data._names import split_names
from prudent.data._plain import plain_table
from prudent.data._schema import ColumnSpec, Role, Schema, infer_schema
from prudent.data._splits import (
    Splits,
    auto_folds,
    check_disjoint,
    fitted_without,
    make_splits,
    sampled_rows,
)
from prudent.data._target import (
    Target,
    dropped_notice,
    label_words_notice,
    look_alike_classes,
    prepare_target,
    rare_classes_notice,
)

__all__ = [
    "ACCEPTS",
    "DECIMAL_ATTR",
    "EXAMPLES",
    "MAX_MAGNITUDE",
    "MISSING_WORDS",
    "REPEATED_HEADER_ATTR",
    "SHORT_ROWS_ATTR",
    "ColumnSpec",
    "InputColumns",
    "Role",
    "Schema",
    "Splits",
    "TableWriter",
    "Target",
    "auto_folds",
    "check_disjoint",
    "dropped_notice",
    "fitted_without",
    "infer_schema",
    "input_columns",
    "is_missing_word",
    "iter_table",
    "label_words_notice",
    "load_example",
    "look_alike_classes",
    "make_splits",
    "plain_table",
    "prepare_target",
    "rare_classes_notice",
    "read_table",
    "refuse_look_alikes",
    "sampled_rows",
    "split_names",
    "string_pattern",
    "table_format",
    "validate_frame",
    "write_table",
]
