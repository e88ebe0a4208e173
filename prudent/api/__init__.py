"""prudent.api: the HTTP service (Open Inference Protocol V2 + a plain JSON API), built by
:func:`create_app`; every route parses, calls :class:`prudent.serve.Predictor`, and formats.
The review page (``/review``) is server-rendered HTML with a vendored htmx (``static/``).

:class:`StartingApp` is imported at once (it answers while the service is built); the rest
on first use, so that ``prudent serve`` is live within about a second of process start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prudent._lazy import lazy_getattr
from prudent.api._starting import StartingApp

if TYPE_CHECKING:
    from prudent.api._app import create_app, create_app_from_env
    from prudent.api._auth import (
        PAGE_PATHS,
        PUBLIC_ROUTES,
        ROUTE_ROLES,
        SESSION_COOKIE,
        TokenBucket,
    )
    from prudent.api._errors import ERROR_STATUS, ApiError, status_of
    from prudent.api._inputs import IGNORED_COUNT_HEADER, IGNORED_HEADER, IGNORED_HEADER_CHARS
    from prudent.api._pages import CSP, CSRF_COOKIE
    from prudent.api._tokens import (
        ROLES,
        TokenEntry,
        TokenFile,
        add_token,
        hash_token,
        load_tokens,
        new_token,
        revoke_token,
    )
    from prudent.api._v2_codec import encode_bytes

_LAZY = {
    "CSP": "prudent.api._pages",
    "CSRF_COOKIE": "prudent.api._pages",
    "ERROR_STATUS": "prudent.api._errors",
    "IGNORED_COUNT_HEADER": "prudent.api._inputs",
    "IGNORED_HEADER": "prudent.api._inputs",
    "IGNORED_HEADER_CHARS": "prudent.api._inputs",
    "PAGE_PATHS": "prudent.api._auth",
    "PUBLIC_ROUTES": "prudent.api._auth",
    "ROLES": "prudent.api._tokens",
    "ROUTE_ROLES": "prudent.api._auth",
    "SESSION_COOKIE": "prudent.api._auth",
    "ApiError": "prudent.api._errors",
    "TokenBucket": "prudent.api._auth",
    "TokenEntry": "prudent.api._tokens",
    "TokenFile": "prudent.api._tokens",
    "add_token": "prudent.api._tokens",
    "create_app": "prudent.api._app",
    "create_app_from_env": "prudent.api._app",
    "encode_bytes": "prudent.api._v2_codec",
    "hash_token": "prudent.api._tokens",
    "load_tokens": "prudent.api._tokens",
    "new_token": "prudent.api._tokens",
    "revoke_token": "prudent.api._tokens",
    "status_of": "prudent.api._errors",
}

__all__ = [
    "CSP",
    "CSRF_COOKIE",
    "ERROR_STATUS",
    "IGNORED_COUNT_HEADER",
    "IGNORED_HEADER",
    "IGNORED_HEADER_CHARS",
    "PAGE_PATHS",
    "PUBLIC_ROUTES",
    "ROLES",
    "ROUTE_ROLES",
    "SESSION_COOKIE",
    "ApiError",
    "StartingApp",
    "TokenBucket",
    "TokenEntry",
    "TokenFile",
    "add_token",
    "create_app",
    "create_app_from_env",
    "encode_bytes",
    "hash_token",
    "load_tokens",
    "new_token",
    "revoke_token",
    "status_of",
]


__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    """The public names only (not the helpers used to import lazily)."""
    return sorted(__all__)
