"""``/login`` and ``/logout``: a browser keeps its token in an ``HttpOnly`` cookie until it
signs out.

The pages (``/``, ``/review``…) accept that cookie in place of the ``Authorization`` header
(:data:`prudent.api._auth.PAGE_PATHS`); the JSON and V2 routes never do. A page opened
without credentials by a browser is redirected here. Both forms carry the CSRF token of the
browser's ``prudent_csrf`` cookie, checked on the server (:func:`~prudent.api._pages.read_form`):
a sign-in posted from another site, or without the form's token, is refused with 403 and the
form shown again (with this browser's token), a sign-out likewise, as JSON.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response

from prudent.api._auth import SESSION_COOKIE
from prudent.api._errors import ApiError
from prudent.api._pages import CSRF_COOKIE, csrf_token, html_response, page_html, read_form
from prudent.api._tokens import TokenFile, find_token
from prudent.report import Html, esc

__all__ = ["add_login_routes", "safe_next"]


def safe_next(target: str | None) -> str:
    """Return ``target`` when it is a path of this service, else ``/`` (no open redirect).

    Examples
    --------
    >>> safe_next("/review?case=1"), safe_next("//evil.example"), safe_next("https://x")
    ('/review?case=1', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _form(request: Request, target: str, message: str = "") -> str:
    error = f'<p class="flash error">{esc(message)}</p>' if message else ""
    body = Html(
        f"<h1>prudent · sign in</h1>{error}"
        '<form method="post" action="/login">'
        f'<input type="hidden" name="csrf" value="{esc(csrf_token(request))}">'
        f'<input type="hidden" name="next" value="{esc(target)}">'
        '<p><label>Token <input name="token" type="password" autocomplete="current-password" '
        'required autofocus></label></p><p><button type="submit">Sign in</button></p>'
        "<p>A token with the role <code>review</code> or <code>admin</code> "
        "(<code>prudent token NAME --role review</code>).</p></form>"
    )
    return page_html("Sign in", body)


async def login_page(request: Request, next: str = "/") -> Response:
    """The sign-in form."""
    return html_response(request, _form(request, safe_next(next)))


async def login(request: Request) -> Response:
    """Check the token; keep it in a cookie and go to ``next``, or show the form again.

    401 for an unknown token; 403 for a form without this browser's CSRF token (posted from
    another site, or after its cookie was cleared).
    """
    try:
        form = await read_form(request)
    except ApiError as exc:
        if exc.status_code != 403:
            raise
        message = "This sign-in form did not come from this page (or has expired); sign in again."
        return html_response(request, _form(request, "/", message), status_code=403)
    target = safe_next(form.get("next"))
    tokens: TokenFile | None = request.app.state.tokens
    token = form.get("token", "").strip()
    if tokens is not None and (not token or find_token(tokens.entries(), token) is None):
        message = "That token is not known here; check it, or ask an admin for one."
        return html_response(request, _form(request, target, message), status_code=401)
    response = RedirectResponse(target, status_code=303)
    if tokens is not None:
        secure = request.url.scheme == "https"
        response.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/"
        )
    return response


async def logout(request: Request) -> Response:
    """Forget the browser's token and CSRF cookie, and go to the sign-in form (303).

    The form's CSRF token is checked first: another site cannot sign a reviewer out.
    """
    await read_form(request)
    response = RedirectResponse("/login", status_code=303)
    secure = request.url.scheme == "https"
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="strict")
    return response


def add_login_routes(app: FastAPI) -> None:
    """Add ``GET /login``, ``POST /login`` and ``POST /logout`` to ``app``."""
    app.add_api_route(
        "/login", login_page, methods=["GET"], include_in_schema=False, response_class=Response
    )
    app.add_api_route(
        "/login", login, methods=["POST"], include_in_schema=False, response_class=Response
    )
    app.add_api_route(
        "/logout", logout, methods=["POST"], include_in_schema=False, response_class=Response
    )
