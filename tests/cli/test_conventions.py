"""Command-line conventions: ``--version``, list options, results on stdout and notices on
stderr, ``show --json``, help without type noise, ``report --out`` leaving the bundle alone."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from prudent import __version__
from prudent.cli import app
from prudent.data import write_table
from tests.cli.conftest import N_UNLABELLED, Trained
from tests.fixtures import example, run_cli


def test_version_from_the_console_script() -> None:
    done = run_cli("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"prudent {__version__}"


def test_fit_puts_results_on_stdout_and_notices_on_stderr(trained: Trained) -> None:
    out, err = trained.fit.stdout, trained.fit.stderr
    assert "Leaderboard" in out and "Locked test set" in out and "Bundle written to" in out
    assert f"Dropped {N_UNLABELLED} row(s)" in err and "Fitting models" in err
    assert "Dropped" not in out and "Leaderboard" not in err


def test_list_options_take_commas_and_repeats(tmp_path: Path) -> None:
    frame = example("wine")
    write_table(frame, tmp_path / "wine.csv")
    result = CliRunner().invoke(
        app,
        [
            "fit", str(tmp_path / "wine.csv"), "--target", "target", "--out",
            str(tmp_path / "m"), "--time-limit", "5", "--folds", "2",
            "--drop", "ash,hue", "--drop", "proline", "--candidates", "knn",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    ran = {r["name"] for r in manifest["leaderboard"]} | {s["name"] for s in manifest["skipped"]}
    assert ran == {"majority", "logistic", "knn"}  # --candidates: baselines and knn only
    roles = {c["name"]: c["role"] for c in manifest["schema"]["columns"]}
    assert [c for c, r in roles.items() if r == "dropped"] == ["ash", "hue", "proline"]
    help_text = CliRunner().invoke(app, ["fit", "--help"]).output
    assert "(repeatable;" in help_text and "list[str]" not in help_text


def test_show_json_prints_the_manifest(trained: Trained) -> None:
    result = CliRunner().invoke(app, ["show", str(trained.bundle), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads((trained.bundle / "manifest.json").read_text())


def test_report_out_leaves_the_bundle_alone(trained: Trained, tmp_path: Path) -> None:
    bundle = Path(shutil.copytree(trained.bundle, tmp_path / "model"))
    before = {p.name: p.read_bytes() for p in bundle.iterdir()}
    result = CliRunner().invoke(app, ["report", str(bundle), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.html").read_text().lower().startswith("<!doctype html")
    assert {p.name: p.read_bytes() for p in bundle.iterdir()} == before


def test_report_out_makes_its_folder_as_fit_and_predict_out_do(
    trained: Trained, tmp_path: Path
) -> None:
    """'prudent: error: [Errno 2] No such file or directory' where fit --out and predict
    --out make the folder; Bundle.report likewise."""
    deep = tmp_path / "reports" / "2026" / "r.html"
    result = CliRunner().invoke(app, ["report", str(trained.bundle), "--out", str(deep)])
    assert result.exit_code == 0, result.output
    assert deep.read_text().lower().startswith("<!doctype html")
    from prudent.bundle import load

    again = load(trained.bundle).report(tmp_path / "python" / "r.html")
    assert again.read_bytes() == (trained.bundle / "report.html").read_bytes()


def test_leaderboard_fits_100_columns_one_line_per_model(trained: Trained) -> None:
    import io

    from rich.console import Console

    from prudent.cli._show import show_manifest

    manifest = json.loads((trained.bundle / "manifest.json").read_text())
    longest = dict(manifest["leaderboard"][-1], name="embeddings_logistic", baseline=False)
    manifest["leaderboard"].append(longest)
    buffer = io.StringIO()
    show_manifest(Console(file=buffer, width=100), manifest)
    lines = buffer.getvalue().splitlines()
    title = next(i for i, line in enumerate(lines) if line.startswith("Leaderboard"))
    rule = next(i for i in range(title, len(lines)) if lines[i].startswith("─"))
    table = lines[rule + 1 : rule + 1 + len(manifest["leaderboard"])]
    names = [r["name"] + ("*" if r["baseline"] else "") for r in manifest["leaderboard"]]
    assert [line.split()[0] for line in table] == names
    assert all(len(line.rstrip()) <= 100 and "…" not in line for line in table)


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if hasattr(command, "commands"):
            found += _commands(command, (*prefix, name))
    return found


def test_every_help_shows_its_defaults_and_no_markup_was_eaten() -> None:
    paths = _commands(typer.main.get_command(app))
    assert ("token", "revoke") in paths and ("fit",) in paths
    for path in paths:
        text = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"}).output
        assert not re.search(r" \.\s| \]", text), (path, text)  # a stripped "[default: …]"
        assert "<bool>" not in text, (path, text)  # a flag takes no value
    serve = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}).output
    for shown in ("127.0.0.1", "8080", "workers.*default: 1", "sqlite:///prudent-log.db"):
        assert re.search(f"default: {shown}" if "default" not in shown else shown, serve), shown
