"""Which column names say a column identifies rows, word by word."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prudent.data import Role, infer_schema
from prudent.data._identifiers import id_name

IDS = ["id", "ID", "subject_id", "SubjectID", "subjectId", "PassengerId", "customer-key"]
IDS += ["row", "row_number", "RowNum", "index", "idx", "case_no", "CaseNo", "account_number"]
IDS += ["Unnamed: 0", "uuid", "record.nr", "unitid", "CUSTID", "patientid", "hh_personid"]
NOT_IDS = ["paid", "width", "valid", "Fluid", "hidden", "idle", "kid_count", "no_of_children"]
NOT_IDS += ["humid", "acid", "rapid", "covid", "hybrid", "unpaid", "liquid", "lipid"]
NOT_IDS += ["num_char", "number_customer_service_calls", "NO2", "rows_read", "monkey", ""]


@pytest.mark.parametrize("name", IDS)
def test_id_name_finds_id_words(name: str) -> None:
    assert id_name(name)


@pytest.mark.parametrize("name", NOT_IDS)
def test_id_name_leaves_words_that_only_contain_them(name: str) -> None:
    assert not id_name(name)


def _panel(people: int = 120, visits: int = 6) -> pd.DataFrame:
    """People measured several times, each with one outcome: the id names a group of rows."""
    rng = np.random.default_rng(0)
    person = np.repeat(np.arange(people), visits)
    outcome = rng.integers(0, 2, people)[person]
    return pd.DataFrame(
        {
            "person_id": person,
            "unitid": 100_000 + person * 7,  # IPEDS' college id, 'id' glued to its noun
            "PatientID": [f"P{p:04d}" for p in person],
            "site_id": person % 5,  # five sites: categories, not units
            "store": person,  # groups, but its name does not say id
            "weight": rng.normal(70, 10, len(person)),
            "y": np.where(outcome == 1, "yes", "no"),
        }
    )


def test_a_repeated_id_is_kept_and_said_to_name_groups() -> None:
    notices = infer_schema(_panel(), "y").notices
    said = {n.split("'")[1]: n for n in notices if "identifier of groups" in n}
    assert set(said) == {"person_id", "PatientID", "unitid"}
    assert "(120 values, 6.0 rows each): kept" in said["person_id"]
    assert "may not hold for new groups" in said["person_id"]
    assert "split by it (--group person_id)" in said["person_id"]
    schema = infer_schema(_panel(), "y")
    assert {c.name: c.role for c in schema.features}["person_id"] is Role.numeric
    # a role the user set says nothing more
    pinned = infer_schema(_panel(), "y", numeric=["person_id", "unitid"], categorical=["PatientID"])
    assert not [n for n in pinned.notices if "identifier of groups" in n]
