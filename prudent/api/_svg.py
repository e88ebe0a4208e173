"""Inline SVG line charts of figures over time, each point with its interval as a band.

No script and no style attribute (the pages' CSP allows neither inline): colours are SVG
presentation attributes, and every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prudent.report import Html, esc

__all__ = ["COLOURS", "Point", "Series", "line_chart"]

COLOURS = ("#1f6fb2", "#c0392b", "#2d8a4e", "#8e5bb5", "#b7791f", "#4a5560")
"""Series colours, in order (distinguishable for the common colour-vision deficiencies)."""
_W, _H, _L, _R, _T, _B = 320, 170, 34, 8, 10, 30


@dataclass(frozen=True, slots=True)
class Point:
    """One window's figure: its value and interval (``None`` when there was not enough data)."""

    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, slots=True)
class Series:
    """A named line: one point per window (aligned with the chart's ``labels``)."""

    name: str
    points: Sequence[Point]
    dashed: bool = False


def _x(i: int, n: int) -> float:
    return _L + (_W - _L - _R) * (0.5 if n == 1 else i / (n - 1))


def _y(v: float, lo: float, hi: float) -> float:
    share = (min(max(v, lo), hi) - lo) / ((hi - lo) or 1.0)
    return _T + (_H - _T - _B) * (1 - share)


def _band(s: Series, colour: str, lo: float, hi: float) -> str:
    n = len(s.points)
    top, bottom = [], []
    for i, p in enumerate(s.points):
        if p.value is not None and p.low is not None and p.high is not None:
            top.append(f"{_x(i, n):.1f},{_y(p.high, lo, hi):.1f}")
            bottom.append(f"{_x(i, n):.1f},{_y(p.low, lo, hi):.1f}")
    if not top:
        return ""
    if len(top) == 1:  # one window: its interval as a bar
        (x, y_top), (_, y_low) = top[0].split(","), bottom[0].split(",")
        return (
            f'<line x1="{x}" x2="{x}" y1="{y_top}" y2="{y_low}" stroke="{colour}" '
            'stroke-width="6" opacity="0.25"/>'
        )
    points = " ".join(top + bottom[::-1])
    return f'<polygon points="{points}" fill="{colour}" opacity="0.15"/>'


def _line(s: Series, colour: str, lo: float, hi: float) -> str:
    n = len(s.points)
    coords = [
        (_x(i, n), _y(p.value, lo, hi)) for i, p in enumerate(s.points) if p.value is not None
    ]
    dash = ' stroke-dasharray="4 3"' if s.dashed else ""
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>' for x, y in coords
    )
    if len(coords) < 2:
        return dots
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    return f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>{dots}'


def _axes(labels: Sequence[str], lo: float, hi: float, percent: bool) -> str:
    parts = []
    for v in (lo, (lo + hi) / 2, hi):
        y = _y(v, lo, hi)
        text = f"{v:.0%}" if percent else f"{v:g}"
        parts.append(
            f'<line x1="{_L}" x2="{_W - _R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d5dbe1"/>'
            f'<text x="{_L - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{text}</text>'
        )
    n = len(labels)
    ends = [(0, "start" if n > 1 else "middle")] + ([(n - 1, "end")] if n > 1 else [])
    for i, anchor in ends if n else ():
        parts.append(
            f'<text x="{_x(i, n):.1f}" y="{_H - 12}" text-anchor="{anchor}" font-size="10">'
            f"{esc(labels[i])}</text>"
        )
    return "".join(parts)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    lo: float = 0.0,
    hi: float = 1.0,
    percent: bool = True,
) -> Html:
    """An SVG chart of ``series`` over the windows named by ``labels``, with a legend.

    Parameters
    ----------
    title
        What the chart shows (the figure caption and the SVG's accessible name).
    labels
        One per window, oldest first (the first and last are written under the axis).
    series
        The lines; a point's interval is drawn as a band around it.
    lo, hi
        The vertical axis' range.
    percent
        Write the axis as percentages.

    Returns
    -------
    Html
        A ``<figure>`` with the inline SVG and its caption.

    Examples
    --------
    >>> svg = line_chart("OOD <rate>", ["a", "b"], [Series("x", [Point(0.1, 0, 0.2), Point(0.3)])])
    >>> "<polyline" in svg and "OOD &lt;rate&gt;" in svg
    True
    """
    body = [_axes(labels, lo, hi, percent)]
    legend = []
    for k, s in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        body += [_band(s, colour, lo, hi), _line(s, colour, lo, hi)]
        legend.append(
            f'<span class="key"><svg width="14" height="8" aria-hidden="true"><line x1="0" '
            f'x2="14" y1="4" y2="4" stroke="{colour}" stroke-width="3"/></svg> {esc(s.name)}</span>'
        )
    return Html(
        f'<figure><svg class="chart" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{esc(title)}">{"".join(body)}</svg>'
        f"<figcaption><b>{esc(title)}</b> {' '.join(legend)}</figcaption></figure>"
    )
