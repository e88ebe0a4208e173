"""HTML building blocks of the report: escaping, tables, sections and the page shell.

Every string that reaches the page goes through :func:`esc` unless it is an :class:`Html`
value built here from escaped parts, so user data (column names, category values, text)
can never inject markup.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from prudent._format import fixed

__all__ = [
    "NO_HTML",
    "Html",
    "Section",
    "details",
    "esc",
    "fmt",
    "p_text",
    "page",
    "pct",
    "section_html",
    "table",
]


class Html(str):
    """A string of markup that is already safe to put into the page as it is."""

    __slots__ = ()


NO_HTML = Html("")
"""No markup: the default of an optional block of a page."""


def esc(value: object) -> Html:
    """Return ``value`` as text escaped for HTML (an :class:`Html` value is kept as it is).

    Examples
    --------
    >>> esc("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    >>> esc(Html("<b>ok</b>"))
    '<b>ok</b>'
    """
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def fmt(value: object, digits: int = 3) -> str:
    """Format a number for people; ``None`` and NaN become an em dash.

    Examples
    --------
    >>> fmt(0.98765), fmt(None), fmt(12), fmt(float("nan")), fmt(-0.0001)
    ('0.988', '—', '12', '—', '0.000')
    """
    if value is None or isinstance(value, bool):
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    try:
        number = float(str(value)) if not isinstance(value, float) else value
    except ValueError:
        return str(value)
    if math.isnan(number):
        return "—"
    return fixed(number, digits)  # no "-0.000"


def p_text(value: object) -> str:
    """Format a p-value as ``p=…``: two decimals, three below 0.01, ``p<0.001`` below that.

    A p-value is never printed as ``p=0`` or ``p=0.000``: a test cannot show that.

    Examples
    --------
    >>> p_text(0.0597), p_text(0.004), p_text(1.5e-104), p_text(None)
    ('p=0.06', 'p=0.004', 'p<0.001', 'p=—')
    >>> p_text(0.0996), p_text(0.0498)  # not 'p=0.10' beside a test that failed at 0.1
    ('p=0.0996', 'p=0.0498')
    """
    if value is None:
        return "p=—"
    number = float(str(value))
    if math.isnan(number):
        return "p=—"
    if number < 0.001:
        return "p<0.001"
    if number < 0.01:
        return f"p={number:.3f}"
    two = f"{number:.2f}"
    if any((number < b) != (float(two) < b) for b in (0.05, 0.1)):
        return f"p={number:.4f}".rstrip("0")  # two decimals would round it across a bound
    return f"p={two}"


def pct(value: object, digits: int = 1) -> str:
    """Format a share in ``[0, 1]`` as a percentage.

    Examples
    --------
    >>> pct(0.9473), pct(None)
    ('94.7%', '—')
    """
    if value is None:
        return "—"
    number = float(str(value))
    return "—" if math.isnan(number) else f"{100 * number:.{digits}f}%"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], caption: str = "") -> Html:
    """Return an HTML table; every cell is escaped unless it is :class:`Html`.

    Examples
    --------
    >>> "<td>&lt;x&gt;</td>" in table(["a"], [["<x>"]])
    True
    """
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return Html(
        f'<div class="scroll"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def details(summary: str, inner: str) -> Html:
    """Return a collapsible block holding ``inner`` (already safe markup)."""
    return Html(f"<details><summary>{esc(summary)}</summary>{inner}</details>")


@dataclass
class Section:
    """One section of the report.

    Parameters
    ----------
    key
        The anchor id (letters and dashes).
    title
        The heading.
    takeaway
        The one line above the plots.
    figures
        Figure markup (see :func:`prudent.report._plots.figure_html`).
    tables
        The numbers: markup shown inside the collapsible block.
    banners
        Warnings shown prominently under the takeaway.
    body
        Other markup shown after the figures, always visible.
    """

    key: str
    title: str
    takeaway: str
    figures: list[Html] = field(default_factory=list)
    tables: list[Html] = field(default_factory=list)
    banners: list[str] = field(default_factory=list)
    body: list[Html] = field(default_factory=list)


def section_html(number: int, s: Section) -> Html:
    """Return the markup of one numbered section."""
    parts = [
        f'<section id="{esc(s.key)}" aria-labelledby="{esc(s.key)}-h">',
        f'<h2 id="{esc(s.key)}-h">{number}. {esc(s.title)}</h2>',
        f'<p class="takeaway">{esc(s.takeaway)}</p>',
        *(f'<p class="banner" role="alert">{esc(b)}</p>' for b in s.banners),
    ]
    if s.figures:
        parts.append('<div class="figures">' + "".join(s.figures) + "</div>")
    parts.extend(s.body)
    if s.tables:
        parts.append(details("The numbers", "".join(s.tables)))
    parts.append("</section>")
    return Html("\n".join(parts))


_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
background:#fff;margin:0;line-height:1.45}
main,header.top,footer{max-width:1180px;margin:0 auto;padding:0 16px}
header.top{padding-top:16px}
h1{font-size:1.6rem;margin:.4em 0}
h2{font-size:1.3rem;margin:1.6em 0 .3em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
h3{font-size:1.05rem;margin:1em 0 .3em}
.meta{color:#57606a;margin:.2em 0}
nav ol{display:flex;flex-wrap:wrap;gap:.3em 1.2em;list-style:none;padding:0;margin:.6em 0}
.takeaway{font-size:1.05rem;font-weight:600;margin:.4em 0 .6em}
.banner{background:#fff1e5;border-left:5px solid #bc4c00;padding:.5em .8em;margin:.5em 0}
.missing{color:#57606a;font-style:italic}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr));
gap:12px;align-items:start}
figure{margin:0}
figure.wide{grid-column:1/-1}
figure img{max-width:100%;height:auto;display:block}
figcaption{color:#57606a;font-size:.9rem}
details{margin:.6em 0;border:1px solid #d0d7de;border-radius:6px;padding:.3em .7em}
summary{cursor:pointer;font-weight:600}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5em 0;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.2em 0}
th,td{border:1px solid #d0d7de;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td{max-width:40em;overflow-wrap:break-word}
ul.notices{padding-left:1.2em}
footer{color:#57606a;font-size:.85rem;padding:2em 16px}
@media (max-width:600px){body{font-size:15px}h1{font-size:1.3rem}table{font-size:.8rem}}
"""


def page(title: str, header: Html, sections: Sequence[Section], footer: str) -> str:
    """Return the whole self-contained page: inline styles, no script, no external resource."""
    nav = "".join(
        f'<li><a href="#{esc(s.key)}">{i + 1}. {esc(s.title)}</a></li>'
        for i, s in enumerate(sections)
    )
    body = "\n".join(section_html(i + 1, s) for i, s in enumerate(sections))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        '<link rel="icon" href="data:,">\n'
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header class="top">{header}\n<nav aria-label="Sections"><ol>{nav}</ol></nav>'
        f"</header>\n<main>\n{body}\n</main>\n<footer>{esc(footer)}</footer>\n</body>\n</html>\n"
    )
