"""People in the loop, end to end, in a real headless Chromium against a real server.

``prudent fit`` on iris (plus a categorical column) with a 5 s limit → ``prudent serve`` on
127.0.0.1 with every accepted prediction audited → predictions → the queue fills → a
reviewer signs in and labels cases with the keyboard (the true labels) → they are feedback in
the log and the dashboard shows the realised accuracy the test computes itself. Then: two
browser contexts never hold the same case, a ``<script>`` input renders as text, and a label
POST without its CSRF token is refused.

Needs the Debian ``chromium`` package and Playwright's Python package (never ``playwright
install``); without them the tests skip, and fail where ``PRUDENT_REQUIRE_BROWSER=1``.
Screenshots land in ``test-artifacts/review/``: the review page at 400 and 1280 px, the
dashboard after the labels at 400 and 1280 px, and the two reviewers side by side.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import prudent
from prudent.data import write_table
from tests.api._server import Server, start_server
from tests.api.conftest import Tokens
from tests.fixtures import run_cli
from tests.report.test_report import _watch
from tests.report.test_report import browser as browser  # the shared fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "review"
SCRIPT = "<script>window.__xss = 1</script>"
STATIC = Path(prudent.__file__).parent / "api" / "static"
N_ROWS = 16


@dataclass
class Served:
    """The running service and what the test knows about its predictions."""

    server: Server
    truth: dict[str, str]
    """prediction id → the true label."""
    answers: dict[str, dict[str, Any]]
    """prediction id → the service's answer."""
    script_id: str


