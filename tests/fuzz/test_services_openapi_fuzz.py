"""Schemathesis over each service's own OpenAPI document, on memory adapters, as the gateway would call it (a fresh
internal token naming an admin, per request): whatever the generated input, no operation answers 5xx. Bounded
examples keep it short."""

from __future__ import annotations

import asyncio
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from opsdesk_shared import internal_auth_testing
from opsdesk_shared.internal_auth import Caller, TokenMinter

FUZZER = Caller(subject="fuzz", role="admin", name="fuzz")


def _headers(service: str) -> dict[str, str]:
    """What the gateway adds: a token for this one service, used once (a service refuses a replayed token)."""
    token = TokenMinter(internal_auth_testing.test_keypair()[0]).mint(FUZZER, audience=service)
    return {"Authorization": f"Bearer {token}"}
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


# Real ids for path parameters, so the fuzz reaches the code behind a found record, not only the 404s.
KNOWN: dict[str, list[str]] = {
    "tag": ["GZ-2026-000001", "GZ-2026-000002", "GZ-2026-000004"],
    "article_id": ["kb-demo-printer-jam", "kb-demo-vpn"],
    "engineer_id": ["eng-onsite-1", "eng-mobile-1"],
}


@schemathesis.hook
def map_path_parameters(ctx: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    operation = getattr(ctx, "operation", None)
    if operation is not None and str(getattr(operation, "path", "")).startswith("/api/v1/tickets"):
        return path_parameters  # the gateway's document: its own hook aims its ticket ids
    if path_parameters and "ticket_id" in path_parameters and str(getattr(operation, "path", "")).startswith("/api/v1/assignments"):
        path_parameters["ticket_id"] = DISPATCHED[hash(str(path_parameters)) % len(DISPATCHED)]
    for name, values in KNOWN.items():
        if path_parameters and name in path_parameters:
            path_parameters[name] = values[hash(str(path_parameters)) % len(values)]
    return path_parameters


DISPATCHED = ["t-fuzz-1", "t-fuzz-2"]


def _ready(app: Any, adapters: Any, service: str) -> Any:
    app.state.adapters = adapters  # what the lifespan would do; the ASGI test transport may not run it
    return schemathesis.openapi.from_asgi("/openapi.json", app, headers=_headers(service)).exclude(path="/readyz")


def assets_schema() -> Any:
    from assets.adapters.memory import MemoryAssetRegister, MemoryOutbox, MemoryRepairStore
    from assets.domain import DEMO_REGISTER
    from assets.main import Adapters, create_app
    from assets.settings import AssetsSettings

    adapters = Adapters(register=MemoryAssetRegister(list(DEMO_REGISTER)), repairs=MemoryRepairStore(), outbox=MemoryOutbox())
    return _ready(create_app(AssetsSettings(environment="test"), adapters=adapters), adapters, "assets")


def dispatch_schema() -> Any:
    from datetime import UTC, datetime

    from dispatch import service
    from dispatch.adapters.memory import MemoryAssignmentStore, MemoryOutbox, MemoryRoster
    from dispatch.domain import DEMO_ROSTER_ALWAYS_ON_SITE
    from dispatch.main import Adapters, create_app
    from dispatch.settings import DispatchSettings
    from opsdesk_shared.contracts import Requester, TicketCreatedV1

    adapters = Adapters(roster=MemoryRoster(DEMO_ROSTER_ALWAYS_ON_SITE), assignments=MemoryAssignmentStore(), outbox=MemoryOutbox())
    for ticket_id in DISPATCHED:  # live assignments for the generated steps to act on
        ticket = TicketCreatedV1(ticket_id=ticket_id, number="INC-2026-000001", title="打印機卡紙", channel="hotline",
                                 service_code="RS-REPAIR", requester=Requester(name="王"), reported_at=datetime.now(UTC))
        asyncio.run(service.assign_ticket(ticket, roster=adapters.roster, assignments=adapters.assignments, outbox=adapters.outbox,
                                          now=datetime.now(UTC), correlation_id="fuzz", causation_id=None))
    return _ready(create_app(DispatchSettings(environment="test"), adapters=adapters), adapters, "dispatch")


def sla_schema() -> Any:
    from sla_monitor import calendar_service
    from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryOutbox, MemoryTimerStore
    from sla_monitor.calendar_book import BookHolder
    from sla_monitor.main import Adapters, create_app
    from sla_monitor.settings import SlaSettings

    calendars = MemoryCalendarStore()
    book = BookHolder(asyncio.run(calendar_service.load_book(calendars)))
    adapters = Adapters(store=MemoryTimerStore(), outbox=MemoryOutbox(), calendars=calendars, book=book)
    return _ready(create_app(SlaSettings(environment="test"), adapters=adapters), adapters, "sla-monitor")


def knowledge_schema() -> Any:
    from datetime import UTC, datetime

    from knowledge.main import create_app, memory_adapters
    from knowledge.seed import seed
    from knowledge.settings import KnowledgeSettings

    settings_ = KnowledgeSettings(environment="test")
    adapters = memory_adapters(settings_)
    asyncio.run(seed(adapters.articles, now=datetime.now(UTC)))
    asyncio.run(adapters.index.rebuild())
    return _ready(create_app(settings_, adapters=adapters), adapters, "knowledge")


def reporting_schema() -> Any:
    from reporting.adapters.memory import MemoryArticleSource, MemoryEventSource
    from reporting.main import create_app
    from reporting.settings import ReportingSettings
    from reporting.wiring import memory_adapters

    settings_ = ReportingSettings(environment="test")
    # Knowledge's answer over the bus, as the real wiring has it (without one the manual's route is an honest 503).
    adapters = memory_adapters(settings_, source=MemoryEventSource(), articles=MemoryArticleSource())
    return _ready(create_app(settings_, adapters=adapters), adapters, "reporting")


def _check(case: schemathesis.Case, service: str) -> None:
    response = case.call(headers=_headers(service))
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"


assets = assets_schema()
dispatch = dispatch_schema()
sla = sla_schema()
knowledge = knowledge_schema()
reporting = reporting_schema()


@assets.parametrize()
@SETTINGS
def test_assets_never_answers_5xx(case: schemathesis.Case) -> None:
    _check(case, "assets")


@dispatch.parametrize()
@SETTINGS
def test_dispatch_never_answers_5xx(case: schemathesis.Case) -> None:
    _check(case, "dispatch")


@sla.parametrize()
@SETTINGS
def test_sla_monitor_never_answers_5xx(case: schemathesis.Case) -> None:
    _check(case, "sla-monitor")


@knowledge.parametrize()
@SETTINGS
def test_knowledge_never_answers_5xx(case: schemathesis.Case) -> None:
    _check(case, "knowledge")


@reporting.parametrize()
@SETTINGS
def test_reporting_never_answers_5xx(case: schemathesis.Case) -> None:
    _check(case, "reporting")
