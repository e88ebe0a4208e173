"""What the HTML pages share: the shell, the security headers, CSRF tokens and static files.

Pages are rendered on the server from escaped parts (:func:`prudent.report.esc`); the only
scripts are files of this package (``static/``: a vendored htmx 2.0.11, 0BSD, its licence
beside it, and ``review.js``), so the Content-Security-Policy allows scripts and styles from
the service itself and nothing inline. A form POST carries a CSRF token that must equal the
``prudent_csrf`` cookie (double submit; the cookie is ``SameSite=Strict`` and ``HttpOnly``);
a request authenticated by a bearer header cannot be forged by another site and needs none.
"""

from __future__ import annotations

import hmac
import secrets
from importlib import resources
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from starlette.responses import HTMLResponse, Response

from prudent.api._errors import ApiError
from prudent.report import Html, esc

__all__ = [
    "CSP",
    "CSRF_COOKIE",
    "add_static_route",
    "csrf_token",
    "html_response",
    "logout_form",
    "page_html",
    "read_form",
    "static_file",
]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""The Content-Security-Policy of every page: nothing inline, nothing from elsewhere."""
CSRF_COOKIE = "prudent_csrf"
_FORM_BYTES = 64_000
_STATIC = {
    "htmx.min.js": "text/javascript",
    "review.js": "text/javascript",
    "page.css": "text/css",
    "htmx.LICENSE": "text/plain",
}
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser: its cookie's, or a new one (set by :func:`html_response`).

    Parameters
    ----------
    request
        The request.

    Returns
    -------
    str
        The token to put in the page's forms.
    """
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = request.state.new_csrf = secrets.token_urlsafe(32)
    return str(token)


def _by_bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


async def read_form(request: Request) -> dict[str, str]:
    """Read a URL-encoded form POST and check its CSRF token.

    Parameters
    ----------
    request
        The POST request.

    Returns
    -------
    dict
        Field → its first value.

    Raises
    ------
    ApiError
        403 when the ``csrf`` field is missing or differs from the cookie (unless the request
        carries a bearer token), 400 for a body that is not a small URL-encoded form.
    """
    body = await request.body()
    if len(body) > _FORM_BYTES:
        raise ApiError(400, f"The form is {len(body)} bytes; at most {_FORM_BYTES} are read.")
    try:
        pairs = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise ApiError(400, "The form is not UTF-8 URL-encoded text.") from exc
    form = {key: values[0] for key, values in pairs.items()}
    cookie = request.cookies.get(CSRF_COOKIE, "")
    given = form.get("csrf", "") or request.headers.get("x-csrf-token", "")
    if not _by_bearer(request) and not (
        cookie and given and hmac.compare_digest(cookie.encode(), given.encode())
    ):
        raise ApiError(
            403,
            "The form's CSRF token is missing or does not match this browser's; reload the "
            "page and try again.",
            field="csrf",
        )
    return form


def logout_form(request: Request) -> Html:
    """The "Sign out" button of a page's header: a form POST to ``/logout`` with its CSRF token.

    Examples
    --------
    >>> from starlette.requests import Request
    >>> request = Request({"type": "http", "headers": [(b"cookie", b"prudent_csrf=t0k")]})
    >>> str(logout_form(request))[:69]
    '<form class="logout" method="post" action="/logout"><input type="hidd'
    """
    return Html(
        '<form class="logout" method="post" action="/logout">'
        f'<input type="hidden" name="csrf" value="{esc(csrf_token(request))}">'
        '<button type="submit">Sign out</button></form>'
    )


def page_html(title: str, body: Html, *, scripts: tuple[str, ...] = ()) -> str:
    """Return a whole page: the shell, the shared style sheet, ``body`` and the scripts.

    Parameters
    ----------
    title
        The page title (escaped).
    body
        The page's markup, already safe.
    scripts
        Names of this package's static scripts to load.

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> "<title>a &lt;b&gt;</title>" in page_html("a <b>", Html("<p>x</p>"))
    True
    """
    tags = "".join(f'<script src="/static/{esc(name)}" defer></script>' for name in scripts)
    config = '{"includeIndicatorStyles": false, "allowEval": false, "allowScriptTags": false}'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<meta name=\"htmx-config\" content='{config}'>"
        f'<title>{esc(title)}</title><link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="/static/page.css">{tags}'
        f"</head><body>{body}</body></html>"
    )


def html_response(request: Request, content: str, status_code: int = 200) -> HTMLResponse:
    """Answer HTML with the security headers, setting the CSRF cookie when it is new.

    Parameters
    ----------
    request
        The request answered.
    content
        The HTML.
    status_code
        The status.

    Returns
    -------
    starlette.responses.HTMLResponse
        With the Content-Security-Policy and the other headers of every page.
    """
    response = HTMLResponse(content, status_code=status_code, headers=_HEADERS)
    new = getattr(request.state, "new_csrf", None)
    if new and not request.cookies.get(CSRF_COOKIE):
        secure = request.url.scheme == "https"
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="strict", secure=secure, path="/"
        )
    return response


async def static_file(name: str) -> Response:
    """One of the page's static files (htmx, the review script, the style sheet)."""
    media = _STATIC.get(name)
    if media is None:
        raise ApiError(404, f"No static file {name!r}; the files are {sorted(_STATIC)}.")
    data = resources.files("prudent.api").joinpath("static", name).read_bytes()
    headers = {**_HEADERS, "Cache-Control": "max-age=3600"}
    return Response(data, media_type=media, headers=headers)


def add_static_route(app: FastAPI) -> None:
    """Add ``GET /static/{name}`` (the pages' scripts and style sheet) to ``app``."""
    app.add_api_route(
        "/static/{name}",
        static_file,
        methods=["GET"],
        include_in_schema=False,
        response_class=Response,
    )
