"""The review page and the dashboard in a real headless Chromium, against a real server.

Needs the Debian ``chromium`` package and Playwright's Python package (never ``playwright
install``); without them the tests skip, and fail where ``PRUDENT_REQUIRE_BROWSER=1``.
Screenshots land in ``test-artifacts/review/``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api._server import Server, start_server
from tests.api.conftest import Tokens
from tests.report.test_report import _watch
from tests.report.test_report import browser as browser  # the shared fixture
from tests.serve._bundles import input_rows

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "review"
SCRIPT = "<script>window.__xss = 1</script>"


@pytest.fixture(scope="module")
def server(mixed_dir: Path, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
    Server
]:
    """``prudent serve`` of the mixed bundle, every accepted prediction audited, 8 predictions
    (the first with a ``<script>`` category)."""
    folder = tmp_path_factory.mktemp("review-browser")
    env = {"PRUDENT_REVIEW_AUDIT_SHARE": "1.0"}
    running = start_server(mixed_dir, folder, "--tokens", str(tokens.path), env=env)
    rows = input_rows("mixed", 8, seed=3)
    rows.loc[0, "petal_size"] = SCRIPT
    answer = httpx.post(
        f"{running.url}/predict",
        json={"records": rows.to_dict(orient="records")},
        headers=tokens.header("app"),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    yield running
    running.stop()


def _sign_in(page: Any, server: Server, tokens: Tokens, name: str) -> None:
    page.goto(f"{server.url}/review")
    assert page.url.startswith(f"{server.url}/login")
    page.fill("input[name=token]", tokens.secrets[name])
    page.click("button[type=submit]")
    page.wait_for_selector("#case[data-case]")


def _labels(server: Server) -> list[tuple[str, str, str]]:
    with sqlite3.connect(server.folder / "log.db") as db:
        rows = db.execute("SELECT prediction_id, label, source FROM feedback ORDER BY id")
        return [tuple(r) for r in rows]


def test_reviewer_labels_three_cases_by_keyboard(
    browser: Any, server: Server, tokens: Tokens
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 400, "height": 900})
    errors, failed, remote = _watch(page)
    _sign_in(page, server, tokens, "reviewer")
    page.screenshot(path=str(ARTIFACTS / "review-400.png"), full_page=True)
    seen = []
    for _ in range(3):
        case = page.get_attribute("#case", "data-case")
        seen.append(case)
        page.keyboard.press("1")
        page.wait_for_selector(f"#case:not([data-case='{case}'])")
    labelled = _labels(server)
    assert [r[0] for r in labelled] == seen and {r[2] for r in labelled} == {"reviewer"}
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert page.evaluate("window.__xss") is None
    page.goto(f"{server.url}/?window=4")
    page.screenshot(path=str(ARTIFACTS / "dashboard-400.png"), full_page=True)
    realised = page.locator("td", has_text="accuracy of accepted predictions").first
    measured = realised.locator("xpath=following-sibling::td[2]").inner_text()
    dash_overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.close()
    assert overflow <= 0 and dash_overflow <= 0, "a page scrolls sideways at 400 px"
    assert re.fullmatch(r"[01]\.\d{3} \[[01]\.\d{3}, [01]\.\d{3}\], n=[1-3]", measured), measured
    assert errors == [] and failed == []
    assert all(url.startswith(server.url) for url in remote)
