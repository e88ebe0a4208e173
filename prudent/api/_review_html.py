"""The markup of the review page: one case, its label buttons and the actions.

Everything from the case (inputs, class names, reasons) goes through :func:`esc`; forms post
with htmx (the next case replaces ``#case`` without a reload) and work as plain forms too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prudent.feedback import CaseView, FieldView
from prudent.report import NO_HTML, Html, esc, fmt, table

__all__ = ["Flash", "case_html", "empty_html", "review_body"]

_KEYS = "123456789"
_TYPE_AHEAD_FROM = 10


@dataclass(frozen=True, slots=True)
class Flash:
    """A one-line message above the case (what the last action did)."""

    text: str
    kind: str = "ok"


def _hidden(csrf: str, **values: str | None) -> Html:
    fields = {"csrf": csrf, **values}
    return Html(
        "".join(
            f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">'
            for k, v in fields.items()
            if v is not None
        )
    )


def _form(action: str, inner: str, css: str = "") -> Html:
    """A form posting to ``/review/<action>`` with htmx, swapping ``#case``."""
    return Html(
        f'<form class="{esc(css)}" method="post" action="/review/{esc(action)}" '
        f'hx-post="/review/{esc(action)}" hx-target="#case" hx-swap="outerHTML" '
        f'hx-sync="#case:drop">{inner}</form>'
    )


def _shown(f: FieldView) -> object:
    """The value as people read it: a boolean input as true / false, as the nearest examples
    show it, whether it was received as 1.0 or as True.

    >>> _shown(FieldView("member", "boolean", 1.0)), _shown(FieldView("n", "numeric", 1.0))
    ('true', 1.0)
    """
    if f.value is None:
        return "—"
    if f.role == "boolean" and isinstance(f.value, (bool, int, float)) and f.value in (0, 1):
        return "true" if f.value else "false"
    return f.value


def _field(f: FieldView) -> Html:
    value = _shown(f)
    css = "text" if f.role == "text" else ""
    note = f' <em class="note">{esc(f.note)}</em>' if f.note else ""
    mark = " unusual" if f.note else ""
    return Html(
        f'<div class="field{mark}"><dt>{esc(f.name)} <small>{esc(f.role)}</small></dt>'
        f'<dd class="{css}">{esc(value)}{note}</dd></div>'
    )


def _model(view: CaseView) -> Html:
    r = view.case.record
    rows = "".join(
        f"<tr><td>{esc(label)}</td><td><meter min=0 max=1 value={p:.4f}></meter></td>"
        f"<td>{fmt(p, 3)}</td></tr>"
        for label, p in view.probabilities[:5]
    )
    ood = " · <strong>unlike the training rows</strong>" if r.is_ood else ""
    sets = ", ".join(esc(c) for c in view.prediction_set) or "—"
    return Html(
        f'<section class="model"><h2>The model</h2><p>Suggests '
        f'<b class="suggestion">{esc(view.suggestion or "—")}</b> with calibrated confidence '
        f"<b>{fmt(view.confidence, 3)}</b>{ood}.</p>"
        f'<p>Prediction set: <span class="set">{sets}</span></p>'
        f'<p>Why it is here: <span class="why">{esc(view.why)}</span></p>'
        f'<table class="probs"><caption>Most probable classes</caption>{rows}</table></section>'
    )


def _neighbours(view: CaseView) -> Html:
    if not view.neighbours:
        return Html("")
    rows = [
        [n.label, fmt(n.distance, 2), "—" if n.row is None else n.row,
         "; ".join(f"{k} = {str(v)[:80]}" for k, v in n.inputs.items())]
        for n in view.neighbours
    ]  # fmt: skip
    source = view.neighbours[0].source
    kept = (
        "a sample of up to 2,000 training rows the bundle keeps"
        if source == "training"
        else "this bundle keeps no training rows: held-out rows of its locked test set"
    )
    caption = (
        f"Nearest {source} examples ({kept}; distances scaled by the training spread, "
        "0 is identical)"
    )
    head = ["true label", "distance", "row", "inputs"]
    return Html(f'<section class="near">{table(head, rows, caption)}</section>')


def _labels(view: CaseView, classes: Sequence[str], csrf: str, last: str | None) -> Html:
    buttons = []
    for i, label in enumerate(classes):
        key = _KEYS[i] if i < len(_KEYS) else ""
        kbd = f"<kbd>{key}</kbd> " if key else ""
        css = "label suggested" if label == view.suggestion else "label"
        buttons.append(
            f'<button type="submit" class="{css}" name="label" value="{esc(label)}" '
            f'data-key="{key}" data-label="{esc(label)}">{kbd}{esc(label)}</button>'
        )
    ahead = ""
    if len(classes) >= _TYPE_AHEAD_FROM:
        ahead = (
            '<input id="typeahead" type="search" autocomplete="off" aria-label="Find a class" '
            'placeholder="/ to type a class, Enter to pick">'
        )
    hidden = _hidden(csrf, prediction_id=view.case.record.id, last=last)
    return _form("label", f"{hidden}{ahead}<div class=buttons>{''.join(buttons)}</div>", "labels")


