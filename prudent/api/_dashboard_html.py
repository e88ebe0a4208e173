"""The markup of the dashboard: cards, alerts, charts over time and the promises."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from prudent._format import at_least
from prudent.api._svg import Point, Series, line_chart
from prudent.monitor import QUANTILES, AlertState, Estimate, Figure, WindowSummary
from prudent.report import NO_HTML, Html, esc, fmt, table

if TYPE_CHECKING:
    from prudent.api._dashboard import Board

__all__ = ["dashboard_body", "figure_text", "point"]

_DECISIONS = ("accept", "rule", "backup", "review")


def point(figure: Figure | None) -> Point:
    """A figure as a chart point: an estimate with its interval, or a gap."""
    if isinstance(figure, Estimate):
        return Point(figure.point, figure.low, figure.high)
    return Point(None)


def figure_text(figure: Figure | None) -> str:
    """A figure for people: ``0.912 [0.874, 0.941], n=212``, or why there is none.

    Examples
    --------
    >>> from prudent.monitor import Estimate
    >>> figure_text(Estimate(0.9, 0.8, 0.95, 40)), figure_text(None)
    ('0.900 [0.800, 0.950], n=40', '—')
    """
    if isinstance(figure, Estimate):
        return f"{fmt(figure.point)} [{fmt(figure.low)}, {fmt(figure.high)}], n={figure.n}"
    if figure is None:
        return "—"
    return f"not enough data (n={getattr(figure, 'n', 0)})"


def _constant(value: float | None, n: int) -> list[Point]:
    return [Point(value)] * n


def _charts(windows: Sequence[WindowSummary], board: Board) -> Html:
    labels = [w.key for w in windows]
    n = len(windows)
    p = board.report.reference.promises
    confidence = [
        Series(f"q{q:g}", [point(w.confidence.get(q)) for w in windows]) for q in QUANTILES
    ]
    ood = [Series("OOD rate", [point(w.ood_rate) for w in windows])]
    if p.ood_rate is not None:
        ood.append(Series("at fit", _constant(p.ood_rate, n), dashed=True))
    decisions = [
        Series(d, [point(w.decisions.get(d)) for w in windows])
        for d in _DECISIONS
        if any(isinstance(w.decisions.get(d), Estimate) for w in windows)
    ]
    accuracy = [
        Series("estimated (mean confidence)", [point(w.accuracy.expected) for w in windows]),
        Series("realised (labels)", [point(w.accuracy.realised) for w in windows]),
    ]
    if p.target_accuracy is not None:  # none with a cost matrix
        accuracy.append(Series("promised", _constant(p.target_accuracy, n), dashed=True))
    charts = [
        line_chart("Confidence (quantiles)", labels, confidence),
        line_chart("Out-of-distribution rate", labels, ood),
        line_chart("Decision mix (share of predictions)", labels, decisions),
        line_chart("Accuracy of accepted predictions", labels, accuracy),
    ]
    return Html(f'<section><h2>Over time</h2><div class="charts">{"".join(charts)}</div></section>')


def _cards(board: Board) -> Html:
    windows = board.report.windows
    items = [
        ("predictions", sum(w.n for w in windows)),
        ("cases waiting", board.waiting),
        ("labels, last hour", board.rate.last_hour),
        ("labels an hour (24 h)", f"{board.rate.per_hour:.1f}"),
        ("labelled predictions", sum(w.labelled for w in windows)),
        ("alerts firing", sum(a.state == "firing" for a in board.alerts)),
    ]
    cards = "".join(f'<div class="card">{esc(k)}<b>{esc(v)}</b></div>' for k, v in items)
    return Html(f'<section class="cards">{cards}</section>')


def _alert(a: AlertState) -> Html:
    seen = a.observation
    value = "" if seen is None or seen.value is None else f", last {fmt(seen.value)} (n={seen.n})"
    # a firing alert since it fired (its pending time before that is not the incident's)
    when = a.fired_at if a.state == "firing" and a.fired_at is not None else a.since
    since = "" if when is None else f" since {when:%Y-%m-%d %H:%M} UTC"
    labels = f" {esc(a.labels_key)}" if a.labels else ""
    return Html(
        f'<li class="alert {esc(a.state)}"><b>{esc(a.rule)}</b>{labels}: {esc(a.state)}'
        f"{esc(since)} (threshold {fmt(a.threshold)}{esc(value)})</li>"
    )


def _alerts(board: Board) -> Html:
    if not board.alerts:
        text = "No alert is pending or firing (the rules of alerts.yaml, last evaluation)."
        return Html(f"<section><h2>Alerts</h2><p>{text}</p></section>")
    rows = "".join(_alert(a) for a in board.alerts)
    return Html(f"<section><h2>Alerts</h2><ul>{rows}</ul></section>")


def _kept(value: Any) -> Html:
    if value is None:
        return Html("—")
    css = "kept-yes" if value else "kept-no"
    return Html(f'<span class="{css}">{"kept" if value else "broken"}</span>')


def _promises(board: Board) -> Html:
    p, w = board.report.reference.promises, board.pooled
    promised = (
        "none promised" if p.target_accuracy is None
        else f"≥ {at_least(p.target_accuracy)}"
    )  # fmt: skip
    rows = [
        ["accuracy of accepted predictions", promised,
         figure_text(w.accepted_accuracy if w else None)],
        ["out-of-distribution rate", f"≈ {fmt(p.ood_rate)} at fit",
         figure_text(w.ood_rate if w else None)],
        ["conformal coverage", f"≥ {fmt(1 - p.alpha)}", figure_text(w.coverage if w else None)],
    ]  # fmt: skip
    live = table(["promise", "promised", "measured in service (95% interval)"], rows)
    fit = table(
        ["promise", "promised", "measured on the locked test", ""],
        [[x.name, x.promised, x.measured, _kept(x.kept)] for x in board.promises],
    )
    return Html(f"<section><h2>Promises</h2>{live}<h3>At fit</h3>{fit}</section>")


def dashboard_body(board: Board, *, hours: int, logout: Html = NO_HTML) -> Html:
    """The dashboard's body.

    Parameters
    ----------
    board
        What to show.
    hours
        How far back the windows reach.
    logout
        The sign-out form shown in the header.

    Returns
    -------
    Html
        Safe markup.
    """
    spec = board.report.window
    cut = f"every {spec.size} predictions" if spec.kind == "rows" else f"by {spec.kind}"
    windows = board.report.windows
    head = Html(
        f'<header class="top"><h1>prudent · {esc(board.model)}</h1><nav><a href="/review">'
        f"Review</a>{logout}</nav><p>Bundle <code>{esc(board.version)}</code> · "
        f"the last {hours} h, "
        f"{esc(cut)} ({len(windows)} window(s))</p></header>"
    )
    charts = _charts(windows, board) if windows else Html("<p>No prediction in this period.</p>")
    return Html(f"{head}{_cards(board)}{_alerts(board)}{charts}{_promises(board)}")
