"""How a table's column names meet the model's inputs: look-alike names are refused."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
import pytest

from prudent.data import Schema, validate_frame
from prudent.errors import SchemaError


@pytest.mark.parametrize(
    "renamed",
    [
        "city\u200b",  # zero-width space
        "\ufeffcity",  # byte-order mark
        "ci\u200dty",  # zero-width joiner
        "city\u2060",  # word joiner
        " City\u200c",  # zero-width non-joiner, with case and space
    ],
)
def test_validate_frame_a_name_with_invisible_characters_is_refused_as_a_look_alike(
    mixed: pd.DataFrame, mixed_schema: Schema, renamed: str
) -> None:
    table = mixed.rename(columns={"city": renamed})
    with pytest.raises(
        SchemaError,
        match=re.escape(
            f"Column {renamed!r} is not an input of the model, which reads 'city' (the names "
            f"differ only in case, spaces or invisible characters: {renamed!r} for 'city'); rename"
        ),
    ) as e:
        validate_frame(table, mixed_schema)
    assert e.value.field == "city"
    assert [(p.field, p.received) for p in e.value.problems] == [("city", repr(renamed))]


def test_validate_frame_a_name_in_another_normal_form_is_refused(
    mixed: pd.DataFrame, mixed_schema: Schema
) -> None:
    composed = mixed.rename(columns={"city": "cité"})
    schema = Schema(
        tuple(
            c if c.name != "city" else type(c)(**{**vars(c), "name": "cité"})
            for c in mixed_schema.columns
        ),
        target=mixed_schema.target,
    )
    validate_frame(composed, schema)  # the same name is read
    decomposed = mixed.rename(columns={"city": unicodedata.normalize("NFD", "cité")})
    with pytest.raises(SchemaError, match="which reads 'cité'"):
        validate_frame(decomposed, schema)


def test_validate_frame_case_and_space_variants_keep_their_wording(
    mixed: pd.DataFrame, mixed_schema: Schema
) -> None:
    with pytest.raises(SchemaError, match=r"differ only in case or spaces: 'city\\xa0' for"):
        validate_frame(mixed.rename(columns={"city": "city\xa0"}), mixed_schema)
