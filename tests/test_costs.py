"""The CPU costs a fit records and a later fit of the same key reads (:mod:`prudent._costs`)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import prudent
from prudent import _costs
from prudent._costs import CACHE_ENV, CostBook, cost_book, fit_key, recorded_cost


def test_a_fit_reads_the_figures_an_earlier_fit_of_the_same_key_recorded(tmp_path: Path) -> None:
    os.environ[CACHE_ENV] = str(tmp_path)
    key = fit_key("spec", b"table")
    with cost_book(key) as first:
        measured = [recorded_cost("pilot/knn", s) for s in (0.2, 0.3)] + [
            recorded_cost("spent", 1.5)
        ]
        assert first.save()
    assert measured == [0.2, 0.3, 1.5]
    with cost_book(key) as again:
        read = [recorded_cost("pilot/knn", s) for s in (9.0, 9.0)]
        read.append(recorded_cost("spent", 9.0))
        read.append(recorded_cost("spent", 4.0))  # a measurement the first fit did not make
        assert again.reused == 3
        assert again.save()  # it adds the new figure
    assert read == [0.2, 0.3, 1.5, 4.0]
    with cost_book(fit_key("other spec", b"table")):
        assert recorded_cost("pilot/knn", 7.0) == 7.0
    assert recorded_cost("pilot/knn", 5.0) == 5.0  # outside a fit: what was measured


def test_records_switched_off_keep_and_read_nothing(tmp_path: Path) -> None:
    os.environ[CACHE_ENV] = "off"
    with cost_book(fit_key("x")) as book:
        recorded_cost("spent", 1.0)
        assert not book.save()
    os.environ[CACHE_ENV] = str(tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_record_that_cannot_be_read_or_written_never_fails_the_fit(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    book = CostBook(tmp_path / "bad.json")
    assert book.cost("spent", 2.0) == 2.0 and book.reused == 0
    (tmp_path / "old.json").write_text(json.dumps({"format": 0, "costs": {"spent#1": 9.0}}))
    assert CostBook(tmp_path / "old.json").cost("spent", 2.0) == 2.0
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    unwritable = CostBook(blocked / "sub" / "k.json")  # its folder cannot be made
    unwritable.cost("spent", 1.0)
    assert not unwritable.save()


def test_a_folder_keeps_only_the_newest_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_costs, "KEEP_RECORDS", 3)
    for i in range(5):
        book = CostBook(tmp_path / f"{i}.json")
        book.cost("spent", float(i))
        assert book.save()
        then = time.time() - 100 * (5 - i)  # each record older than the next
        os.utime(tmp_path / f"{i}.json", (then, then))
    kept = sorted(p.name for p in tmp_path.glob("*.json"))
    assert kept == ["2.json", "3.json", "4.json"]


def test_a_fit_the_wall_guard_cut_records_nothing(tmp_path: Path) -> None:
    os.environ[CACHE_ENV] = str(tmp_path)
    started = time.monotonic() - 25.0  # as if the machine took 25 s of a 30 s limit to start
    bundle = prudent.fit(
        prudent.load_example("breast_cancer"), "target", time_limit=30, started=started
    )
    assert any("The machine ran slower" in n for n in bundle.manifest["notices"])
    assert not list(tmp_path.glob("*.json"))
    prudent.fit(prudent.load_example("breast_cancer"), "target", time_limit=30, wall_guard=False)
    assert len(list(tmp_path.glob("*.json"))) == 1  # a fit the guard did not cut records


@pytest.fixture(autouse=True)
def _restore_folder() -> object:
    saved = os.environ.get(CACHE_ENV)
    yield None
    if saved is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = saved


def test_the_key_names_the_source_code_so_other_code_s_costs_are_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "sub" / "b.py").write_text("y = 2\n")
    first = _costs.source_digest(package)
    (package / "sub" / "__pycache__").mkdir()
    (package / "sub" / "__pycache__" / "b.cpython-311.pyc").write_bytes(b"\x00compiled")
    (package / "notes.txt").write_text("not code")
    assert _costs.source_digest(package) == first  # only the source counts
    (package / "sub" / "b.py").write_text("y = 3\n")
    changed = _costs.source_digest(package)
    assert changed != first
    (package / "sub" / "b.py").rename(package / "b.py")
    assert _costs.source_digest(package) not in {first, changed}  # a moved file too
    # the key reads prudent's own digest: other code, another key
    key = fit_key("spec", b"table")
    monkeypatch.setattr(_costs, "_own_source", lambda: first)
    assert fit_key("spec", b"table") != key
