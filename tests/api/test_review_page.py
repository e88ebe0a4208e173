"""The review page over HTTP (in process): sign-in, CSRF, escaping, label/skip/flag/undo.

The browser tests (keys, two reviewers, screenshots) are in ``test_review_browser.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from prudent.api import create_app
from prudent.api._pages import CSP
from prudent.bundle import Bundle
from prudent.config import Settings
from prudent.feedback import NearestRows, field_notes
from prudent.monitor import AlertState, load_rules
from prudent.store import AlertStore, CaseStatus, SqlPredictionLog
from tests.api.conftest import Tokens, wait_ready
from tests.serve._bundles import example_frame, input_rows
from tests.store.conftest import T0

SCRIPT = "<script>alert(1)</script>"
HTML = {"Accept": "text/html"}


@pytest.fixture
def served(
    mixed_bundle: Bundle, tokens: Tokens, tmp_path: Path
) -> Iterator[tuple[TestClient, SqlPredictionLog, list[str]]]:
    """The mixed bundle served with every accepted prediction audited; 4 rows predicted, the
    first with a ``<script>`` category and a sepal ten times the usual length."""
    log = SqlPredictionLog.open(f"sqlite:///{tmp_path / 'log.db'}", triage=_policy())
    settings = Settings(bundle=mixed_bundle.path, tokens_file=tokens.path)
    with TestClient(create_app(settings, bundle=mixed_bundle, log=log)) as client:
        wait_ready(client)
        rows = input_rows("mixed", 4)
        rows.loc[0, "petal_size"] = SCRIPT
        rows.loc[0, "sepal_length_(cm)"] *= 10
        body = {"records": rows.to_dict(orient="records")}
        answer = client.post("/predict", json=body, headers=tokens.header("app"))
        ids = [p["prediction_id"] for p in answer.json()["predictions"]]
        yield client, log, ids
    log.close()


def _policy() -> object:
    from prudent.feedback import QueuePolicy

    return QueuePolicy(audit_share=1.0)


def _sign_in(client: TestClient, tokens: Tokens, name: str = "reviewer") -> str:
    """Sign in through the form; return the page's CSRF token."""
    form = client.get("/login?next=/review")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    body = {"csrf": csrf[1], "next": "/review", "token": tokens.secrets[name]}
    done = client.post("/login", data=body, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/review"
    return csrf[1]


def _case_id(text: str) -> str:
    found = re.search(r'data-case="([^"]+)"', text)
    assert found is not None, text[:500]
    return found[1]


def test_review_page_sends_browsers_to_sign_in_and_answers_api_clients_401(
    served: tuple[TestClient, SqlPredictionLog, list[str]],
) -> None:
    client = served[0]
    redirect = client.get("/review?case=x", headers=HTML, follow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "/login?next=%2Freview%3Fcase%3Dx"
    assert client.get("/review").status_code == 401


def test_review_page_escapes_input_and_sets_csp(
    served: tuple[TestClient, SqlPredictionLog, list[str]], tokens: Tokens
) -> None:
    client, log, ids = served
    _sign_in(client, tokens)
    page = client.get("/review", headers=HTML)
    assert page.status_code == 200 and page.headers["content-security-policy"] == CSP
    assert _case_id(page.text) == ids[0]  # out of distribution: served first
    assert SCRIPT not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "a category never seen in training: unknown to the model" in page.text
    assert "above the training range (max 7.9) beyond its margin of" in page.text
    assert "Marked: values outside what the 120 training rows held" in page.text
    assert "Nearest training examples (a sample of up to 2,000 training rows" in page.text
    assert "<script" not in page.text.replace('<script src="/static/', "")
    assert log.review_case(ids[0]).claimed_by == "reviewer"


def test_a_forged_sign_in_is_refused_and_the_form_shown_again(
    served: tuple[TestClient, SqlPredictionLog, list[str]], tokens: Tokens
) -> None:
    client = served[0]
    body = {"next": "/review", "token": tokens.secrets["reviewer"]}
    for forged in ({}, {"csrf": "x" * 43}):  # no token, or one this browser was never given
        client.cookies.clear()
        client.get("/login")  # the browser holds its own CSRF cookie
        refused = client.post("/login", data={**body, **forged}, follow_redirects=False)
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/")
        assert "did not come from this page" in refused.text and 'name="csrf"' in refused.text
        assert "prudent_token" not in refused.headers.get("set-cookie", "")
        assert client.get("/review", headers=HTML, follow_redirects=False).status_code == 303
    assert _sign_in(client, tokens)  # the form's own token signs in


def test_sign_out_forgets_the_token_and_needs_the_form_token(
    served: tuple[TestClient, SqlPredictionLog, list[str]], tokens: Tokens
) -> None:
    client = served[0]
    csrf = _sign_in(client, tokens)
    page = client.get("/review", headers=HTML)
    assert '<form class="logout" method="post" action="/logout">' in page.text
    assert '<form class="logout"' in client.get("/", headers=HTML).text  # the dashboard too
    forged = client.post("/logout", follow_redirects=False)
    assert forged.status_code == 403 and "CSRF token" in forged.json()["error"]
    assert client.get("/review", headers=HTML, follow_redirects=False).status_code == 200
    done = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert "prudent_token" not in client.cookies
    again = client.get("/review", headers=HTML, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login")


def test_label_post_needs_its_csrf_token(
    served: tuple[TestClient, SqlPredictionLog, list[str]], tokens: Tokens
) -> None:
    client, log, _ = served
    csrf = _sign_in(client, tokens)
    case = _case_id(client.get("/review", headers=HTML).text)
    body = {"prediction_id": case, "label": "setosa"}
    refused = client.post("/review/label", data=body)
    assert refused.status_code == 403 and "CSRF token" in refused.json()["error"]
    forged = client.post("/review/label", data={**body, "csrf": "x" * 43})
    assert forged.status_code == 403
    assert log.feedback_history(case) == []
    done = client.post("/review/label", data={**body, "csrf": csrf}, headers={"HX-Request": "true"})
    assert done.status_code == 200 and done.text.startswith('<main id="case"')
    assert [e.label for e in log.feedback_history(case)] == ["setosa"]
    assert log.review_case(case).status is CaseStatus.LABELED


def test_opening_the_page_again_shows_the_case_held_not_a_second_one(
    served: tuple[TestClient, SqlPredictionLog, list[str]], tokens: Tokens
) -> None:
    client, log, _ = served
    _sign_in(client, tokens)
    first = _case_id(client.get("/review", headers=HTML).text)
    assert _case_id(client.get("/review", headers=HTML).text) == first  # a reload
    assert _case_id(client.get("/review/next", headers=HTML).text) == first
    held = [c.record.id for c in log.list_review() if c.claimed_by == "reviewer"]
    assert held == [first]  # the others stay free for other reviewers


def test_skip_flag_and_undo_then_correct(
    served: tuple[TestClient, SqlPredictionLog, list[str]], tokens: Tokens
) -> None:
    client, log, _ = served
    csrf = _sign_in(client, tokens)
    hx = {"HX-Request": "true"}
    first = _case_id(client.get("/review", headers=HTML).text)
    page = client.post("/review/skip", data={"csrf": csrf, "prediction_id": first}, headers=hx)
    second = _case_id(page.text)
    page = client.post("/review/flag", data={"csrf": csrf, "prediction_id": second}, headers=hx)
    assert (log.review_case(first).status, log.review_case(second).status) == (
        CaseStatus.SKIPPED,
        CaseStatus.FLAGGED,
    )
    third = _case_id(page.text)
    page = client.post(
        "/review/label", data={"csrf": csrf, "prediction_id": third, "label": "setosa"}, headers=hx
    )
    fourth = _case_id(page.text)
    assert len({first, second, third, fourth}) == 4 and 'id="undo"' in page.text
    page = client.post(
        "/review/undo", data={"csrf": csrf, "prediction_id": fourth, "last": third}, headers=hx
    )
    assert _case_id(page.text) == third and "a new label is a correction" in page.text
    assert log.review_case(fourth).claimed_by is None  # given back to the queue
    client.post("/review/label", data={"csrf": csrf, "prediction_id": third, "label": "virginica"})
    assert [e.label for e in log.feedback_history(third)] == ["setosa", "virginica"]


def test_field_notes_compare_with_the_training_values(mixed_bundle: Bundle) -> None:
    seen = mixed_bundle.model.training_values
    assert seen is not None and seen.rows == 120  # the training split: 150 rows less the test
    _, _, _, high = seen.numbers["petal_length_(cm)"]
    schema = mixed_bundle.schema
    notes = field_notes({"petal_length_(cm)": high * 5, "petal_size": "enormous"}, schema, seen)
    assert notes["petal_length_(cm)"].startswith(f"above the training range (max {high:g}) beyond")
    assert notes["petal_size"] == "a category never seen in training: unknown to the model"
    middle = {name: (n[0] + n[3]) / 2 for name, n in seen.numbers.items()}
    inside = middle | {"petal_size": "large", "wide_sepal": "yes"}
    assert field_notes(inside, schema, seen) == {}
    # an input the case left out is missing, which no training row was
    left_out = field_notes(inside | {"sepal_width_(cm)": None}, schema, seen)
    assert left_out == {
        "sepal_width_(cm)": "missing, never missing in training: unknown to the model"
    }
    past = field_notes(inside | {"petal_length_(cm)": high + 0.1}, schema, seen)  # in the margin
    assert past == {"petal_length_(cm)": f"above the training range (max {high:g})"}
    negative = field_notes({"sepal_width_(cm)": -1}, schema, seen)["sepal_width_(cm)"]
    assert negative.endswith("of a sign never seen in training: unknown to the model")
    assert field_notes({"petal_size": "enormous"}, schema, None) == {}  # an older bundle


def test_dashboard_shows_the_queue_labels_and_realised_accuracy(
    served: tuple[TestClient, SqlPredictionLog, list[str]], tokens: Tokens
) -> None:
    client, log, ids = served
    assert client.get("/", headers=tokens.header("app")).status_code == 403
    before = client.get("/", headers=tokens.header("reviewer"))
    assert before.status_code == 200 and before.headers["content-security-policy"] == CSP
    assert before.text.count('<svg class="chart"') == 4
    assert "<b>4</b>" in before.text  # four cases waiting, no label yet
    truth = [log.get(i).probabilities for i in ids[1:]]
    pairs = [(i, max(p, key=p.__getitem__)) for i, p in zip(ids[1:], truth, strict=True)]
    body = {"items": [{"prediction_id": i, "label": label} for i, label in pairs]}
    assert client.post("/feedback", json=body, headers=tokens.header("reviewer")).status_code == 200
    after = client.get("/?window=2", headers=tokens.header("reviewer")).text
    realised = re.search(r"accuracy of accepted predictions</td><td>[^<]*</td><td>([^<]*)<", after)
    assert realised is not None and re.fullmatch(r"1\.000 \[0\.\d{3}, 1\.000\], n=3", realised[1])
    assert "labels, last hour<b>3</b>" in after and "<b>1</b>" in after  # one case waiting
    assert client.get("/?window=fortnight", headers=tokens.header("reviewer")).status_code == 400
    assert "No alert is pending or firing" in after
    spec = load_rules()[0]  # a state stored as the service's evaluator stores it
    # pending at T0, fired ten minutes later: the page says when it fired
    fired = T0 + timedelta(minutes=10)
    state = AlertState(
        spec.name, dict(spec.labels), "firing", threshold=0.2, since=T0, fired_at=fired
    )
    store = AlertStore.open(log.url)
    store.save([state.stored()], T0)
    store.close()
    alerted = client.get("/", headers=tokens.header("root")).text
    assert f"<b>{spec.name}</b>" in alerted
    assert ": firing since 2024-03-01 12:10 UTC (threshold 0.200)" in alerted
    assert "alerts firing<b>1</b>" in alerted
    for query, field in (("hours=-1", "hours"), ("hours=abc", "hours"), ("window=week", "window")):
        refused = client.get(f"/?{query}", headers=tokens.header("root"))
        assert refused.status_code == 400 and refused.json()["field"] == field, refused.text


def test_nearest_examples_are_training_rows_and_find_the_same_row_first(
    mixed_bundle: Bundle,
) -> None:
    nearest = NearestRows.from_bundle(mixed_bundle)
    assert nearest is not None and nearest.source == "training"
    frame, target = example_frame("mixed")  # the file the bundle was fitted on
    kept = set(nearest.frame["__row__"])
    held_out = set(pd.read_parquet(mixed_bundle.path / "test_rows.parquet")["__row__"])
    assert len(kept) == 120 and not kept & held_out  # every training row, no test row
    for row in (sorted(kept)[4], sorted(kept)[-1]):
        inputs = frame.drop(columns=[target]).iloc[row].to_dict()
        inputs["wide_sepal"] = "yes" if inputs["wide_sepal"] else "no"  # as the log has it
        found = nearest.nearest(inputs, k=3)
        assert len(found) == 3 and found[0].distance == 0.0 and found[0].source == "training"
        twins = frame.index[
            (frame.drop(columns=[target]) == frame.iloc[row].drop(target)).all(axis=1)
        ]
        assert found[0].row in set(twins) & kept  # the row itself (or an identical one)
        assert found[0].label == str(frame.at[row, target])
        assert [n.distance for n in found] == sorted(n.distance for n in found)
    test_row = min(held_out)
    inputs = frame.drop(columns=[target]).iloc[test_row].to_dict()
    inputs["wide_sepal"] = "yes" if inputs["wide_sepal"] else "no"
    assert all(n.row != test_row for n in nearest.nearest(inputs, k=3))
    assert nearest.nearest({"unknown": 1}) == ()


def test_nearest_examples_show_a_boolean_as_true_or_false(mixed_bundle: Bundle) -> None:
    nearest = NearestRows.from_bundle(mixed_bundle)
    assert nearest is not None
    frame, target = example_frame("mixed")
    inputs = frame.drop(columns=[target]).iloc[0].to_dict()
    shown = {n.inputs["wide_sepal"] for n in nearest.nearest(inputs, k=20)}
    assert shown and shown <= {"true", "false"}  # the rows keep 1.0 / 0.0


def test_a_case_another_model_made_is_labelled_among_that_models_classes(
    served: tuple[TestClient, SqlPredictionLog, list[str]], tokens: Tokens
) -> None:
    """After a promotion to a model of other classes, a case the old model deferred is shown
    with the old model's classes and labelled among them (the page offered and checked the
    served model's: its true label was refused)."""
    from prudent.store import PredictionRecord

    client, log, _ = served
    old = PredictionRecord(
        model_version="old0000", model_name="m", inputs={}, probabilities={"bad": 0.45,
        "good": 0.55}, prediction=None, decision="review", defer_reason="low_confidence",
    )  # fmt: skip
    log.write([old])
    csrf = _sign_in(client, tokens)
    page = client.get(f"/review?case={old.id}", headers=HTML).text
    assert _case_id(page) == old.id and 'value="good"' in page and 'value="setosa"' not in page
    refused = client.post(
        "/review/label", data={"csrf": csrf, "prediction_id": old.id, "label": "setosa"}
    )
    assert refused.status_code == 400 and "setosa" in refused.text
    client.post("/review/label", data={"csrf": csrf, "prediction_id": old.id, "label": "good"})
    assert [e.label for e in log.feedback_history(old.id)] == ["good"]
