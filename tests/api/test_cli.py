"""The service commands: serve, feedback and token, through a Typer app they register on."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from prudent.api import load_tokens
from prudent.api._tokens import find_token
from prudent.bundle import Bundle
from prudent.cli._serve import export_settings, register
from prudent.config import Settings
from prudent.errors import ConfigError, FeedbackError
from prudent.serve import Predictor
from prudent.store import PredictionRecord, SqlPredictionLog
from tests.fixtures import run_cli
from tests.serve._bundles import input_rows


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    """A Typer app with the service commands registered."""
    app = typer.Typer()
    register(app)
    return app


@pytest.mark.parametrize(
    ("command", "line"),
    [
        ("serve", "Serve a bundle over HTTP"),
        ("feedback", "Attach true labels"),
        ("token add", "Create an API token"),
        ("token list", "List the tokens"),
        ("token revoke", "Revoke a token"),
    ],
)
def test_cli_help(cli: typer.Typer, command: str, line: str) -> None:
    result = CliRunner().invoke(cli, [*command.split(), "--help"])
    assert result.exit_code == 0 and line in result.output


def test_cli_token_prints_once_and_stores_the_hash(cli: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    result = CliRunner().invoke(
        cli, ["token", "add", "ops", "--role", "admin", "--tokens", str(path), "--rate-limit", "5"]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[0]
    entry = find_token(load_tokens(path), secret)
    assert entry is not None and entry.roles == ("admin",) and entry.rate_limit == 5
    assert secret not in path.read_text()
    again = CliRunner().invoke(
        cli, ["token", "add", "ops", "--role", "admin", "--tokens", str(path)]
    )
    assert isinstance(again.exception, ConfigError) and "already has a token named 'ops'" in str(
        again.exception
    )


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (["--rate-limit", "-1"], "Token rate_limit is invalid: Input should be greater than 0 "
         "(-1.0 was given); --rate-limit is requests per second"),
        (["--burst", "0"], "Token burst is invalid: Input should be greater than or equal to 1 "
         "(0 was given); --burst is a whole number"),
        (["--role", "superuser"], "('superuser' was given); roles are ['predict', 'review'"),
    ],
)  # fmt: skip
def test_cli_token_add_names_the_bad_option_and_its_own_rule(
    cli: typer.Typer, tmp_path: Path, option: list[str], said: str
) -> None:
    """Every refusal ended 'roles are [...]', whatever the field (a rate limit of -1 too)."""
    args = ["token", "add", "ops", "--tokens", str(tmp_path / "t.yaml"), *option]
    done = CliRunner().invoke(cli, args if "--role" in option else [*args, "--role", "admin"])
    assert isinstance(done.exception, ConfigError)
    assert said in str(done.exception)
    assert ("roles are" in str(done.exception)) == ("--role" in option)


def test_cli_feedback_counts_every_outcome(
    cli: typer.Typer, numeric_bundle: Bundle, numeric_dir: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    with SqlPredictionLog.open(url) as log:
        ids = asyncio.run(
            Predictor(numeric_bundle, log).predict_records(input_rows("numeric", 2))
        ).ids
    labels = pd.DataFrame(
        {
            "prediction_id": [ids[0], ids[0], ids[0], "nope", ids[1]],
            "label": ["benign", "benign", "malignant", "benign", "maybe"],
        }
    )
    labels.to_csv(tmp_path / "labels.csv", index=False)
    result = CliRunner().invoke(
        cli, ["feedback", str(numeric_dir), str(tmp_path / "labels.csv"), "--log-db", url]
    )
    assert result.exit_code == 1, result.output  # some ids were unknown or refused
    assert "1 stored, 1 duplicate, 1 correction, 1 unknown, 1 refused" in result.stdout
    assert "unknown prediction_id(s): nope" in result.stderr
    assert f"refused prediction_id(s): {ids[1]}" in result.stderr
    assert "row 4: " in result.stderr and "row 5: " in result.stderr  # each refusal, with why
    assert "'maybe'" in result.stderr.split("row 5: ")[1]
    with SqlPredictionLog.open(url) as log:
        assert [e.label for e in log.feedback_history(ids[0])] == ["benign", "malignant"]


def test_the_installed_command_exits_1_when_feedback_refuses_a_row(
    numeric_bundle: Bundle, numeric_dir: Path, tmp_path: Path
) -> None:
    """The real ``prudent`` entry point (not Typer's runner): a refused row exits 1, as the
    help says (the status Typer returned was dropped, and the command exited 0)."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    with SqlPredictionLog.open(url) as log:
        ids = asyncio.run(
            Predictor(numeric_bundle, log).predict_records(input_rows("numeric", 1))
        ).ids
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"prediction_id": [ids[0], "nope"], "label": ["benign", "benign"]}).to_csv(
        labels, index=False
    )
    done = run_cli("feedback", numeric_dir, labels, "--log-db", url)
    assert done.returncode == 1, done.stderr
    assert "unknown prediction_id(s): nope" in done.stderr
    ok = tmp_path / "ok.csv"
    pd.DataFrame({"prediction_id": [ids[0]], "label": ["malignant"]}).to_csv(ok, index=False)
    assert run_cli("feedback", numeric_dir, ok, "--log-db", url).returncode == 0


