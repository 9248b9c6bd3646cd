"""Sign in, sign out and the language choice."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from .. import i18n
from ..api import CLIENT_ADDRESS_HEADER, ApiError
from ..session import LANG_COOKIE, SESSION_COOKIE, Session
from ..web import Ctx, checked, context, require_csrf, secure

router = APIRouter()


@router.get("/login")
async def login_form(request: Request) -> Response:
    ctx = context(request)
    if ctx.session is not None:
        return ctx.redirect("/")
    return ctx.render("auth/login.html", error=None, username="")


@router.post("/login")
async def login(request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "") -> Response:
    ctx = context(request)
    await require_csrf(request, ctx)
    try:
        token = await ctx.api.sign_in(
            username.strip(), password, lang=ctx.lang, client_address=request.headers.get(CLIENT_ADDRESS_HEADER),
        )
        me = await ctx.api.me(token["access_token"], lang=ctx.lang)
    except ApiError as exc:
        message = ctx.gettext("Wrong user name or password.") if exc.status in (401, 422) else exc.message
        return ctx.render("auth/login.html", status_code=exc.status if exc.status != 422 else 401, error=message, username=username)
    ttl = min(int(token.get("expires_in", 3600)), ctx.console.settings.session_ttl_s)
    session = Session(
        token=token["access_token"], username=me["subject"], name=me.get("name") or me["subject"], role=me["role"],
        department=me.get("department"), engineer_id=me.get("engineer_id"), expires_at=time.time() + ttl,
    )
    response = ctx.redirect("/")
    response.set_cookie(SESSION_COOKIE, ctx.console.sealer.seal(session), max_age=ttl, httponly=True, samesite="strict",
                        secure=secure(request, ctx.console), path="/")
    return response


@router.post("/logout")
async def logout(ctx: Annotated[Ctx, Depends(checked)]) -> Response:
    response = ctx.redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/lang")
async def choose_language(request: Request, lang: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    ctx = context(request)
    await require_csrf(request, ctx)
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = ctx.redirect(target)
    if lang in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="strict",
                            secure=secure(request, ctx.console), path="/")
    return response