@pytest.fixture(scope="module")
def served(tokens: Tokens, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("people")
    frame = prudent.load_example("iris")
    frame["petal_size"] = (frame["petal_length_(cm)"] > 4.0).map({True: "large", False: "small"})
    write_table(frame, root / "train.csv")
    done = run_cli("fit", root / "train.csv", "--target", "target", "--out", root / "model",
                   "--time-limit", "5")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    env = {"PRUDENT_REVIEW_AUDIT_SHARE": "1.0"}
    server = start_server(root / "model", root, "--tokens", str(tokens.path), env=env)
    try:
        rows = frame.sample(N_ROWS, random_state=1).reset_index(drop=True)
        rows.loc[0, "petal_size"] = SCRIPT
        records = rows.drop(columns="target").to_dict(orient="records")
        answer = httpx.post(f"{server.url}/predict", json={"records": records},
                            headers=tokens.header("app"), timeout=60)  # fmt: skip
        assert answer.status_code == 200, answer.text
        predictions = answer.json()["predictions"]
        ids = [p["prediction_id"] for p in predictions]
        yield Served(
            server,
            dict(zip(ids, rows["target"].astype(str), strict=True)),
            dict(zip(ids, predictions, strict=True)),
            ids[0],
        )
    finally:
        server.stop()


def _sign_in(context: Any, served: Served, tokens: Tokens, name: str, width: int = 400) -> Any:
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{served.server.url}/review")
    assert page.url.startswith(f"{served.server.url}/login")
    page.fill("input[name=token]", tokens.secrets[name])
    page.click("button[type=submit]")
    page.wait_for_selector("#case")
    return page


def _feedback(served: Served) -> list[tuple[str, str, str]]:
    with sqlite3.connect(served.server.folder / "log.db") as db:
        rows = db.execute("SELECT prediction_id, label, source FROM feedback ORDER BY id")
        return [(str(a), str(b), str(c)) for a, b, c in rows]


def _current(page: Any) -> str | None:
    value = page.get_attribute("#case", "data-case")
    return None if value is None else str(value)


def _press_true_label(page: Any, served: Served) -> str:
    """Press the key of the case's true label; wait for the next case; return the case."""
    case = _current(page)
    assert case is not None, "the queue ran dry"
    key = page.get_attribute(f'button.label[data-label="{served.truth[case]}"]', "data-key")
    page.keyboard.press(key)
    page.wait_for_selector(f"#case:not([data-case='{case}'])")
    return case


def test_reviewer_labels_by_keyboard_and_the_dashboard_shows_realised_accuracy(
    browser: Any, served: Served, tokens: Tokens
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context()
    page = _sign_in(context, served, tokens, "reviewer")
    errors, failed, remote = _watch(page)
    page.screenshot(path=str(ARTIFACTS / "review-400.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    labelled: list[str] = []
    accepted = lambda: [c for c in labelled if served.answers[c]["decision"] == "accept"]  # noqa: E731
    while len(labelled) < 3 or not accepted():
        assert len(labelled) < N_ROWS - 4, "no accepted prediction among the cases served"
        labelled.append(_press_true_label(page, served))
    assert _feedback(served) == [(c, served.truth[c], "reviewer") for c in labelled]
    right = sum(served.answers[c]["prediction"] == served.truth[c] for c in accepted())
    shots = []
    for size in (1280, 400):
        page.set_viewport_size({"width": size, "height": 900})
        page.goto(f"{served.server.url}/?window=day")
        shots.append(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{size}.png"), full_page=True)
    cell = page.locator("td", has_text="accuracy of accepted predictions").first
    measured = cell.locator("xpath=following-sibling::td[2]").inner_text()
    charts = page.locator("svg.chart").count()
    context.close()
    assert re.fullmatch(rf"{right / len(accepted()):.3f} \[\d\.\d{{3}}, \d\.\d{{3}}\], "
                        rf"n={len(accepted())}", measured), measured  # fmt: skip
    assert charts == 4 and width <= 0 and max(shots) <= 0, "a page scrolls sideways"
    assert (errors, failed) == ([], [])
    assert all(url.startswith(served.server.url) for url in remote)


def test_two_reviewers_never_hold_the_same_case(
    browser: Any, served: Served, tokens: Tokens
) -> None:
    one, two = browser.new_context(), browser.new_context()
    pages = [
        _sign_in(one, served, tokens, "reviewer", 640),
        _sign_in(two, served, tokens, "reviewer2", 640),
    ]
    held: list[set[str]] = [set(), set()]
    for step in range(3):
        for k, page in enumerate(pages):
            case = _current(page)
            if case is not None:
                held[k].add(case)
                assert case not in held[1 - k], f"both reviewers were given {case}"
                page.keyboard.press("s")
                page.wait_for_selector(f"#case:not([data-case='{case}'])")
        if step == 0:
            pages[1].screenshot(path=str(ARTIFACTS / "second-reviewer-640.png"), full_page=True)
    one.close()
    two.close()
    assert held[0] and held[1] and not held[0] & held[1]


def test_script_input_renders_as_text_and_csrf_is_checked(
    browser: Any, served: Served, tokens: Tokens
) -> None:
    context = browser.new_context()
    page = _sign_in(context, served, tokens, "both", 1280)
    errors, _, _ = _watch(page)
    page.goto(f"{served.server.url}/review?case={served.script_id}")
    assert _current(page) == served.script_id
    page.screenshot(path=str(ARTIFACTS / "review-1280.png"), full_page=True)
    shown = page.locator(".field", has_text="petal_size").inner_text()
    scripts = page.evaluate("[...document.scripts].map(s => s.src)")
    xss = page.evaluate("window.__xss")
    form = {"prediction_id": served.script_id, "label": "setosa"}
    refused = page.request.post(f"{served.server.url}/review/label", form=form)
    status, body = refused.status, refused.json()
    context.close()
    assert SCRIPT in shown and xss is None and errors == []
    assert sorted(s.rsplit("/", 1)[1] for s in scripts) == ["htmx.min.js", "review.js"]
    assert status == 403 and "CSRF token" in body["error"]
    assert served.script_id not in {f[0] for f in _feedback(served)}


def test_type_ahead_picks_a_class_among_many(browser: Any) -> None:
    """With 12 classes: keys 1-9 cover the first nine, '/' then typing finds the others."""
    from prudent.api._pages import page_html
    from prudent.api._review_html import case_html
    from prudent.data import infer_schema
    from prudent.feedback import case_view
    from prudent.store import PredictionRecord, ReviewCase

    classes = [f"class-{name}" for name in "abcdefghijkl"]
    record = PredictionRecord(model_version="v", model_name="m", inputs={"x": 1.0},
                              probabilities={c: 1 / 12 for c in classes}, prediction=None,
                              decision="review", defer_reason="low_confidence")  # fmt: skip
    schema = infer_schema(pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]}), "y")
    view = case_view(ReviewCase(record=record, reason="low_confidence"), schema, None)
    markup = page_html("t", case_html(view, classes, "token"), scripts=("review.js",))
    assert markup.count('data-key=""') == 3 and 'id="typeahead"' in markup
    posted: list[str] = []
    page = browser.new_page()

    def answer(route: Any) -> None:
        if route.request.method == "POST":
            posted.append(route.request.post_data)
            route.fulfill(status=200, content_type="text/html", body="<p>done</p>")
        elif route.request.url.endswith("/static/review.js"):
            route.fulfill(path=str(STATIC / "review.js"), content_type="text/javascript")
        else:
            route.fulfill(status=200, content_type="text/html", body=markup)

    page.route("http://prudent.test/**", answer)
    page.goto("http://prudent.test/review")
    page.keyboard.press("/")
    page.keyboard.type("ss-k")
    visible = page.locator("button.label:visible").all_inner_texts()
    page.keyboard.press("Enter")
    page.wait_for_selector("text=done")
    page.close()
    assert visible == ["class-k"]
    assert posted and "label=class-k" in posted[0] and "csrf=token" in posted[0]
