"""The knowledge base over HTTP, under /api/v1/kb (the gateway forwards the path unchanged, with an internal token)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from .. import service
from ..domain import SEE_EVERYTHING, Article, ArticleContent, ArticleVersion, Attachment
from ..ports import Suggestion
from ..search import Hit
from .common import Caller, Wired, cid, now, require, run

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge base"])


class ArticleIn(ArticleContent):
    source: Literal["desk", "submission", "monthly_report"] = Field(
        default="desk", description="desk article, an engineer's weekly technical document, or a monthly report"
    )


class ArticleEdit(ArticleContent):
    note: str | None = Field(default=None, max_length=1000, description="What changed, kept in the history")


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=1000)


class SearchHit(BaseModel):
    article_id: str
    title: str
    title_html: str = Field(description="Title, HTML-escaped, matched terms in <em>")
    snippet_html: str = Field(description="Best passage, HTML-escaped, matched terms in <em>")
    score: float
    category: str
    tags: list[str]
    service_codes: list[str]
    audience: str
    state: str
    version: int

    @classmethod
    def of(cls, hit: Hit) -> SearchHit:
        a = hit.attrs
        return cls(
            article_id=hit.key, title=hit.title, title_html=hit.title_html, snippet_html=hit.snippet_html,
            score=hit.score, category=a.category, tags=sorted(a.tags), service_codes=sorted(a.service_codes),
            audience=a.audience, state=a.state, version=a.version,
        )


class SearchOut(BaseModel):
    total: int
    took_ms: float
    terms: list[str] = Field(description="The query's terms after segmentation")
    results: list[SearchHit]


@router.get("/search", response_model=SearchOut, summary="Search articles (Chinese and English), ranked by BM25")
async def search_articles(
    wired: Wired,
    actor: Caller,
    q: Annotated[str, Query(max_length=500, description="Words in Chinese or English; empty lists by title")] = "",
    category: str | None = None,
    tag: Annotated[list[str], Query(description="Every tag given must be on the article")] = [],  # noqa: B006
    service_code: str | None = None,
    asset_type: str | None = None,
    audience: Literal["desk", "engineers", "all"] | None = None,
    state: Annotated[
        Literal["draft", "in_review", "published", "retired", "any"],
        Query(description="Published unless asked; other states show only what the caller may see"),
    ] = "published",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> SearchOut:
    started = time.perf_counter()
    filters = service.Filters(
        category=category, tags=tuple(tag), service_code=service_code, asset_type=asset_type, audience=audience,
        state=None if state == "any" else state,
    )
    results = service.search(wired.index.index, q, actor=actor, filters=filters, limit=limit, offset=offset)
    return SearchOut(
        total=results.total, took_ms=round((time.perf_counter() - started) * 1000, 3), terms=results.terms,
        results=[SearchHit.of(h) for h in results.hits],
    )


@router.post("/articles", response_model=Article, status_code=status.HTTP_201_CREATED, summary="Write a draft")
async def create_article(body: ArticleIn, wired: Wired, actor: Caller) -> Article:
    content = ArticleContent.model_validate(body.model_dump(exclude={"source"}))
    return await run(service.create_article(
        content, actor=actor, source=body.source, articles=wired.articles, index=wired.index, now=now()
    ))


@router.get("/articles/{article_id}", response_model=Article)
async def read_article(article_id: str, wired: Wired, actor: Caller) -> Article:
    return await run(service.read_article(article_id, actor=actor, articles=wired.articles))


@router.put("/articles/{article_id}", response_model=Article, summary="Edit: a new version")
async def edit_article(article_id: str, body: ArticleEdit, wired: Wired, actor: Caller) -> Article:
    content = ArticleContent.model_validate(body.model_dump(exclude={"note"}))
    return await run(service.edit_article(
        article_id, content, actor=actor, note=body.note, articles=wired.articles, outbox=wired.article_outbox,
        index=wired.index, now=now(), correlation_id=cid(),
    ))


@router.get("/articles/{article_id}/versions", response_model=list[ArticleVersion])
async def article_versions(article_id: str, wired: Wired, actor: Caller) -> list[ArticleVersion]:
    return await run(service.article_history(article_id, actor=actor, articles=wired.articles))


@router.post(
    "/articles/{article_id}/attachments", response_model=Attachment, status_code=status.HTTP_201_CREATED,
    summary="Attach a file: multipart/form-data (field `file`) or the raw bytes with ?filename=",
)
async def upload_attachment(
    article_id: str, request: Request, wired: Wired, actor: Caller, filename: str | None = None
) -> Attachment:
    content_type = request.headers.get("content-type", "application/octet-stream")
    data: AsyncIterator[bytes]
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise HTTPException(422, "multipart upload needs a `file` field")
        name = filename or upload.filename or "attachment"
        kind = upload.content_type or "application/octet-stream"

        async def pieces() -> AsyncIterator[bytes]:
            while piece := await upload.read(64 * 1024):
                yield piece

        data = pieces()
    else:
        if not filename:
            raise HTTPException(422, "raw upload needs ?filename=")
        name, kind, data = filename, content_type, request.stream()
    return await run(service.upload_attachment(
        article_id, filename=name[:255], content_type=kind[:100], data=data, actor=actor, articles=wired.articles,
        attachments=wired.attachments, index=wired.index, max_bytes=wired.settings.attachment_max_bytes, now=now(),
    ))


@router.get("/articles/{article_id}/attachments/{attachment_id}", summary="Download a file, streamed from its chunks")
async def download_attachment(article_id: str, attachment_id: str, wired: Wired, actor: Caller) -> StreamingResponse:
    attachment, chunks = await run(service.open_attachment(
        article_id, attachment_id, actor=actor, articles=wired.articles, attachments=wired.attachments
    ))
    disposition = f"attachment; filename*=UTF-8''{quote(attachment.filename)}"
    return StreamingResponse(
        chunks, media_type=attachment.content_type,
        headers={"Content-Disposition": disposition, "Content-Length": str(attachment.size), "ETag": f'"{attachment.sha256}"'},
    )


@router.delete("/articles/{article_id}/attachments/{attachment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_attachment(article_id: str, attachment_id: str, wired: Wired, actor: Caller) -> Response:
    await run(service.delete_attachment(
        article_id, attachment_id, actor=actor, articles=wired.articles, attachments=wired.attachments,
        index=wired.index, now=now(),
    ))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/articles/{article_id}/{action}", response_model=Article,
    summary="Lifecycle: submit (for review), publish, return (to draft), retire, restore; 409 when not possible now",
)
async def article_action(
    article_id: str, action: Literal["submit", "publish", "return", "retire", "restore"], wired: Wired, actor: Caller,
    body: ActionIn | None = None,
) -> Article:
    return await run(service.change_state(
        article_id, action, actor=actor, note=body.note if body else None, articles=wired.articles,
        outbox=wired.article_outbox, index=wired.index, now=now(), correlation_id=cid(),
    ))


@router.get("/suggestions/{ticket_id}", response_model=Suggestion, summary="Articles suggested for a ticket")
async def read_suggestion(ticket_id: str, wired: Wired, actor: Caller) -> Suggestion:
    require(actor, SEE_EVERYTHING, "read suggestions")
    suggestion = await wired.suggestions.get(ticket_id)
    if suggestion is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no suggestion for ticket {ticket_id}")
    return suggestion  # type: ignore[no-any-return]


@router.get("/stats", summary="Deflection: tickets resolved by a suggested article")
async def kb_stats(wired: Wired, actor: Caller) -> dict[str, object]:
    require(actor, SEE_EVERYTHING, "read knowledge base figures")
    figures = await service.deflection_stats(suggestions=wired.suggestions)
    counts: dict[str, int] = {}
    for doc in wired.index.index.docs():
        counts[doc.attrs.state] = counts.get(doc.attrs.state, 0) + 1
    return {**figures, "articles": counts}


class DeflectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"article_id": "kb-demo-printer-jam"}]})
    article_id: str = Field(min_length=1, max_length=200, description="The published article that solved the problem")


class DeflectionOut(BaseModel):
    counted: bool
    self_service_deflections: int = Field(description="Problems solved with an article before any ticket was filed, so far")


@router.post(
    "/deflections", response_model=DeflectionOut, status_code=status.HTTP_201_CREATED,
    summary="Count a self-service deflection: the person read this article and filed no ticket",
)
async def record_deflection(body: DeflectionIn, wired: Wired, actor: Caller) -> DeflectionOut:
    """Sent by a portal when a person about to report a problem says the article offered solved it. Read back as
    `self_service_deflections` in GET /kb/stats. 404 for an article the caller may not read or that is not published."""
    total = await run(service.record_self_service(body.article_id, actor=actor, articles=wired.articles, suggestions=wired.suggestions))
    return DeflectionOut(counted=True, self_service_deflections=total)