def test_cli_feedback_refuses_a_log_without_this_bundle(
    cli: typer.Typer, numeric_dir: Path, tmp_path: Path
) -> None:
    pd.DataFrame({"prediction_id": ["a"], "label": ["benign"]}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    nowhere = tmp_path / "elsewhere" / "log.db"
    args = ["feedback", str(numeric_dir), str(tmp_path / "labels.csv"), "--log-db"]
    result = CliRunner().invoke(cli, [*args, f"sqlite:///{nowhere}"])
    assert isinstance(result.exception, FeedbackError)
    assert "No prediction log at" in str(result.exception) and not nowhere.exists()
    with SqlPredictionLog.open(f"sqlite:///{tmp_path / 'empty.db'}"):
        pass  # a log that exists but holds no prediction of this bundle
    result = CliRunner().invoke(cli, [*args, f"sqlite:///{tmp_path / 'empty.db'}"])
    assert isinstance(result.exception, FeedbackError)
    assert "holds no prediction of bundle" in str(result.exception)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_installed_serve_refuses_a_port_in_use_in_one_line(
    numeric_dir: Path, tmp_path: Path, workers: str
) -> None:
    """A port in use ends ``prudent serve`` before anything starts: one line, status 2, no
    log database (uvicorn's bind error came after the bundle loaded, then a false "ready",
    status 3, and the log database created)."""
    log = tmp_path / "log.db"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = ["--no-auth", "--port", str(port), "--workers", workers]
        done = run_cli("serve", numeric_dir, *args, "--log-db", f"sqlite:///{log}")
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"prudent: error: port {port} on 127.0.0.1 is in use; stop what listens there, or "
        "choose another port with --port (or PRUDENT_PORT)."
    ]
    assert "ready" not in done.stdout + done.stderr and not log.exists()


