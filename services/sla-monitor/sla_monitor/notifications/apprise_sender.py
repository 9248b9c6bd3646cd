"""Sending through apprise (https://github.com/caronc/apprise): one library for email, WeCom and DingTalk robots, SMS
gateways and JSON webhooks, instead of a hand-written client per vendor.

apprise is synchronous (requests, smtplib): each send runs in a worker thread. It reports failure as False and
logs the reason; the reason is captured and every secret part of the channel's URL (keys, tokens, passwords, the
host of a wecombot:// URL, which is its key) is masked before it is stored or logged.

Endpoint overrides: the WeCom and DingTalk plugins post to the vendor's fixed host (qyapi.weixin.qq.com,
oapi.dingtalk.com). `endpoints` replaces that URL, per apprise schema, with another in the plugin's own format
(e.g. {"wecombot": "http://127.0.0.1:9000/cgi-bin/webhook/send?key={key}"}): the tests use it to reach local stand-ins,
and a site whose servers reach the internet only through a relay can use it too. Only the base URL changes: the
payload, headers and DingTalk's signature are built by the plugin's own code, unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import apprise
import apprise.plugins.dingtalk
import apprise.plugins.wecombot
import requests

from .channels import NotifyChannel

log = logging.getLogger(__name__)
# apprise logs the full notify URL (with the robot's key) at debug and in some warnings: none of it reaches our logs
# (it is captured per send, masked, and stored as the attempt's error).
_apprise_log = logging.getLogger("apprise")
_apprise_log.setLevel(logging.CRITICAL)
_apprise_log.propagate = False


_refusal = threading.local()


class _RobotReplies:
    """Stands in for `requests` inside apprise's WeCom and DingTalk plugins (and nowhere else).

    Both robots answer a refused message with HTTP 200 and a JSON `errcode` (WeCom 45009 over the rate, 93000 a bad
    key; DingTalk 310000 a bad signature, 130101 over the rate), and apprise 2.3.0 checks only the HTTP status: the
    message would be recorded as sent and lost. A non-zero errcode is turned into a 502 the plugin reports as a
    failure, and remembered (per thread) for the delivery error, so the record is retried with back-off.
    """

    codes = requests.codes
    RequestException = requests.RequestException

    def __getattr__(self, name: str) -> Any:
        return getattr(requests, name)

    def post(self, *args: Any, **kwargs: Any) -> requests.Response:
        response = requests.post(*args, **kwargs)
        _refusal.reason = None
        if response.status_code == 200:
            try:
                reply = response.json()
            except ValueError:
                return response
            code = reply.get("errcode", 0) if isinstance(reply, dict) else 0
            if code:
                _refusal.reason = f"errcode {code}: {str(reply.get('errmsg', ''))[:200]}"
                response.status_code = 502
        return response


setattr(apprise.plugins.wecombot, "requests", _RobotReplies())  # noqa: B010 (a module attribute, on purpose)
setattr(apprise.plugins.dingtalk, "requests", _RobotReplies())  # noqa: B010


class DeliveryError(Exception):
    """A channel refused or could not be reached; the message holds no secret."""


def secrets_of(url: str) -> list[str]:
    """The parts of an apprise URL that may be secret, longest first (so masking never leaves a piece)."""
    parts = urlsplit(url)
    found = {parts.username or "", parts.password or "", parts.hostname or ""}
    found.update(unquote(p) for p in parts.path.split("/"))
    found.update(v for _, v in parse_qsl(parts.query))
    if parts.hostname in ("127.0.0.1", "localhost"):
        found.discard(parts.hostname)
    words = {w for w in found if len(w) >= 4}
    words |= {quote(w, safe="") for w in words}
    return sorted(words, key=len, reverse=True)


def redact(text: str, url: str) -> str:
    for secret in secrets_of(url):
        text = text.replace(secret, "***")
    return text


def with_address(channel: NotifyChannel, address: str | None) -> str:
    """The channel's URL for one address: email adds `to=`; SMS and DingTalk add the number as a target."""
    url = channel.url.get_secret_value()
    if not address:
        return url
    if channel.kind == "email":
        return url + ("&" if "?" in url else "?") + "to=" + quote(address, safe="@")
    if channel.kind in ("sms", "dingtalk"):
        base, _, query = url.partition("?")
        return base.rstrip("/") + "/" + quote(address, safe="+") + ("?" + query if query else "")
    return url


def _sign_once(plugin: Any) -> None:
    """apprise 2.3.0's DingTalk plugin URL-encodes its signature and then hands it to requests as a query parameter,
    which encodes it again (`%2B` becomes `%252B`); DingTalk's documented format (sign = urlEncode(base64(HMAC)) in the
    URL) is encoded once, so the robot would answer "sign not match". Undo the plugin's own quoting, keep its signing."""
    original = plugin.get_signature

    def get_signature() -> tuple[str, str]:
        timestamp, signature = original()
        return timestamp, unquote(signature)

    plugin.get_signature = get_signature


def _override(plugin: Any, endpoint: str) -> None:
    plugin.notify_url = endpoint
    if hasattr(plugin, "api_url"):  # wecombot builds its URL once, in __init__
        plugin.api_url = endpoint.format(**{k: v for k, v in vars(plugin).items() if isinstance(v, str)})


class AppriseSender:
    def __init__(self, *, endpoints: Mapping[str, str] | None = None, timeout_s: float = 10.0) -> None:
        self._endpoints = dict(endpoints or {})
        self._timeout_s = timeout_s

    def _send(self, url: str, title: str, body: str) -> None:
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            raise DeliveryError(f"not a usable apprise URL (schema {url.split(':', 1)[0]})")
        plugin.socket_read_timeout = self._timeout_s
        plugin.socket_connect_timeout = self._timeout_s
        if url.startswith("dingtalk://") and getattr(plugin, "secret", None):
            _sign_once(plugin)
        endpoint = self._endpoints.get(url.split("://", 1)[0])
        if endpoint:
            _override(plugin, endpoint)
        _refusal.reason = None
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:  # type: ignore[no-untyped-call]
            ok = plugin.notify(body=body, title=title)
        if not ok:
            reason = " ".join(filter(None, [getattr(_refusal, "reason", None), " ".join(captured.getvalue().split())]))
            reason = reason or "refused"
            raise DeliveryError(redact(reason, url)[:500])

    async def send(self, *, channel: NotifyChannel, address: str | None, title: str, body: str) -> None:
        url = with_address(channel, address)
        await asyncio.to_thread(self._send, url, title, body)
