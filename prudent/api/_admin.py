"""The admin routes: ``POST /admin/reload`` swaps in the bundle folder's current contents."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel

from prudent.api._schemas import ErrorBody
from prudent.api._v2 import ERRORS, service_of

__all__ = ["ReloadResponse", "add_admin_routes"]


class ReloadResponse(BaseModel):
    """What a reload did: the bundle versions served before and after."""

    model_name: str
    version: str
    previous_version: str


async def reload(request: Request) -> ReloadResponse:
    """Load the bundle folder again and serve it from now on, without dropping a request.

    The new bundle is verified (hashes, trusted types) and smoke-tested before it replaces the
    served one; requests already started finish on the old one. Point the folder at the new
    bundle first (for example by swapping a symbolic link), then call this, or send the
    process SIGHUP. 422 when the new bundle is invalid or has other inputs or classes: the
    old one is still served.
    """
    service = service_of(request)
    previous, version = await service.reload()
    return ReloadResponse(
        model_name=service.settings.model_name, version=version, previous_version=previous
    )


def add_admin_routes(app: FastAPI) -> None:
    """Add the admin routes to ``app``."""
    refused = {"model": ErrorBody, "description": "The new bundle cannot be served."}
    responses: dict[int | str, dict[str, Any]] = {**ERRORS, 422: refused}
    app.add_api_route(
        "/admin/reload", reload, methods=["POST"], tags=["Admin"], responses=responses
    )
