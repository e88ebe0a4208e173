"""The command line (``prudent``): Typer app and the entry point that turns errors into one line."""

from __future__ import annotations

import sys

from prudent.cli._app import app
from prudent.errors import PrudentError

__all__ = ["app", "main", "one_line"]


def one_line(exc: BaseException) -> str:
    """An exception's message on a single line, whatever a library put in it.

    Examples
    --------
    >>> one_line(ValueError("bad value\\n  in column 'a'"))
    "bad value in column 'a'"
    """
    return " ".join(str(exc).split()) or type(exc).__name__


def main() -> None:
    """Run the CLI; a prudent or OS error prints one readable line and exits with status 2."""
    try:
        app(standalone_mode=False)
    except (PrudentError, OSError) as exc:  # OSError: a path that cannot be written, a full disk
        print(f"prudent: error: {one_line(exc)}", file=sys.stderr)
        sys.exit(2)
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(130)
    except Exception as exc:  # click's usage errors and abort
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise
