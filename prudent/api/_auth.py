"""Who may call what: bearer tokens, the role × route table, and per-token rate limits.

Every route needs a token except the two health probes. A route missing from
:data:`ROUTE_ROLES` is refused to everyone (denied by default); ``docs/roles.md`` shows the same
table and a test checks that they agree and that every route of the app is in it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import quote

from starlette.responses import RedirectResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from prudent.api._errors import error_response
from prudent.api._tokens import TokenEntry, TokenFile, find_token

__all__ = [
    "PAGE_PATHS",
    "PUBLIC_ROUTES",
    "ROUTE_ROLES",
    "SESSION_COOKIE",
    "AuthMiddleware",
    "TokenBucket",
    "route_of",
]

_ANY = frozenset({"predict", "review", "admin"})
_PREDICT = frozenset({"predict", "admin"})
_REVIEW = frozenset({"review", "admin"})
_ADMIN = frozenset({"admin"})

PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {("GET", "/v2/health/live"), ("GET", "/v2/health/ready")}
    | {("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/static/{name}")}
)
"""Routes that answer without a token: the probes of load balancers, the sign-in and sign-out
forms (a revoked token can still sign out; both check the form's CSRF token) and the pages'
static files (htmx, the review script, the style sheet)."""
PAGE_PATHS = frozenset(
    {"/", "/review", "/review/next", "/review/label", "/review/skip", "/review/flag"}
    | {"/review/undo"}
)
"""The browser pages: they also accept the token kept in the :data:`SESSION_COOKIE` cookie,
and a browser opening one without credentials is sent to ``/login``."""
SESSION_COOKIE = "prudent_token"
"""The ``HttpOnly``, ``SameSite=Strict`` cookie ``POST /login`` sets."""
_PUBLIC_PATHS = frozenset(path for _, path in PUBLIC_ROUTES)

ROUTE_ROLES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/v2"): _ANY,
    ("GET", "/v2/models/{name}"): _ANY,
    ("GET", "/v2/models/{name}/ready"): _ANY,
    ("GET", "/v2/models/{name}/versions/{version}"): _ANY,
    ("GET", "/v2/models/{name}/versions/{version}/ready"): _ANY,
    ("POST", "/v2/models/{name}/infer"): _PREDICT,
    ("POST", "/v2/models/{name}/versions/{version}/infer"): _PREDICT,
    ("POST", "/predict"): _PREDICT,
    ("POST", "/feedback"): _REVIEW,
    ("GET", "/metrics"): _ADMIN,
    ("POST", "/admin/reload"): _ADMIN,
    ("GET", "/openapi.json"): _ANY,
    ("GET", "/docs"): _ANY,
    ("GET", "/docs/oauth2-redirect"): _ANY,
    ("GET", "/"): _REVIEW,
    ("GET", "/review"): _REVIEW,
    ("GET", "/review/next"): _REVIEW,
    ("POST", "/review/label"): _REVIEW,
    ("POST", "/review/skip"): _REVIEW,
    ("POST", "/review/flag"): _REVIEW,
    ("POST", "/review/undo"): _REVIEW,
}
"""(method, route template) → the roles allowed; anything else is refused (403)."""


def route_of(scope: Scope) -> tuple[str, str] | None:
    """Return ``(method, route template)`` of the app route matching the request, if any.

    ``HEAD`` counts as ``GET``. A path that matches a route for another method gives that
    route's template with the request's method (the app answers 405).
    """
    found = _match(scope)
    return None if found is None else found[:2]


def _match(scope: Scope) -> tuple[str, str, bool] | None:
    """``(method, template, whether the method matches too)`` of the request's route."""
    method = "GET" if scope.get("method") == "HEAD" else str(scope.get("method"))
    partial = None
    for route in getattr(scope.get("app"), "routes", ()):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return method, str(route.path), True
        if match is Match.PARTIAL and partial is None:
            partial = (method, str(route.path), False)
    return partial


@dataclass
class TokenBucket:
    """A token bucket: ``burst`` requests at once, refilled at ``rate`` per second.

    Examples
    --------
    >>> now = [0.0]
    >>> bucket = TokenBucket(rate=1.0, burst=2, clock=lambda: now[0])
    >>> bucket.take(), bucket.take(), bucket.take()
    (0.0, 0.0, 1.0)
    >>> now[0] = 1.0; bucket.take()
    0.0
    """

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _level: float = field(init=False)
    _at: float = field(init=False)

    def __post_init__(self) -> None:
        self._level = float(self.burst)
        self._at = self.clock()

    def take(self) -> float:
        """Take one request's worth; return 0 when allowed, else the seconds to wait."""
        now = self.clock()
        self._level = min(float(self.burst), self._level + (now - self._at) * self.rate)
        self._at = now
        if self._level >= 1.0:
            self._level -= 1.0
            return 0.0
        return (1.0 - self._level) / self.rate


_UNAUTHORIZED = (
    "A valid bearer token is required: send the header 'Authorization: Bearer <token>' "
    "(create one with `prudent token add`)."
)


class AuthMiddleware:
    """Authenticate, authorise and rate-limit every request before the app sees it.

    Parameters
    ----------
    app
        The next ASGI app.
    tokens
        The known tokens, or a :class:`TokenFile` read again when it changes (so a revoked
        token is refused without a restart); ``None`` turns authentication off (every caller
        is ``local``, admin).
    clock
        Monotonic seconds, for the rate limits.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: TokenFile | Sequence[TokenEntry] | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.tokens = tokens if tokens is None or isinstance(tokens, TokenFile) else list(tokens)
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = _match(scope)
        if found is not None and found[1] in _PUBLIC_PATHS:
            await self.app(scope, receive, send)  # a probe, or 405 for another method
            return
        refusal = self._refusal(scope, found[:2] if found is not None and found[2] else None)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, route: tuple[str, str] | None) -> ASGIApp | None:
        if self.tokens is None:
            scope.setdefault("state", {})["principal"] = "local"
            return None
        page = route is not None and route[1] in PAGE_PATHS
        token = _bearer(scope) or (_cookie(scope, SESSION_COOKIE) if page else "")
        known = self.tokens.entries() if isinstance(self.tokens, TokenFile) else self.tokens
        entry = find_token(known, token) if token else None
        if entry is None:
            if page and route is not None and route[0] == "GET" and _wants_html(scope):
                return _to_login(scope)
            return error_response(401, _UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
        scope.setdefault("state", {})["principal"] = entry.name
        if route is not None and not (ROUTE_ROLES.get(route, frozenset()) & set(entry.roles)):
            allowed = sorted(ROUTE_ROLES.get(route, frozenset())) or ["nobody"]
            return error_response(
                403,
                f"Token {entry.name!r} has roles {list(entry.roles)}, but {route[0]} {route[1]} "
                f"needs one of {allowed}; ask an admin for a token with that role.",
            )
        wait = self._bucket(entry).take() if entry.rate_limit is not None else 0.0
        if wait > 0:
            return error_response(
                429,
                f"Token {entry.name!r} is past its rate limit of {entry.rate_limit:g} requests "
                f"per second; retry in {wait:.2f} s.",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return None

    def _bucket(self, entry: TokenEntry) -> TokenBucket:
        bucket = self._buckets.get(entry.name)
        if bucket is None:
            assert entry.rate_limit is not None
            burst = entry.burst or max(1, math.ceil(entry.rate_limit))
            bucket = self._buckets[entry.name] = TokenBucket(entry.rate_limit, burst, self.clock)
        return bucket


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _cookie(scope: Scope, name: str) -> str:
    jar = SimpleCookie()
    try:
        jar.load(_header(scope, b"cookie"))
    except CookieError:
        return ""
    morsel = jar.get(name)
    return morsel.value if morsel is not None else ""


def _wants_html(scope: Scope) -> bool:
    return "text/html" in _header(scope, b"accept")


def _to_login(scope: Scope) -> ASGIApp:
    """Send a browser without credentials to the sign-in form, then back here."""
    path = str(scope.get("path", "/"))
    query = scope.get("query_string", b"").decode("latin-1")
    back = quote(f"{path}?{query}" if query else path, safe="")
    return RedirectResponse(f"/login?next={back}", status_code=303)


def _bearer(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""
