"""``serve --shadow``: the same requests get byte-identical answers with and without a shadow,
and the shadow's answers land in the log under the served ids."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import prudent
from prudent.bundle import Bundle
from prudent.store import ShadowLog
from tests.api.conftest import make_client, wait_ready
from tests.serve._bundles import cached_bundle, input_rows

_ID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _requests(bundle: Bundle) -> list[tuple[str, dict[str, object]]]:
    rows = [input_rows("numeric", n, seed=n) for n in (1, 5, 17)]
    v2 = {"inputs": [
        {"name": c, "shape": [len(rows[1])], "datatype": "FP64", "data": rows[1][c].tolist()}
        for c in bundle.schema.feature_names
    ]}  # fmt: skip
    return [
        *(("/predict", {"records": r.to_dict(orient="records")}) for r in rows),
        ("/v2/models/prudent/infer", v2),
    ]


def _shadow_running(client: TestClient, timeout: float = 300.0) -> None:
    """Wait until the shadow's process has loaded its bundle (the first start imports prudent
    in the fork server: seconds of CPU, longer on a loaded machine)."""
    deadline = time.monotonic() + timeout
    shadow = client.app.state.prudent.predictor.shadow
    while shadow.pid is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert shadow.pid is not None, "the shadow's process did not start"


def _answers(bundle: Bundle, folder: Path, **settings: object) -> tuple[list[bytes], int]:
    """Each answer's status, content type and body with its prediction ids blanked."""
    answers, ids = [], 0
    with make_client(bundle, folder, None, **settings) as client:
        wait_ready(client)
        if "shadow" in settings:
            _shadow_running(client)
        for path, body in _requests(bundle):
            answer = client.post(path, json=body)
            ids += len(set(_ID.findall(answer.content)))
            head = f"{answer.status_code} {answer.headers['content-type']}\n".encode()
            answers.append(head + _ID.sub(b"<id>", answer.content))
    return answers, ids


def test_answers_are_byte_identical_with_a_shadow_and_its_answers_are_logged(
    numeric_bundle: Bundle, bundle_root: Path, tmp_path: Path
) -> None:
    shadow_dir = cached_bundle("numeric_baseline", bundle_root)
    (tmp_path / "plain").mkdir()
    (tmp_path / "shadowed").mkdir()
    plain, _ = _answers(numeric_bundle, tmp_path / "plain")
    # a timeout no loaded test machine reaches: this test is about answers and ids
    shadowed, served = _answers(
        numeric_bundle, tmp_path / "shadowed", shadow=shadow_dir, shadow_timeout_ms=60_000
    )
    assert shadowed == plain
    assert all(a.startswith(b"200 application/json") for a in plain), plain[0][:300]
    with ShadowLog.open(tmp_path / "shadowed" / "log.db") as store:
        counts = store.counts()  # the service scored its queue before it stopped
    assert counts == [(numeric_bundle.version, prudent.load(shadow_dir).version, served, 0)]
    assert served == 1 + 5 + 17 + 5


def test_a_shadow_that_cannot_load_is_left_out_and_the_service_serves(
    numeric_bundle: Bundle, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = input_rows("numeric", 2).to_dict(orient="records")
    with (
        caplog.at_level(logging.ERROR, logger="prudent.serve"),
        make_client(numeric_bundle, tmp_path, None, shadow=tmp_path / "nowhere") as client,
    ):
        wait_ready(client)
        answer = client.post("/predict", json={"records": rows})
    assert answer.status_code == 200, answer.text
    said = [r.getMessage() for r in caplog.records if r.name == "prudent.serve"]
    assert any(
        f"Shadow {tmp_path / 'nowhere'} is not scored, serving without it" in m for m in said
    )
