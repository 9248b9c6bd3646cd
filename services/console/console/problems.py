"""The requester's short list of common problems, in plain words, each mapped to a catalog service by its Chinese
name (never by a code a requester would have to know). A problem whose service the catalog does not offer is left
out rather than guessed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .labels import N_


@dataclass(frozen=True)
class Problem:
    key: str
    label: str  # message id; translated when shown
    hint: str  # message id: what it covers
    service_name: str  # the catalog service's zh-CN name (impact and urgency are the desk's to decide)


COMMON: tuple[Problem, ...] = (
    Problem("pc", N_("My computer won't start, freezes or shows a blue screen"), N_("Desktop or laptop"), "现场维护"),
    Problem("printer", N_("The printer or scanner does not work"), N_("Paper jam, offline, poor print"), "设备维修"),
    Problem("network", N_("I cannot get online"), N_("Network, Wi-Fi, shared folders"), "现场维护"),
    Problem("software", N_("A program fails or shows an error"), N_("Office, e-mail, business systems, passwords"), "其他支持服务"),
    Problem("install", N_("I need software or a device installed"), N_("New software, a new printer, moving a computer"), "客户服务申请受理"),
    Problem("broken", N_("A device is broken and needs repair"), N_("Monitor, keyboard, UPS, other equipment"), "设备维修"),
    Problem("other", N_("Something else"), N_("Describe it below"), "其他支持服务"),
)
BY_KEY = {p.key: p for p in COMMON}


def zh_name(service: dict[str, Any]) -> str:
    labels = (service.get("labels") or {}).get("name") or {}
    return str(labels.get("zh-CN") or service.get("name") or "")


def offered(catalog: list[dict[str, Any]]) -> list[tuple[Problem, str]]:
    """The common problems whose service is in the catalog, with that service's code."""
    codes = {zh_name(s): str(s["code"]) for s in catalog if s.get("active", True) and s.get("code")}
    return [(p, codes[p.service_name]) for p in COMMON if p.service_name in codes]


def service_for(key: str, catalog: list[dict[str, Any]]) -> str | None:
    return dict((p.key, code) for p, code in offered(catalog)).get(key)


def search_words(service: dict[str, Any], translators: Iterable[Callable[[str], str]]) -> str:
    """The common problems' words (label and hint, in every language) that lead to this service: the desk's call
    form finds 设备维修 when the agent types 打印机 or 卡纸, the words the caller used (walk 15: no service matched)."""
    name = zh_name(service)
    said = [t(m) for p in COMMON if p.service_name == name for m in (p.label, p.hint) for t in translators]
    return " ".join(dict.fromkeys(said))
