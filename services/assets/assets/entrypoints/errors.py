"""The CMDB's refusals in the services' one error shape (opsdesk_shared.errors), said in the caller's language.

Routes raise HTTPException as before; a `Said` in its detail (the detail itself, a field's `msg`, or a value in a
409's body) is rendered here in the language Accept-Language picked (texts.py). Everything else is the shared
module's: the shape, the codes, Retry-After on a 503.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from opsdesk_shared.errors import RETRY_AFTER_OUTAGE_S, error_response, language

from ..texts import localise


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 503 and not any(k.lower() == "retry-after" for k in headers):
            headers["Retry-After"] = str(RETRY_AFTER_OUTAGE_S)
        return error_response(request, exc.status_code, detail=localise(exc.detail, language(request)), headers=headers or None)
