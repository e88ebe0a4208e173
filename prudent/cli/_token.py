"""``prudent token add | list | revoke``: the API tokens of a tokens file.

A token's secret is printed once, by ``add``; the file keeps only its SHA-256. ``list`` shows
names, ids, roles, limits and creation times, never a secret; ``revoke`` removes a token, and a
running ``prudent serve`` refuses it (401) within a second.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from prudent.cli._console import print_table

if TYPE_CHECKING:
    from prudent.api import TokenEntry

__all__ = ["register", "token_app"]

Opt = typer.Option
TokensFile = Annotated[Path, Opt("--tokens", help="The tokens file.")]

token_app = typer.Typer(
    name="token",
    no_args_is_help=True,
    help="API tokens for `prudent serve`: add (shown once), list, revoke.",
)


@token_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Who will hold the token.")],
    role: Annotated[
        list[str],
        Opt(
            "--role", metavar="ROLE", help="predict, review or admin (repeatable; commas allowed)."
        ),
    ],
    tokens: TokensFile = Path("tokens.yaml"),
    rate_limit: Annotated[
        float | None, Opt(help="Requests per second allowed. \\[default: no limit]")
    ] = None,
    burst: Annotated[
        int | None, Opt(help="Requests allowed at once. \\[default: the rate limit, at least 1]")
    ] = None,
) -> None:
    """Create an API token: print it once (stdout); store only its SHA-256 in the tokens file."""
    from prudent.api import add_token
    from prudent.data import split_names

    roles = list(split_names(role))
    secret = add_token(tokens, name, roles, rate_limit=rate_limit, burst=burst)
    typer.echo(secret)
    Console(stderr=True, highlight=False).print(
        f"Token {name!r} ({', '.join(roles)}) added to {tokens}; it is shown only now."
    )


def _row(entry: TokenEntry) -> dict[str, object]:
    created = entry.created.isoformat() if entry.created else None
    return {
        "name": entry.name,
        "id": entry.id,
        "roles": list(entry.roles),
        "rate_limit": entry.rate_limit,
        "burst": entry.burst,
        "created": created,
    }


@token_app.command("list")
def list_tokens(
    tokens: TokensFile = Path("tokens.yaml"),
    as_json: Annotated[bool, Opt("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List the tokens: name, id, roles, rate limit and when each was created (never a secret)."""
    from prudent.api import load_tokens

    entries = load_tokens(tokens)
    if as_json:
        typer.echo(json.dumps([_row(entry) for entry in entries], indent=2))
        return
    table = [
        (e.name, e.id, ", ".join(e.roles), "" if e.rate_limit is None else f"{e.rate_limit:g}/s",
         e.created.isoformat() if e.created else "-")
        for e in entries
    ]  # fmt: skip
    console = Console(highlight=False, width=None if Console().is_terminal else 160)
    columns = ("name", "id", "roles", "rate limit", "created")
    print_table(console, f"Tokens in {tokens}", columns, table)


@token_app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(metavar="NAME|ID", help="The token's name or id.")],
    tokens: TokensFile = Path("tokens.yaml"),
) -> None:
    """Revoke a token: remove it from the file; a running service refuses it within a second."""
    from prudent.api import revoke_token

    entry = revoke_token(tokens, key)
    typer.echo(f"Revoked token {entry.name!r} ({entry.id}) in {tokens}.")


def register(app: typer.Typer) -> None:
    """Add the ``token`` sub-app to ``app``."""
    app.add_typer(token_app)
