"""The command line (``prudent``): Typer app and the entry point that turns errors into one line."""

from __future__ import annotations

import sys

from prudent.cli._app import app
from prudent.errors import PrudentError

__all__ = ["app", "main"]


def main() -> None:
    """Run the CLI; a prudent error prints one readable line and exits with status 2."""
    try:
        app(standalone_mode=False)
    except PrudentError as exc:
        print(f"prudent: error: {exc}", file=sys.stderr)
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
