"""``prudent quickstart``: fit, report and predict on a real dataset shipped with prudent.

The default, Fisher's iris measurements, shows what prudent is for in a minute: an exact
rule decides the rows it knows (every setosa has petals under 2 cm, every other iris over
3 cm), the model accepts what it is sure of and sends the versicolor/virginica borderline to
review, and three rows typed in millimetres instead of centimetres are flagged out of
distribution instead of being answered with confidence.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["new_rows", "next_steps", "register"]

RULES = {
    "iris": """rules:
  - name: small-petals-are-setosa
    when: "`petal_length_(cm)` < 2.5"
    then: setosa
    description: >-
      In Fisher's data every setosa has petals under 2 cm long and every other iris over 3 cm.
""",
}
"""Exact rules known for a shipped dataset, written beside its data for ``--rules``."""

WRONG_UNIT_ROWS = 3
"""Rows of ``new.csv`` whose numbers are typed 10 times too large (millimetres for cm)."""


def new_rows(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off the rows to predict: a 10% sample, plus a few with a unit mistake.

    Returns the training rows and the rows to predict (no target); the last
    :data:`WRONG_UNIT_ROWS` rows to predict repeat sampled rows with every number times 10,
    when the table has numbers.

    Examples
    --------
    >>> from prudent.data import load_example
    >>> train, new = new_rows(load_example("iris"), "target")
    >>> len(train), len(new)
    (135, 18)
    >>> float(new["petal_length_(cm)"].iloc[-3] / new["petal_length_(cm)"].iloc[0])
    10.0
    """
    import pandas as pd

    sample = frame.sample(frac=0.1, random_state=0)
    new = sample.drop(columns=[target]).reset_index(drop=True)
    numbers = new.select_dtypes("number").columns
    if len(numbers) == 0:
        return frame.drop(index=sample.index), new
    wrong = new.head(WRONG_UNIT_ROWS).copy()
    wrong[numbers] = wrong[numbers] * 10
    return frame.drop(index=sample.index), pd.concat([new, wrong], ignore_index=True)


def next_steps(out: Path, row: dict[Any, Any]) -> list[str]:
    """The shell commands that serve the quickstart's bundle, send it ``row`` and open the
    review page.

    Examples
    --------
    >>> next_steps(Path("q"), {"age": 41})[1].split("  #")[0]
    'prudent serve q/model --tokens q/tokens.yaml --log-db sqlite:///q/log.db'
    """
    import json

    from prudent._json import json_value

    body = json.dumps({"records": [json_value(row)]})
    return [
        f"TOKEN=$(prudent token add me --role predict,review --tokens {out}/tokens.yaml)",
        f"prudent serve {out}/model --tokens {out}/tokens.yaml --log-db sqlite:///{out}/log.db"
        "  # then, in another terminal:",
        'curl -s localhost:8080/predict -H "Authorization: Bearer $TOKEN" '
        f"-H 'Content-Type: application/json' -d '{body}'",
        "then open http://127.0.0.1:8080/review (sign in with $TOKEN)",
    ]


def decision_summary(predictions: pd.DataFrame, wrong_unit: int) -> list[str]:
    """What happened to the rows to predict: the decision mix and the OOD flags.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"decision": ["accept", "rule", "review"], "is_ood": [0, 0, 1]})
    >>> decision_summary(rows, 1)[0]
    'decisions: accept 1, review 1, rule 1'
    """
    counts = predictions["decision"].value_counts().sort_index()
    lines = ["decisions: " + ", ".join(f"{k} {v}" for k, v in counts.items())]
    flagged = predictions["is_ood"].astype(bool)
    lines.append(f"out of distribution: {int(flagged.sum())} of {len(predictions)} rows")
    if wrong_unit:
        last = int(flagged.tail(wrong_unit).sum())
        lines.append(
            f"the last {wrong_unit} rows of new.csv have every number typed 10 times too large "
            f"(millimetres for cm): {last} of them flagged"
        )
    return lines


def _paths(out: Path) -> list[tuple[str, Path]]:
    return [
        ("bundle", out / "model"),
        ("report", out / "model" / "report.html"),
        ("predictions", out / "predictions.csv"),
    ]


def quickstart(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for data, bundle and results.")
    ] = Path("quickstart-out"),
    example: Annotated[
        str,
        typer.Option(
            help="Which shipped dataset: iris, wine, breast_cancer, digits or movie_reviews."
        ),
    ] = "iris",
    time_limit: Annotated[float, typer.Option(help="Seconds for the fit.")] = 60.0,
) -> None:
    """Fit, report and predict end to end on a real dataset that ships with prudent."""
    from prudent.cli._app import _console, fit, predict
    from prudent.data import load_example, read_table, write_table

    console = _console()
    frame = load_example(example)
    target = "label" if "label" in frame.columns else "target"
    train, new = new_rows(frame, target)
    out.mkdir(parents=True, exist_ok=True)
    write_table(train, out / "train.csv")
    write_table(new, out / "new.csv")
    rules = out / "rules.yaml" if example in RULES else None
    if rules is not None:
        rules.write_text(RULES[example], encoding="utf-8")
    console.print(f"Data: {out / 'train.csv'} (train), {out / 'new.csv'} (to predict)")
    fit(out / "train.csv", target=target, out=out / "model", time_limit=time_limit, rules=rules)
    predict(out / "model", out / "new.csv", out=out / "predictions.csv")
    console.print("\n[bold]Results[/]")
    for label, path in _paths(out):
        if path.exists():
            console.print(f"  {label:12s} {path}")
    wrong = len(train) + len(new) - len(frame)  # the mistyped rows added to the sample
    for line in decision_summary(read_table(out / "predictions.csv"), wrong):
        console.print(f"  {line}", highlight=False)
    console.print("\n[bold]Next: serve it, send a row, review what it defers[/]")
    for line in next_steps(out, new.head(1).to_dict(orient="records")[0]):
        console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``prudent quickstart`` to ``app``."""
    app.command()(quickstart)
