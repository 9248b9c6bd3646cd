"""One error shape for every service, in the caller's language (Accept-Language: zh-CN, zh-TW, en):

    {"code": "validation_error", "message": "...", "detail": [{"loc": [...], "msg": "...", "type": "..."}]}

`code` is stable for programs, `message` says it in the caller's language, and `detail` keeps FastAPI's field list
for validation errors (a string otherwise), so generic clients still read it. Each field's `msg` is the real
reason: translated where we have a translation of pydantic's stable error `type` (with its limits filled in),
else pydantic's own English text; our own messages (`value_error`) are kept as written.

`build_service_app` installs it in every service, so the gateway passes a routed service's errors through unchanged.
Statuses mean the same everywhere: 404 unknown thing, 422 bad input, 409 state conflict.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import nats.errors
import nats.js.errors
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, ExecutionTimeout, WTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .catalogue import language_of as language_of  # the one reading of a language (catalogue.py)
from .offload import BudgetExceeded

LANGUAGES = ("zh-CN", "zh-TW", "en")
MESSAGES: dict[str, tuple[str, str, str]] = {
    # code: (zh-CN, zh-TW, en)
    "validation_error": ("请求内容有误，请检查所列字段", "請求內容有誤，請檢查所列欄位", "The request has invalid fields"),
    "unauthorized": ("需要有效的身份凭证", "需要有效的身分憑證", "Valid credentials are required"),
    "forbidden": ("您无权执行此操作", "您無權執行此操作", "You are not allowed to do this"),
    "not_found": ("找不到该资源", "找不到該資源", "Not found"),
    "method_not_allowed": ("不支持此请求方法", "不支援此請求方法", "This method is not allowed here"),
    "illegal_transition": ("当前状态不允许此操作", "當前狀態不允許此操作", "The ticket's state does not allow this"),
    "stale_version": ("工单已被他人修改，请重新读取", "工單已被他人修改，請重新讀取", "The ticket changed since you read it; read it again"),
    "payload_too_large": ("请求内容过大", "請求內容過大", "The request body is too large"),
    "unsupported_media_type": ("不支持的内容类型", "不支援的內容類型", "Unsupported content type"),
    "service_unavailable": ("依赖的服务暂时无应答", "依賴的服務暫時無應答", "A service behind the gateway did not answer"),
    "contention": ("该记录正被同时修改，请稍后重试", "該記錄正被同時修改，請稍後重試",
                   "The record was being changed by someone else at the same moment; try again"),
    "dependency_unavailable": ("数据库或消息总线暂时无应答，请稍后重试", "資料庫或訊息匯流排暫時無應答，請稍後重試",
                               "The database or the message bus did not answer; try again shortly"),
    "over_budget": ("处理超时，请稍后再试", "處理逾時，請稍後再試", "This took too long; try again later"),
    "conflict": ("与现有数据或当前状态冲突", "與現有資料或當前狀態衝突", "Conflicts with existing data or the current state"),
    "bad_request": ("请求无法处理", "請求無法處理", "The request cannot be processed"),
    "idempotency_key_reused": ("该 Idempotency-Key 已用于另一份请求内容", "該 Idempotency-Key 已用於另一份請求內容",
                               "This Idempotency-Key was used with a different request body"),
    "too_many_requests": ("尝试次数过多，请稍后再试", "嘗試次數過多，請稍後再試", "Too many attempts; try again later"),
    "internal_error": ("服务内部错误", "服務內部錯誤", "Internal error"),
    "error": ("请求失败", "請求失敗", "The request failed"),
}
# pydantic error type -> (zh-CN, zh-TW) templates, filled from the error's `ctx`; English keeps pydantic's own text.
FIELD_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("缺少必填字段", "缺少必填欄位"),
    "string_too_long": ("最多 {max_length} 个字符", "最多 {max_length} 個字元"),
    "string_too_short": ("至少 {min_length} 个字符", "至少 {min_length} 個字元"),
    "string_pattern_mismatch": ("格式不正确，应匹配 {pattern}", "格式不正確，應符合 {pattern}"),
    "string_type": ("应为字符串", "應為字串"),
    "int_parsing": ("应为整数", "應為整數"),
    "int_type": ("应为整数", "應為整數"),
    "int_from_float": ("应为整数，不能有小数", "應為整數，不能有小數"),
    "float_parsing": ("应为数字", "應為數字"),
    "float_type": ("应为数字", "應為數字"),
    "bool_parsing": ("应为布尔值（true 或 false）", "應為布林值（true 或 false）"),
    "bool_type": ("应为布尔值（true 或 false）", "應為布林值（true 或 false）"),
    "literal_error": ("取值应为 {expected} 之一", "取值應為 {expected} 之一"),
    "enum": ("取值应为 {expected} 之一", "取值應為 {expected} 之一"),
    "extra_forbidden": ("不允许的字段", "不允許的欄位"),
    "datetime_parsing": ("日期时间格式不正确：{error}", "日期時間格式不正確：{error}"),
    "datetime_from_date_parsing": ("日期时间格式不正确：{error}", "日期時間格式不正確：{error}"),
    "datetime_type": ("应为日期时间", "應為日期時間"),
    "date_parsing": ("日期格式不正确：{error}", "日期格式不正確：{error}"),
    "date_from_datetime_parsing": ("日期格式不正确：{error}", "日期格式不正確：{error}"),
    "timezone_aware": ("时间须带时区偏移（如 2026-11-30T15:00:00+08:00）", "時間須帶時區偏移（如 2026-11-30T15:00:00+08:00）"),
    "greater_than_equal": ("应不小于 {ge}", "應不小於 {ge}"),
    "greater_than": ("应大于 {gt}", "應大於 {gt}"),
    "less_than_equal": ("应不大于 {le}", "應不大於 {le}"),
    "less_than": ("应小于 {lt}", "應小於 {lt}"),
    "too_long": ("最多 {max_length} 项", "最多 {max_length} 項"),
    "too_short": ("至少 {min_length} 项", "至少 {min_length} 項"),
    "json_invalid": ("JSON 格式错误：{error}", "JSON 格式錯誤：{error}"),
    "model_attributes_type": ("应为对象", "應為物件"),
    "model_type": ("应为对象", "應為物件"),
    "dict_type": ("应为对象", "應為物件"),
    "list_type": ("应为列表", "應為列表"),
    "uuid_parsing": ("应为 UUID", "應為 UUID"),
    "url_parsing": ("网址格式不正确", "網址格式不正確"),
    "too_large": ("请求内容过大", "請求內容過大"),
}
# Prefixes pydantic puts before a validator's own message; the message after them is ours and is kept.
OWN_MESSAGE_PREFIXES = ("Value error, ", "Assertion failed, ")
STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                409: "conflict", 412: "stale_version", 413: "payload_too_large", 415: "unsupported_media_type",
                422: "validation_error", 429: "too_many_requests", 500: "internal_error", 503: "service_unavailable"}


log = logging.getLogger(__name__)

# An outage of what a service stands on (its database, NATS): not the request's fault and not a bug, so the answer is
# 503 with Retry-After, never 500 (issue 14, defect 4). pymongo's ConnectionFailure covers AutoReconnect,
# NetworkTimeout and ServerSelectionTimeoutError; the NATS ones are what a publish or request meets while the
# server is away or restarting.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionFailure, ExecutionTimeout, WTimeoutError,
    nats.errors.ConnectionClosedError, nats.errors.NoServersError, nats.errors.TimeoutError,
    nats.errors.ConnectionReconnectingError, nats.errors.ConnectionDrainingError, nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError, nats.errors.NoRespondersError,
    nats.js.errors.NoStreamResponseError, nats.js.errors.ServiceUnavailableError,
)
RETRY_AFTER_OUTAGE_S = 5

_outages = 0


def note_outage() -> None:
    """Something in this process met an outage: a write before it may have landed with events nobody sent (its
    writer failed afterwards). Every outbox relay of the process sweeps once more when it sees the count move."""
    global _outages
    _outages += 1


def outages_noted() -> int:
    return _outages


class Contention(Exception):
    """Lost a race for one record to a concurrent writer: nothing is wrong with the request or message, and a retry
    after the other writer is done succeeds. Stores with optimistic concurrency raise it (or a subclass); a bus
    handler's Contention is retried, never dead-lettered (bus.TRANSIENT_ERRORS)."""


