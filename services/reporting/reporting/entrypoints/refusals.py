"""Reporting's sign-off and manual refusals in the services' one error shape (opsdesk_shared.errors), said in the
caller's language (zh-CN, zh-TW, en): 403 who, 404 what is not there, 409 a state conflict with what is allowed,
422 the field and the real reason, 503 knowledge not answering."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from opsdesk_shared.catalogue import Catalogue
from opsdesk_shared.errors import error_response, language

STATES: dict[str, tuple[str, str, str]] = {
    "draft": ("草稿", "草稿", "draft"), "submitted": ("已提交", "已提交", "submitted"),
    "acknowledged": ("已确认", "已確認", "acknowledged"), "returned": ("已退回", "已退回", "returned"),
}
ACTIONS: dict[str, tuple[str, str, str]] = {
    "submit": ("提交", "提交", "submit"), "acknowledge": ("确认", "確認", "acknowledge"), "return": ("退回", "退回", "return"),
}
TEXTS: dict[str, tuple[str, str, str]] = {
    "forbidden_submit": ("只有项目经理或管理员可以向采购人提交报告（当前角色：{role}）",
                         "只有專案經理或管理員可以向採購人提交報告（目前角色：{role}）",
                         "Only a manager or an admin submits reports to the agency (your role: {role})"),
    "forbidden_acknowledge": ("只有采购人（信息中心）可以确认报告（当前角色：{role}）",
                              "只有採購人（資訊中心）可以確認報告（目前角色：{role}）",
                              "Only the agency acknowledges reports (your role: {role})"),
    "forbidden_return": ("只有采购人（信息中心）可以退回报告（当前角色：{role}）",
                         "只有採購人（資訊中心）可以退回報告（目前角色：{role}）",
                         "Only the agency returns reports (your role: {role})"),
    "forbidden_manual": ("只有项目经理或管理员可以发布维护手册（当前角色：{role}）",
                         "只有專案經理或管理員可以發佈維護手冊（目前角色：{role}）",
                         "Only a manager or an admin publishes the maintenance manual (your role: {role})"),
    "illegal_step": ("报告当前为「{state}」，不能{action}", "報告目前為「{state}」，不能{action}",
                     "The report is {state}: {action} is not possible now"),
    "not_latest": ("这是第 {version} 版，已有第 {latest} 版，只能对最新版本操作",
                   "這是第 {version} 版，已有第 {latest} 版，只能對最新版本操作",
                   "This is version {version}; version {latest} exists, and only the latest can be acted on"),
    "locked": ("报告 {report_id} 当前为「{state}」，在采购人手中或已确认，不能重新生成；退回后才生成新版本",
               "報告 {report_id} 目前為「{state}」，在採購人手中或已確認，不能重新產生；退回後才產生新版本",
               "Report {report_id} is {state}: with the agency or acknowledged, so it is not generated again; a return makes way for a new version"),
    "comments_required": ("退回报告须写明意见", "退回報告須寫明意見", "A return says what to change: comments are required"),
    "changed": ("报告正被同时修改，请重新读取", "報告正被同時修改，請重新讀取", "The report changed meanwhile; read it again"),
    "cannot_regenerate": ("无法重新生成：{reason}", "無法重新產生：{reason}", "Cannot generate it again: {reason}"),
    "not_published": ("以下文章未发布或不存在：{ids}", "以下文章未發布或不存在：{ids}", "Not published or unknown: {ids}"),
    "empty_category": ("分类「{category}」下没有已发布的文章", "分類「{category}」下沒有已發布的文章",
                       "No published article in category {category}"),
    "one_selection": ("请给出 article_ids 或 category 之一（不可同时）", "請給出 article_ids 或 category 之一（不可同時）",
                      "Give either article_ids or category, not both"),
    "knowledge_unavailable": ("知识库服务暂时无应答，请稍后重试", "知識庫服務暫時無應答，請稍後重試",
                              "The knowledge service did not answer; try again shortly"),
}


CATALOGUE = Catalogue(TEXTS, words={"state": STATES, "action": ACTIONS})


class Refusal(Exception):
    """A refusal on its way to the one error shape; `loc` makes it a field error (422)."""

    def __init__(self, status_code: int, code: str, *, loc: list[str] | None = None, extra: dict[str, Any] | None = None,
                 error_code: str | None = None, **params: Any) -> None:
        super().__init__(code)
        self.status_code = status_code
        self.code = code
        self.loc = loc
        self.extra = extra or {}
        self.error_code = error_code
        self.params = params


def install_errors(app: FastAPI) -> None:
    @app.exception_handler(Refusal)
    async def refused(request: Request, exc: Refusal) -> JSONResponse:
        text = CATALOGUE.render(exc.code, exc.params, language(request))
        detail: Any = [{"loc": exc.loc, "msg": text, "type": "value_error"}] if exc.loc else text
        headers = {"Retry-After": "5"} if exc.status_code == 503 else None
        return error_response(request, exc.status_code, code=exc.error_code, detail=detail, extra=exc.extra, headers=headers)
