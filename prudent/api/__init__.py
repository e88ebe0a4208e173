"""prudent.api: the HTTP service (Open Inference Protocol V2 + a plain JSON API), built by
:func:`create_app`; every route parses, calls :class:`prudent.serve.Predictor`, and formats.
The review page (``/review``) is server-rendered HTML with a vendored htmx (``static/``)."""

from __future__ import annotations

from prudent.api._app import create_app, create_app_from_env
from prudent.api._auth import PAGE_PATHS, PUBLIC_ROUTES, ROUTE_ROLES, SESSION_COOKIE, TokenBucket
from prudent.api._errors import ERROR_STATUS, ApiError, status_of
from prudent.api._inputs import IGNORED_HEADER
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

__all__ = [
    "CSP",
    "CSRF_COOKIE",
    "ERROR_STATUS",
    "IGNORED_HEADER",
    "PAGE_PATHS",
    "PUBLIC_ROUTES",
    "ROLES",
    "ROUTE_ROLES",
    "SESSION_COOKIE",
    "ApiError",
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
