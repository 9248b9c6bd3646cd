"""Knowledge search and an article, for anyone signed in (the knowledge base decides what each role may read)."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from ..api import ApiError, Json
from ..web import Ctx, signed_in

router = APIRouter()
ARTICLE = re.compile(r"^[A-Za-z0-9._\-]{1,200}$")


@router.get("/kb")
async def kb_search(ctx: Annotated[Ctx, Depends(signed_in)], q: str = "") -> Response:
    query = q.strip()[:200]
    hits: list[Json] = []
    error = None
    if query:
        try:
            hits = (await ctx.api.kb_search(ctx.token, query, lang=ctx.lang, limit=10)).get("results", [])
        except ApiError as exc:
            error = exc.message
    template = "kb/results.html" if ctx.request.headers.get("hx-request") else "kb/search.html"
    return ctx.render(template, q=query, hits=hits, error=error)


@router.get("/kb/{article_id}")
async def kb_article(article_id: str, ctx: Annotated[Ctx, Depends(signed_in)], came_from: str = "", problem: str = "",
                     title: str = "", description: str = "") -> Response:
    if not ARTICLE.match(article_id):
        raise HTTPException(404, "Not Found")
    try:
        article = await ctx.api.kb_article(ctx.token, article_id, lang=ctx.lang)
    except ApiError as exc:
        if exc.status == 401:
            return ctx.redirect("/login")
        return ctx.render("error.html", status_code=exc.status, message=exc.message)
    back = "/report?" + urlencode({"problem": problem[:50], "title": title[:200], "description": description[:1000]})
    return ctx.render("kb/article.html", article=article, content=article.get("content") or {}, from_report=came_from == "report",
                      back=back)