def test_cli_serve_refuses_no_auth_off_loopback(cli: typer.Typer, numeric_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", str(numeric_dir), "--no-auth", "--host", "0.0.0.0"])
    assert isinstance(result.exception, ConfigError)
    assert "no_auth is allowed only on a loopback host" in str(result.exception)


def test_a_bad_setting_is_named_as_it_was_given(
    cli: typer.Typer, numeric_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--port 99999 was refused as 'Setting PRUDENT_PORT is invalid', a variable the user had
    not set; an option names its setting and the number given, the environment its variable."""
    given = CliRunner().invoke(cli, ["serve", str(numeric_dir), "--no-auth", "--port", "99999"])
    assert str(given.exception) == (
        "Setting port is invalid: Input should be less than or equal to 65535; 99999 was given."
    )
    monkeypatch.setenv("PRUDENT_PORT", "99999")
    with pytest.raises(ConfigError, match=r"^Setting PRUDENT_PORT is invalid: Input should be"):
        Settings.load()


def test_export_settings_round_trips_through_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(
        bundle="m", port=9001, no_auth=True, deadline_ms=250, prometheus_multiproc_dir="/tmp/p"
    )
    for key, value in export_settings(settings).items():
        monkeypatch.setenv(key, value)
    assert Settings.load() == settings


def _tokens_file(cli: typer.Typer, path: Path) -> dict[str, str]:
    """Add tokens 'app' (predict, review; given with a comma) and 'ops' (admin) via the CLI."""
    made = {}
    for name, role in (("app", "predict,review"), ("ops", "admin")):
        result = CliRunner().invoke(
            cli, ["token", "add", name, "--role", role, "--tokens", str(path)]
        )
        assert result.exit_code == 0, result.output
        made[name] = result.stdout.strip().splitlines()[0]
    return made


def test_cli_token_list_shows_names_roles_created_never_a_secret(
    cli: typer.Typer, tmp_path: Path
) -> None:
    path = tmp_path / "tokens.yaml"
    made = _tokens_file(cli, path)
    shown = CliRunner().invoke(cli, ["token", "list", "--tokens", str(path)])
    assert shown.exit_code == 0, shown.output
    assert "predict, review" in shown.stdout and "admin" in shown.stdout
    as_json = CliRunner().invoke(cli, ["token", "list", "--tokens", str(path), "--json"])
    rows = {r["name"]: r for r in json.loads(as_json.stdout)}
    assert rows["app"]["roles"] == ["predict", "review"] and rows["ops"]["roles"] == ["admin"]
    assert rows["app"]["created"].startswith(str(datetime.now(UTC).year))
    for secret in made.values():
        assert secret not in shown.stdout + as_json.stdout
        assert secret[len("prudent_") :][:12] not in shown.stdout + as_json.stdout


def test_cli_token_revoke_by_name_or_id(cli: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    made = _tokens_file(cli, path)
    ops_id = find_token(load_tokens(path), made["ops"]).id  # type: ignore[union-attr]
    result = CliRunner().invoke(cli, ["token", "revoke", ops_id[:6], "--tokens", str(path)])
    assert result.exit_code == 0 and "Revoked token 'ops'" in result.stdout
    result = CliRunner().invoke(cli, ["token", "revoke", "app", "--tokens", str(path)])
    assert result.exit_code == 0 and "Revoked token 'app'" in result.stdout
    assert load_tokens(path) == [] and path.stat().st_mode & 0o077 == 0
    again = CliRunner().invoke(cli, ["token", "revoke", "app", "--tokens", str(path)])
    assert isinstance(again.exception, ConfigError)
    assert "no token named 'app'" in str(again.exception)


def test_cli_feedback_checks_a_label_against_its_own_predictions_model(
    cli: typer.Typer, numeric_bundle: Bundle, numeric_dir: Path, tmp_path: Path
) -> None:
    """A prediction of an older model of ['benign', 'malignant', 'unsure'] in the same log
    takes 'unsure' (a class since dropped), as ``prudent review label`` does; it was refused
    against the bundle's own classes."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    older = PredictionRecord(
        model_version="0123456789ab",
        model_name="older",
        inputs={},
        probabilities={"benign": 0.2, "malignant": 0.2, "unsure": 0.6},
        prediction="unsure",
        decision="accept",
    )
    with SqlPredictionLog.open(url) as log:
        ids = asyncio.run(
            Predictor(numeric_bundle, log).predict_records(input_rows("numeric", 1))
        ).ids
        log.write([older])
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"prediction_id": [older.id, ids[0]], "label": ["unsure", "unsure"]}).to_csv(
        labels, index=False
    )
    result = CliRunner().invoke(cli, ["feedback", str(numeric_dir), str(labels), "--log-db", url])
    assert "1 stored, 0 duplicate, 0 correction, 0 unknown, 1 refused" in result.stdout
    assert f"refused prediction_id(s): {ids[0]}" in result.stderr