def _action(name: str, key: str, text: str, hidden: Html) -> Html:
    button = f'<button id="{name}"><kbd>{key}</kbd> {text}</button>'
    return _form(name, f"{hidden}{button}")


def _actions(case_id: str | None, csrf: str, last: str | None, first: str = "") -> Html:
    hidden = _hidden(csrf, prediction_id=case_id, last=last)
    buttons = (
        [first]
        if case_id is None
        else [_action("skip", "S", "Skip", hidden), _action("flag", "F", "Flag", hidden)]
    )
    if last is not None:
        buttons.append(_action("undo", "U", "Undo last label", hidden))
    return Html(f'<div class="actions">{"".join(buttons)}</div>')


def _flash(flash: Flash | None) -> Html:
    if flash is None:
        return Html('<p id="flash" class="flash" role="status"></p>')
    css = f"flash {esc(flash.kind)}"
    return Html(f'<p id="flash" class="{css}" role="status">{esc(flash.text)}</p>')


def _legend(rows: int) -> Html:
    if rows <= 0:
        return Html(
            '<p class="legend">This bundle was saved before prudent kept what its training rows '
            "held: no value is marked.</p>"
        )
    return Html(
        f'<p class="legend">Marked: values outside what the {rows} training rows held. Unknown '
        "to the model: a number beyond the training range by more than three interquartile "
        "ranges, or of a sign never seen; a category never seen; an empty or out-of-vocabulary "
        "text.</p>"
    )


def case_html(
    view: CaseView,
    classes: Sequence[str],
    csrf: str,
    *,
    last: str | None = None,
    flash: Flash | None = None,
    seen_rows: int = 0,
) -> Html:
    """The ``#case`` element: the input, the model's answer, label buttons and actions.

    Parameters
    ----------
    view
        The case as people read it.
    classes
        The bundle's classes, in order: key 1 labels the first.
    csrf
        This browser's CSRF token.
    last
        The case labelled just before, which undo brings back.
    flash
        What the last action did.
    seen_rows
        How many training rows the marks compare with (the legend; 0: the bundle keeps no
        training values, and the legend says nothing is marked).

    Returns
    -------
    Html
        Safe markup.
    """
    case = view.case
    state = "labelled already: a new label is a correction" if case.status == "labeled" else ""
    audit = " · audit" if case.audit else ""
    fields = "".join(_field(f) for f in view.fields)
    return Html(
        f'<main id="case" class="case" data-case="{esc(case.record.id)}">{_flash(flash)}'
        f'<p class="meta">Case <code>{esc(case.record.id)}</code>{audit} '
        f'<span class="state">{esc(state)}</span></p>'
        f'<section class="input"><h2>The input</h2><dl>{fields}</dl>{_legend(seen_rows)}'
        f"</section>{_model(view)}{_neighbours(view)}"
        f"{_labels(view, classes, csrf, last)}{_actions(case.record.id, csrf, last)}</main>"
    )


def empty_html(csrf: str, *, last: str | None = None, flash: Flash | None = None) -> Html:
    """The ``#case`` element when no case is free: a button to look again (and undo)."""
    again = (
        '<a class="button" href="/review" hx-get="/review/next" hx-target="#case" '
        'hx-swap="outerHTML">Look again</a>'
    )
    return Html(
        f'<main id="case" class="case empty">{_flash(flash)}<p>No case is free to review: '
        f"every case is labelled, set aside or held by someone else.</p>"
        f"{_actions(None, csrf, last, again)}</main>"
    )


def review_body(
    inner: Html, *, reviewer: str, waiting: int, model: str, logout: Html = NO_HTML
) -> Html:
    """The whole page's body around the ``#case`` element (``logout``: the sign-out form)."""
    return Html(
        f'<header class="top"><h1>Review · {esc(model)}</h1><nav><a href="/">Dashboard</a>'
        f"{logout}</nav><p>{waiting} case(s) waiting · you are <b>{esc(reviewer)}</b> · keys: "
        "<kbd>1</kbd>–<kbd>9</kbd> label, <kbd>/</kbd> find a class, <kbd>S</kbd> skip, "
        f"<kbd>F</kbd> flag, <kbd>U</kbd> undo</p></header>{inner}"
    )