class OutcomeUnknown(Exception):
    """A write was sent and the connection died before its answer: it may or may not be stored. Stores raise it
    (from the driver's error) so use cases can read back before answering (mongo.read_back); unsettled, it is an
    outage like any other (503)."""


class Unavailable(Exception):
    """What a request needs did not answer and nothing was stored (or what was stored could not be confirmed yet):
    503 with Retry-After; a retry with the same Idempotency-Key is safe."""


def language(request: Request) -> str:
    """The first supported language in Accept-Language (q-values honoured), English otherwise."""
    return language_of(request.headers.get("accept-language", ""))


def message(code: str, lang: str) -> str:
    texts = MESSAGES.get(code, MESSAGES["error"])
    return texts[LANGUAGES.index(lang) if lang in LANGUAGES else 2]


def _ctx_text(key: str, value: Any) -> str:
    # pydantic lists choices as "'a', 'b' or 'c'"; the joining word is English.
    if key == "expected":
        return str(value).replace(" or ", "、")
    # A float limit that is whole reads as a person writes it: "应大于 0", not "应大于 0.0".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def field_message(item: Mapping[str, Any], lang: str) -> str:
    """The real reason for one field, in `lang` where a translation exists, else as pydantic (or we) wrote it."""
    raw = str(item.get("msg", ""))
    kind = str(item.get("type", ""))
    for prefix in OWN_MESSAGE_PREFIXES:
        if raw.startswith(prefix):
            return raw[len(prefix):]
    if lang == "en" or kind not in FIELD_MESSAGES:
        return raw
    template = FIELD_MESSAGES[kind][0 if lang == "zh-CN" else 1]
    ctx = {k: _ctx_text(k, v) for k, v in (item.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):
        # A template whose limit pydantic did not give: say what we can, and keep the English reason beside it.
        return f"{template.split('{')[0].rstrip('：: ')}（{raw}）" if "{" in template else template


def field_errors(items: Sequence[Any], lang: str) -> list[dict[str, Any]]:
    return [
        {"loc": list(d.get("loc", ())), "msg": field_message(d, lang), "type": d.get("type", "value_error")}
        for d in items
        if isinstance(d, Mapping)
    ]


def error_body(status_code: int, *, lang: str, code: str | None = None, detail: Any = None, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    code = code or STATUS_CODES.get(status_code, "error")
    if isinstance(detail, list):
        detail = field_errors(detail, lang)
    return {"code": code, "message": message(code, lang), "detail": detail, **(extra or {})}


def error_response(
    request: Request, status_code: int, *, code: str | None = None, detail: Any = None, headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    lang = language(request)
    body = error_body(status_code, lang=lang, code=code, detail=detail, extra=extra)
    response = JSONResponse(body, status_code=status_code, headers=dict(headers) if headers else None)
    response.headers["Content-Language"] = lang
    return response


def install(app: FastAPI) -> None:
    """The shape for FastAPI's own errors, every HTTPException, a blown time budget and anything unhandled."""

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": e.get("loc", ()), "msg": e.get("msg", ""), "type": e.get("type", "value_error"), "ctx": e.get("ctx")}
            for e in exc.errors()
        ]
        return error_response(request, 422, detail=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 503 and not any(k.lower() == "retry-after" for k in headers):
            # Every 503 says when to try again (a service behind the gateway away, a stream not running yet).
            headers["Retry-After"] = str(RETRY_AFTER_OUTAGE_S)
        return error_response(request, exc.status_code, detail=exc.detail, headers=headers or None)

    @app.exception_handler(BudgetExceeded)
    async def over_budget(request: Request, exc: BudgetExceeded) -> JSONResponse:
        # Work that overran its time budget (see offload.py): the service is fine, this answer is not ready.
        return error_response(request, 503, code="over_budget", detail=str(exc), headers={"Retry-After": "30"})

    async def outage(request: Request, exc: Exception) -> JSONResponse:
        note_outage()
        # Logged once, briefly: during an outage every request meets it, and the stack says nothing new.
        log.warning("dependency outage answered 503", extra={"fields": {"error": f"{type(exc).__name__}: {exc}"[:300]}})
        return error_response(request, 503, code="dependency_unavailable", detail=str(exc)[:300] or type(exc).__name__,
                              headers={"Retry-After": str(RETRY_AFTER_OUTAGE_S)})

    for kind in (*OUTAGE_ERRORS, Unavailable, OutcomeUnknown):
        app.add_exception_handler(kind, outage)

    @app.exception_handler(Contention)
    async def contention(request: Request, exc: Contention) -> JSONResponse:
        # A race lost more often than the use case retries (a service's own ConcurrentUpdate handlers, where it has
        # them, come first): nothing is wrong with the request, the same request a moment later succeeds.
        return error_response(request, 503, code="contention", detail=str(exc)[:300], headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def unhandled(request: Request, _exc: Exception) -> JSONResponse:
        # Starlette still logs and re-raises it; the caller gets the shape, not a bare text page.
        return error_response(request, 500, detail="internal error; the service has logged it")
