"""The desk's own errors in the one shape every service answers with (opsdesk_shared.errors, installed for every
app by build_service_app, the gateway included):

    {"code": "validation_error", "message": "...", "detail": [{"loc": [...], "msg": "...", "type": "..."}]}

Here only what is the desk's: a state that does not allow a step (409 with the allowed states), a stale version
(412 with the current one), a field the desk refuses (422), a forbidden act (403), an unknown ticket (404).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from opsdesk_shared.errors import error_response, language, message

from ..access import Forbidden
from ..domain import InvalidField
from ..lifecycle import IllegalTransition, StaleVersion
from ..mail import BadMail
from ..search import BadCursor
from ..service import IdempotencyKeyReused, TicketNotFound
from ..texts import Said, localise, parse_errors, said_of
from .language import ContentLanguage

__all__ = ["error_response", "install", "language", "message"]


def install(app: FastAPI) -> None:
    """The desk's exceptions; the generic ones (validation, HTTPException, budget) are the shared module's. And the
    language: errors say theirs, and so does every other answer (language.py)."""
    app.add_middleware(ContentLanguage)
    _speak_the_callers_language(app)

    @app.exception_handler(InvalidField)
    async def invalid_field(request: Request, exc: InvalidField) -> JSONResponse:
        return error_response(request, 422, detail=[{"loc": list(exc.loc), "msg": localise(exc.msg, language(request)), "type": "value_error"}])

    @app.exception_handler(BadCursor)
    async def bad_cursor(request: Request, exc: BadCursor) -> JSONResponse:
        return error_response(request, 422, detail=[{"loc": ["query", "cursor"], "msg": _cursor_text(exc, language(request)), "type": "value_error"}])

    @app.exception_handler(BadMail)
    async def bad_mail(request: Request, exc: BadMail) -> JSONResponse:
        return error_response(request, 422, detail=[{"loc": ["body"], "msg": str(exc), "type": "value_error"}])

    @app.exception_handler(IllegalTransition)
    async def illegal(request: Request, exc: IllegalTransition) -> JSONResponse:
        return error_response(
            request, 409, code="illegal_transition", detail=localise(said_of(exc), language(request)),
            extra={"current_status": exc.current, "requested": exc.target, "allowed": list(exc.allowed)},
        )

    @app.exception_handler(StaleVersion)
    async def stale(request: Request, exc: StaleVersion) -> JSONResponse:
        return error_response(
            request, 412, detail=localise(said_of(exc), language(request)), headers={"ETag": f'"{exc.actual}"'}, extra={"current_version": exc.actual}
        )

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        return error_response(request, 403, detail=localise(said_of(exc), language(request)))

    @app.exception_handler(IdempotencyKeyReused)
    async def key_reused(request: Request, exc: IdempotencyKeyReused) -> JSONResponse:
        # As the IETF Idempotency-Key draft answers a key reused with another payload: 422, naming the header.
        return error_response(request, 422, code="idempotency_key_reused", detail=[
            {"loc": ["header", "Idempotency-Key"], "msg": localise(said_of(exc), language(request)), "type": "idempotency_key_reused"},
        ])

    @app.exception_handler(TicketNotFound)
    async def not_found(request: Request, exc: TicketNotFound) -> JSONResponse:
        return error_response(request, 404, detail=Said("err.ticket_not_found", ticket=str(exc.args[0])).text(language(request)))


def _speak_the_callers_language(app: FastAPI) -> None:
    """The shared handlers (opsdesk_shared.errors.install, run by build_service_app) answer every HTTPException and
    validation error in the one shape; the desk's own texts in them are `Said` codes (texts.py), rendered here in the
    caller's language before the shared handler shapes the answer. One mechanism: the shared one, fed rendered text."""
    shaped_http = app.exception_handlers[StarletteHTTPException]
    shaped_validation = app.exception_handlers[RequestValidationError]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = localise(exc.detail, language(request))
        if detail is not exc.detail:
            exc = StarletteHTTPException(exc.status_code, detail, headers=exc.headers)
        return await _answer(shaped_http(request, exc))

    async def validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        rendered = parse_errors(localise(list(exc.errors()), language(request)), language(request))
        return await _answer(shaped_validation(request, RequestValidationError(rendered, body=exc.body)))

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation)


async def _answer(result: Response | Awaitable[Response]) -> Response:
    return await result if inspect.isawaitable(result) else result


def _cursor_text(exc: BadCursor, lang: str) -> str:
    """search.py's two cursor refusals, said in the caller's language."""
    return Said("err.cursor_sort" if "sort order" in str(exc) else "err.cursor").text(lang)
