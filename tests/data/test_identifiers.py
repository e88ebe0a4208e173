"""Which column names say a column identifies rows, word by word."""

from __future__ import annotations

import pytest

from prudent.data._identifiers import id_name

IDS = ["id", "ID", "subject_id", "SubjectID", "subjectId", "PassengerId", "customer-key"]
IDS += ["row", "row_number", "RowNum", "index", "idx", "case_no", "CaseNo", "account_number"]
IDS += ["Unnamed: 0", "uuid", "record.nr"]
NOT_IDS = ["paid", "width", "valid", "Fluid", "hidden", "idle", "kid_count", "no_of_children"]
NOT_IDS += ["num_char", "number_customer_service_calls", "NO2", "rows_read", "monkey", ""]


@pytest.mark.parametrize("name", IDS)
def test_id_name_finds_id_words(name: str) -> None:
    assert id_name(name)


@pytest.mark.parametrize("name", NOT_IDS)
def test_id_name_leaves_words_that_only_contain_them(name: str) -> None:
    assert not id_name(name)
