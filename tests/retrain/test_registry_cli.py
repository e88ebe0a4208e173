"""``prudent registry``: every sub-command through Typer's runner, and a refusal for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prudent.cli import app
from tests.cli.test_fit_command import assert_one_line_error
from tests.fixtures import run_main


def invoke(*args: str | Path) -> str:
    done = CliRunner().invoke(app, ["registry", *map(str, args)])
    assert done.exit_code == 0, (done.output, done.exception)
    return done.output


@pytest.mark.parametrize(
    "command", ["", "register", "list", "promote", "rollback", "history", "shadow"]
)
def test_registry_help_names_each_command(command: str) -> None:
    done = CliRunner().invoke(app, ["registry", *([command] if command else []), "--help"])
    assert done.exit_code == 0
    expected = "--reason" if command in ("register", "promote", "rollback") else "Usage"
    assert expected in done.output
    if command in ("list", "history", "shadow"):
        assert "--json" in done.output


def test_registry_register_promote_rollback_round_trip(tmp_path: Path, bundle_dir: Path) -> None:
    reg = tmp_path / "reg"
    assert invoke("register", reg, bundle_dir, "--by", "ann").startswith("Registered v1 (model ")
    invoke("register", reg, bundle_dir, "--by", "ann")
    assert "champion -> v1." in invoke("promote", reg, "v1", "--by", "ann")
    refused = CliRunner().invoke(app, ["registry", "promote", str(reg), "2"])
    assert refused.exit_code != 0  # the same model again is better on nothing: the gate refuses
    assert str(refused.exception).startswith("Refused: v2 is "), refused.exception
    assert "not better than v1 on any check" in str(refused.exception) or "latency" in str(
        refused.exception
    )  # the same model again: better on nothing (or, on a loaded machine, slower)
    out = invoke("promote", reg, "2", "--by", "bob", "--reason", "better on May", "--force")
    assert out == "Promoted: champion -> v2 (was v1) (forced).\n"
    assert invoke("rollback", reg, "--by", "cy") == "Rolled back: champion -> v1 (was v2).\n"
    listed = json.loads(invoke("list", reg, "--json"))
    assert [(v["name"], v["aliases"]) for v in listed] == [("v1", ["champion"]), ("v2", [])]
    events = json.loads(invoke("history", reg, "--json"))
    assert [e["action"] for e in events] == ["register"] * 2 + ["promote"] * 2 + ["rollback"]
    assert events[3]["reason"] == "better on May" and events[3]["by"] == "bob"
    assert events[3]["forced"] and (reg / "gate" / "v2-vs-v1.html").is_file()
    assert "│ v1      │ champion │" in invoke("list", reg)
    assert "rollback" in invoke("history", reg)


def test_registry_refusals_are_one_line(tmp_path: Path, bundle_dir: Path) -> None:
    assert_one_line_error(run_main("registry", "list", tmp_path), "is not a model registry")
    done = run_main("registry", "register", tmp_path / "reg", tmp_path)
    assert_one_line_error(done, "is not a prudent bundle (no manifest.json)")
