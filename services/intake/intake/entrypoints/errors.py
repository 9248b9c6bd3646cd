"""Every error the gateway returns has one JSON shape, in the caller's language (Accept-Language: zh-CN, zh-TW, en):

    {"code": "validation_error", "message": "...", "detail": [{"loc": [...], "msg": "...", "type": "..."}]}

`detail` keeps FastAPI's field list for validation errors (a string otherwise), so generic clients still read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..access import Forbidden
from ..domain import InvalidField
from ..lifecycle import IllegalTransition, StaleVersion
from ..mail import BadMail
from ..search import BadCursor
from ..service import TicketNotFound

LANGUAGES = ("zh-CN", "zh-TW", "en")
MESSAGES: dict[str, tuple[str, str, str]] = {
    # code: (zh-CN, zh-TW, en)
    "validation_error": ("请求内容有误，请检查所列字段", "請求內容有誤，請檢查所列欄位", "The request has invalid fields"),
    "unauthorized": ("需要有效的身份凭证", "需要有效的身分憑證", "Valid credentials are required"),
    "forbidden": ("您无权执行此操作", "您無權執行此操作", "You are not allowed to do this"),
    "not_found": ("找不到该资源", "找不到該資源", "Not found"),
    "illegal_transition": ("当前状态不允许此操作", "當前狀態不允許此操作", "The ticket's state does not allow this"),
    "stale_version": ("工单已被他人修改，请重新读取", "工單已被他人修改，請重新讀取", "The ticket changed since you read it; read it again"),
    "payload_too_large": ("请求内容过大", "請求內容過大", "The request body is too large"),
    "service_unavailable": ("依赖的服务暂时无应答", "依賴的服務暫時無應答", "A service behind the gateway did not answer"),
    "conflict": ("与现有数据冲突", "與現有資料衝突", "Conflicts with existing data"),
    "bad_request": ("请求无法处理", "請求無法處理", "The request cannot be processed"),
    "too_many_requests": ("尝试次数过多，请稍后再试", "嘗試次數過多，請稍後再試", "Too many attempts; try again later"),
    "error": ("请求失败", "請求失敗", "The request failed"),
}
FIELD_MESSAGES: dict[str, tuple[str, str]] = {
    # pydantic error type: (zh-CN, zh-TW); English keeps pydantic's own text
    "missing": ("缺少必填字段", "缺少必填欄位"),
    "string_too_long": ("字符串过长", "字串過長"),
    "string_too_short": ("字符串过短", "字串過短"),
    "string_pattern_mismatch": ("格式不正确", "格式不正確"),
    "string_type": ("应为字符串", "應為字串"),
    "int_parsing": ("应为整数", "應為整數"),
    "int_type": ("应为整数", "應為整數"),
    "float_parsing": ("应为数字", "應為數字"),
    "bool_parsing": ("应为布尔值", "應為布林值"),
    "literal_error": ("取值不在允许范围内", "取值不在允許範圍內"),
    "enum": ("取值不在允许范围内", "取值不在允許範圍內"),
    "extra_forbidden": ("不允许的字段", "不允許的欄位"),
    "datetime_parsing": ("日期时间格式不正确", "日期時間格式不正確"),
    "datetime_from_date_parsing": ("日期时间格式不正确", "日期時間格式不正確"),
    "value_error": ("取值无效", "取值無效"),
    "greater_than_equal": ("数值过小", "數值過小"),
    "less_than_equal": ("数值过大", "數值過大"),
    "json_invalid": ("JSON 格式错误", "JSON 格式錯誤"),
    "model_attributes_type": ("应为对象", "應為物件"),
    "dict_type": ("应为对象", "應為物件"),
    "list_type": ("应为列表", "應為列表"),
}
STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
                412: "stale_version", 413: "payload_too_large", 422: "validation_error", 429: "too_many_requests",
                503: "service_unavailable"}


def language(request: Request) -> str:
    """The first supported language in Accept-Language (q-values honoured), English otherwise."""
    header = request.headers.get("accept-language", "")
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag in ("zh-cn", "zh-hans", "zh-sg", "zh"):
            return "zh-CN"
        if tag in ("zh-tw", "zh-hant", "zh-hk", "zh-mo"):
            return "zh-TW"
        if tag.startswith("en"):
            return "en"
    return "en"


def message(code: str, lang: str) -> str:
    texts = MESSAGES.get(code, MESSAGES["error"])
    return texts[LANGUAGES.index(lang)]


def _field_msg(item: dict[str, Any], lang: str) -> str:
    if lang == "en" or item.get("type") not in FIELD_MESSAGES:
        return str(item.get("msg", ""))
    zh_cn, zh_tw = FIELD_MESSAGES[item["type"]]
    return zh_cn if lang == "zh-CN" else zh_tw


def error_response(
    request: Request, status_code: int, *, code: str | None = None, detail: Any = None, headers: Mapping[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    lang = language(request)
    code = code or STATUS_CODES.get(status_code, "error")
    if isinstance(detail, list):
        detail = [
            {"loc": list(d.get("loc", ())), "msg": _field_msg(d, lang), "type": d.get("type", "value_error")}
            | ({"input_msg": d["msg"]} if lang != "en" and "msg" in d else {})
            for d in detail
            if isinstance(d, dict)
        ]
    body = {"code": code, "message": message(code, lang), "detail": detail, **(extra or {})}
    response = JSONResponse(body, status_code=status_code, headers=dict(headers) if headers else None)
    response.headers["Content-Language"] = lang
    return response


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": e.get("loc", ()), "msg": e.get("msg", ""), "type": e.get("type", "value_error")} for e in exc.errors()]
        return error_response(request, 422, detail=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(request, exc.status_code, detail=exc.detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(HTTPException)
    async def fastapi_http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(request, exc.status_code, detail=exc.detail, headers=dict(exc.headers or {}))

    @app.exception_handler(InvalidField)
    async def invalid_field(request: Request, exc: InvalidField) -> JSONResponse:
        return error_response(request, 422, detail=[{"loc": list(exc.loc), "msg": exc.msg, "type": "value_error"}])

    @app.exception_handler(BadCursor)
    async def bad_cursor(request: Request, exc: BadCursor) -> JSONResponse:
        return error_response(request, 422, detail=[{"loc": ["query", "cursor"], "msg": str(exc), "type": "value_error"}])

    @app.exception_handler(BadMail)
    async def bad_mail(request: Request, exc: BadMail) -> JSONResponse:
        return error_response(request, 422, detail=[{"loc": ["body"], "msg": str(exc), "type": "value_error"}])

    @app.exception_handler(IllegalTransition)
    async def illegal(request: Request, exc: IllegalTransition) -> JSONResponse:
        return error_response(
            request, 409, code="illegal_transition", detail=str(exc),
            extra={"current_status": exc.current, "requested": exc.target, "allowed": list(exc.allowed)},
        )

    @app.exception_handler(StaleVersion)
    async def stale(request: Request, exc: StaleVersion) -> JSONResponse:
        return error_response(
            request, 412, detail=str(exc), headers={"ETag": f'"{exc.actual}"'}, extra={"current_version": exc.actual}
        )

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        return error_response(request, 403, detail=str(exc))

    @app.exception_handler(TicketNotFound)
    async def not_found(request: Request, exc: TicketNotFound) -> JSONResponse:
        return error_response(request, 404, detail=f"ticket {exc.args[0]} not found")
