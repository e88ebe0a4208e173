"""Matplotlib figures drawn off-screen and inlined as PNG data URIs.

Figures are built with :class:`matplotlib.figure.Figure` and rendered by the Agg canvas
directly: pyplot and its global figure registry are never touched, so nothing leaks
between figures or into the caller's matplotlib state.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from prudent.report._html import Html, esc

__all__ = [
    "BAD",
    "GOOD",
    "GREY",
    "MID",
    "NEUTRAL",
    "count_ticks",
    "figure_html",
    "figure_seconds",
    "hbars",
    "heatmap",
    "new_figure",
    "short",
]

GOOD = "#1a7f37"
BAD = "#cf222e"
MID = "#bf8700"
NEUTRAL = "#0969da"
GREY = "#8c959f"

_DPI = 150
_SCALE = 1.5  # pixels rendered per CSS pixel, for sharp images on dense screens
_FONT = 9.0
_MAX_ANNOTATED = 225  # a heatmap shows numbers in its cells up to 15 x 15


def new_figure(width: float = 6.4, height: float = 3.6, ncols: int = 1) -> tuple[Figure, Any]:
    """Return a constrained-layout figure and its axes (an array when ``ncols > 1``).

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> type(fig).__name__
    'Figure'
    """
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=True)
    for ax in np.atleast_1d(axes):
        ax.tick_params(labelsize=_FONT)
        ax.title.set_fontsize(_FONT + 1)
        ax.xaxis.label.set_fontsize(_FONT)
        ax.yaxis.label.set_fontsize(_FONT)
    return fig, axes


def figure_html(fig: Figure, alt: str, caption: str = "", *, wide: bool = False) -> Html:
    """Render ``fig`` to an inline PNG ``<figure>`` with alt text, then free the figure.

    Parameters
    ----------
    fig
        The figure.
    alt
        The alternative text: what the figure shows, with its key numbers.
    caption
        A visible caption (optional).
    wide
        Let the figure take the whole width of the page instead of one grid column.

    Returns
    -------
    Html
        A ``<figure>`` element holding a ``data:`` PNG image.

    Examples
    --------
    >>> fig, ax = new_figure(2, 1)
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> figure_html(fig, "a line").startswith('<figure><img src="data:image/png;base64,')
    True
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    width, height = (fig.get_size_inches() * _DPI / _SCALE).round().astype(int)
    fig.clear()
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    kind = ' class="wide"' if wide else ""
    return Html(
        f'<figure{kind}><img src="data:image/png;base64,{data}" alt="{esc(alt)}" '
        f'width="{width}" height="{height}" loading="eager">{cap}</figure>'
    )


def figure_seconds() -> float:
    """CPU seconds this machine takes to draw one typical figure of the report and encode it.

    The first figure drawn in a process also loads the fonts, as the report's first does;
    ``prudent fit`` projects the report's time from it, before the search.

    Examples
    --------
    >>> 0 < figure_seconds() < 60
    True
    """
    started = time.process_time()
    fig, ax = new_figure(6.4, 3.4)
    grid = np.linspace(0, 1, 16)
    ax.plot(grid, grid, color=GREY, linestyle="--")
    ax.bar(grid, grid**2, width=0.05, color=NEUTRAL)
    ax.set(xlabel="confidence", ylabel="accuracy", title="pilot")
    figure_html(fig, "pilot")
    return time.process_time() - started


def short(label: object, limit: int = 22) -> str:
    """Return ``label`` cut to ``limit`` characters in the middle, keeping both ends.

    Long names often differ only at the end (``… number 17``), so both ends stay.

    Examples
    --------
    >>> short("a very long class name number 17", 16)
    'a very l…mber 17'
    """
    text = str(label)
    if len(text) <= limit:
        return text
    tail = (limit - 1) // 2
    return text[: limit - 1 - tail] + "…" + text[len(text) - tail :]


def count_ticks(ax: Axes, axis: str = "y") -> None:
    """Put ticks of a count axis on whole numbers only, at most about eight of them.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> _ = ax.bar([0, 1], [1, 2])
    >>> count_ticks(ax)
    >>> all(float(t).is_integer() for t in ax.get_yticks())
    True
    """
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_locator(MaxNLocator(nbins=8, integer=True))


def _text_colours(rgba: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Black or white, whichever contrasts more with each cell (WCAG relative luminance:
    black above 0.179).

    Examples
    --------
    >>> _text_colours(np.array([[[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.3, 1.0]]])).tolist()
    [['black', 'white']]
    """
    srgb = rgba[..., :3]
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(luminance > 0.179, "black", "white")


def hbars(
    ax: Axes, labels: Sequence[object], values: Sequence[float], color: Any, limit: int = 22
) -> None:
    """Draw horizontal bars top-down in the given order, one per label (labels may repeat).

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> hbars(ax, ["a", "a"], [1.0, 2.0], "blue")
    >>> len(ax.patches)
    2
    """
    positions = np.arange(len(values))[::-1]
    ax.barh(positions, values, color=color)
    ax.set_yticks(positions, [short(label, limit) for label in labels])
    ax.set_ylim(-0.6, len(values) - 0.4)


def heatmap(
    ax: Axes,
    matrix: np.ndarray[Any, Any],
    labels: tuple[Sequence[object], Sequence[object]],
    *,
    cmap: str = "Blues",
    vmin: float | None = None,
    vmax: float | None = None,
    numbers: np.ndarray[Any, Any] | None = None,
    number_format: str = "{:.2f}",
) -> bool:
    """Draw ``matrix`` with row and column labels; number the cells when it is small enough.

    Parameters
    ----------
    ax
        The axes to draw on.
    matrix
        The values that set the colours, shape ``(rows, cols)``.
    labels
        The row labels and the column labels.
    cmap, vmin, vmax
        The colour scale.
    numbers
        The values written in the cells (default: ``matrix``).
    number_format
        How a cell's number is written (black on light cells, white on dark ones).

    Returns
    -------
    bool
        Whether the cells carry their numbers (not beyond 15 x 15 cells).
    """
    rows, cols = matrix.shape
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.figure.colorbar(image, ax=ax, shrink=0.8)
    size = _FONT if max(rows, cols) <= 20 else max(4.5, _FONT * 20 / max(rows, cols))
    ax.set_xticks(range(cols), [short(c, 18) for c in labels[1]], rotation=90, fontsize=size)
    ax.set_yticks(range(rows), [short(r, 18) for r in labels[0]], fontsize=size)
    if rows * cols > _MAX_ANNOTATED:
        return False
    shown = matrix if numbers is None else numbers
    colours = _text_colours(np.asarray(image.cmap(image.norm(np.nan_to_num(matrix)))))
    for i in range(rows):
        for j in range(cols):
            text = number_format.format(shown[i, j])
            ax.text(j, i, text, ha="center", va="center", fontsize=size - 1, color=colours[i, j])
    return True
