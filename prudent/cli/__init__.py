"""The command line (``prudent``): Typer app and the entry point that turns errors into one line."""

from __future__ import annotations

import gc
import os
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


def _usage_errors() -> tuple[type[Exception], ...]:
    """Click's and Typer's usage errors (recent Typer vendors its own copy of click)."""
    import click
    import typer

    vendored = getattr(typer.exceptions, "TyperException", None)
    return (click.ClickException, *([vendored] if vendored else []))


def _aborts() -> tuple[type[Exception], ...]:
    import click
    import typer

    return (click.exceptions.Abort, typer.Abort)


def _leave_quickly() -> None:
    """Spare the exit a walk over every object: after a fit that loaded torch, the collector's
    pass at interpreter shutdown took 1.5 s of a 20 s time limit (0.3 s frozen)."""
    gc.freeze()


def main() -> None:
    """Run the CLI; every failure ends in one line on stderr and a non-zero status.

    A prudent or OS error (bad input, a path that cannot be written) exits with status 2;
    a usage error is shown by Typer; anything else is a bug in prudent and exits with
    status 70, its traceback shown only when ``PRUDENT_DEBUG`` is set.
    """
    try:
        # without standalone mode, click returns the status of a `typer.Exit(n)` instead of
        # leaving with it: `prudent feedback` with refused rows exited 0
        status = app(standalone_mode=False)
        _leave_quickly()
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(130)
    except (PrudentError, OSError) as exc:
        print(f"prudent: error: {one_line(exc)}", file=sys.stderr)
        sys.exit(2)
    except _usage_errors() as exc:
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            print(f"prudent: error: {one_line(exc)}", file=sys.stderr)
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except _aborts():
        sys.exit(1)
    except Exception as exc:
        if os.environ.get("PRUDENT_DEBUG"):
            raise
        print(
            f"prudent: internal error: {type(exc).__name__}: {one_line(exc)} (a bug in prudent: "
            "rerun with PRUDENT_DEBUG=1 to see the traceback, and report it)",
            file=sys.stderr,
        )
        sys.exit(70)  # EX_SOFTWARE
    if isinstance(status, int) and not isinstance(status, bool) and status:
        sys.exit(status)
