"""Text a request may carry: no NUL character, no unpaired UTF-16 surrogate.

JSON can spell both (``\\u0000``, ``\\ud800``), and both decode to a Python string; neither is
text the service can keep. A lone surrogate cannot be encoded as UTF-8, so the model that read
it failed for every row of its batch and the review page that showed it failed with a 500; a
NUL cannot be stored in a PostgreSQL text or JSON column, so the log refused the whole request
with a 503 (a status that tells the client to retry). Both are refused at the door instead,
with a 400 naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable

from prudent.data._plain import EXPECTED_TEXT, text_flaw
from prudent.errors import FieldProblem, SchemaError

__all__ = ["EXPECTED_TEXT", "check_texts", "text_flaw"]


def check_texts(values: Iterable[tuple[str, int | None, object]]) -> None:
    """Refuse every value that :func:`text_flaw` finds at fault, all listed.

    Parameters
    ----------
    values
        ``(field, row, value)`` triples; ``row`` is ``None`` for a field of the request.

    Raises
    ------
    SchemaError
        Naming the first field, with every value at fault in ``problems``.

    Examples
    --------
    >>> check_texts([("note", 0, "fine"), ("id", None, 7)])
    >>> try:
    ...     check_texts([("note", 1, "bad\\x00")])
    ... except SchemaError as exc:
    ...     print(exc.field, exc.problems[0].row)
    note 1
    """
    problems = []
    for field, row, value in values:
        flaw = text_flaw(value)
        if flaw is not None:
            problems.append(FieldProblem(field, EXPECTED_TEXT, f"text holding {flaw}", row))
    if problems:
        first = problems[0]
        where = first.field if first.row is None else f"{first.field} (row {first.row})"
        raise SchemaError(
            f"Field '{where}' holds {first.received[len('text holding ') :]}, which is not "
            f"text the service can keep; send {EXPECTED_TEXT}.",
            field=first.field,
            problems=tuple(problems),
        )
