"""Problem candidates from generated incidents, the desk's confirmation, recurrence, known errors and escalation."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from knowledge import problem_service as ps
from knowledge.domain import Actor, Forbidden, IllegalTransition
from knowledge.main import Adapters, memory_adapters
from knowledge.problems import DetectionRules, ProblemFields
from knowledge.settings import KnowledgeSettings
from knowledge.text import Analyzer
from opsdesk_shared.contracts import TicketCreatedV1

RULES = DetectionRules(window=timedelta(days=30), asset_threshold=0.25, service_threshold=0.5)
NOTIFY = ["eng-senior-1", "eng-pm-1"]


@pytest.fixture
def wired(analyzer: Analyzer) -> Adapters:
    return memory_adapters(KnowledgeSettings(environment="test"), analyzer=analyzer)


async def _detect(wired: Adapters, analyzer: Analyzer, t: TicketCreatedV1, now: datetime) -> ps.Placement:
    return await ps.detect(
        t, analyzer=analyzer, rules=RULES, incidents=wired.incidents, candidates=wired.candidates,
        problems_=wired.problems, now=now,
    )


def _generated(ticket: Callable[..., TicketCreatedV1], now: datetime) -> tuple[list[TicketCreatedV1], dict[str, set[str]]]:
    """Two recurring faults hidden among unrelated tickets, in a shuffled but reproducible order of days."""
    rng = random.Random(8)
    clusters = {
        "printer": [("三樓打印機卡紙", "GZ-PRN-0301", "RS-REPAIR"), ("打印機又卡紙了", "GZ-PRN-0301", "RS-REPAIR"),
                    ("打印機卡紙，進紙有異響", "GZ-PRN-0301", "RS-REPAIR"), ("打印机卡纸严重", "GZ-PRN-0301", "RS-REPAIR")],
        "mail": [("Outlook郵件無法發送", None, "RS-EMAIL"), ("outlook 郵件無法發送 一直在寄件匣", None, "RS-EMAIL"),
                 ("郵件無法發送，Outlook提示錯誤", None, "RS-EMAIL")],
    }
    noise = [("VPN連接失敗", None, "RS-NETWORK"), ("投影儀沒有信號", "GZ-PRJ-0101", "RS-MEETING"),
             ("電腦很慢", "GZ-PC-0420", "RS-DESKTOP"), ("申請新的帳號", None, "RS-ACCOUNT"),
             ("打印機墨粉不足", "GZ-PRN-0502", "RS-REPAIR"), ("電話沒有撥號音", None, "RS-PHONE"),
             ("日曆共享權限", None, "RS-EMAIL")]
    items = [(c, t) for c, ts in clusters.items() for t in ts] + [("noise", t) for t in noise]
    days = sorted(rng.sample(range(25), len(items)))
    rng.shuffle(items)
    tickets, truth = [], {c: set() for c in clusters}
    for day, (cluster, (title, tag, svc)) in zip(days, items, strict=True):
        t = ticket(title=title, asset_tag=tag, service_code=svc, reported_at=now + timedelta(days=day))
        tickets.append(t)
        if cluster in truth:
            truth[cluster].add(t.ticket_id)
    return tickets, truth


async def test_recurring_faults_among_generated_incidents_become_exactly_their_candidates(
    wired: Adapters, analyzer: Analyzer, ticket: Callable[..., TicketCreatedV1], now: datetime
) -> None:
    tickets, truth = _generated(ticket, now)
    for t in tickets:
        await _detect(wired, analyzer, t, t.reported_at)
    groups = [set(c.incident_ids) for c in await wired.candidates.list(status="pending")]
    assert sorted(groups, key=len) == sorted(truth.values(), key=len)


async def test_incidents_outside_the_window_are_not_grouped(
    wired: Adapters, analyzer: Analyzer, ticket: Callable[..., TicketCreatedV1], now: datetime
) -> None:
    await _detect(wired, analyzer, ticket(asset_tag="GZ-PRN-0301"), now)
    later = ticket(asset_tag="GZ-PRN-0301", reported_at=now + timedelta(days=45))
    assert (await _detect(wired, analyzer, later, later.reported_at)).kind == "none"


async def test_same_text_on_another_service_and_asset_is_not_grouped(
    wired: Adapters, analyzer: Analyzer, ticket: Callable[..., TicketCreatedV1], now: datetime
) -> None:
    await _detect(wired, analyzer, ticket(asset_tag="GZ-PRN-0301"), now)
    assert (await _detect(wired, analyzer, ticket(asset_tag="GZ-PRN-0999", service_code="RS-COPIER"), now)).kind == "none"


async def test_redelivered_ticket_does_not_make_a_second_candidate(
    wired: Adapters, analyzer: Analyzer, ticket: Callable[..., TicketCreatedV1], now: datetime
) -> None:
    first, second = ticket(asset_tag="GZ-PRN-0301"), ticket(asset_tag="GZ-PRN-0301")
    await _detect(wired, analyzer, first, now)
    await _detect(wired, analyzer, second, now)
    await _detect(wired, analyzer, second, now)
    candidates = await wired.candidates.list()
    assert len(candidates) == 1 and candidates[0].incident_ids == [first.ticket_id, second.ticket_id]


async def test_confirmed_candidate_becomes_a_problem_and_the_next_match_a_recurrence(
    wired: Adapters, analyzer: Analyzer, ticket: Callable[..., TicketCreatedV1], curator: Actor, now: datetime
) -> None:
    a, b = ticket(asset_tag="GZ-PRN-0301"), ticket(asset_tag="GZ-PRN-0301", title="打印機又卡紙")
    await _detect(wired, analyzer, a, now)
    placed = await _detect(wired, analyzer, b, now)
    assert placed.kind == "new_group" and placed.target_id is not None
    problem = await ps.confirm_candidate(
        placed.target_id, actor=curator, title=None, description="", escalate=False, notify=NOTIFY,
        candidates=wired.candidates, problems_=wired.problems, incidents=wired.incidents,
        outbox=wired.problem_outbox, now=now, correlation_id="c",
    )
    assert set(problem.incident_ids) == {a.ticket_id, b.ticket_id} and problem.number == "PRB-2026-0001"
    assert [e.type for e in wired.problem_outbox.published] == ["problem.created"]  # type: ignore[attr-defined]
    c = ticket(asset_tag="GZ-PRN-0301", title="三樓打印機卡紙")
    placed = await _detect(wired, analyzer, c, now + timedelta(days=3))
    assert placed.kind == "recurrence" and placed.target_id == problem.id
    stored = await wired.problems.get(problem.id)
    assert stored is not None and stored.recurrence_ids == [c.ticket_id]
    stats = await ps.problem_stats(actor=curator, problems_=wired.problems, candidates=wired.candidates)
    assert stats["recurrences"] == 1 and stats["incidents_linked"] == 3


async def test_confirming_twice_is_refused(
    wired: Adapters, analyzer: Analyzer, ticket: Callable[..., TicketCreatedV1], curator: Actor, now: datetime
) -> None:
    await _detect(wired, analyzer, ticket(asset_tag="T1"), now)
    placed = await _detect(wired, analyzer, ticket(asset_tag="T1"), now)
    assert placed.target_id is not None
    kwargs = dict(actor=curator, title="卡紙", description="", escalate=False, notify=NOTIFY, candidates=wired.candidates,
                  problems_=wired.problems, incidents=wired.incidents, outbox=wired.problem_outbox, now=now, correlation_id="c")
    await ps.confirm_candidate(placed.target_id, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(IllegalTransition):
        await ps.confirm_candidate(placed.target_id, **kwargs)  # type: ignore[arg-type]


async def _problem(wired: Adapters, actor: Actor, now: datetime, *, escalate: bool = False) -> str:
    problem = await ps.create_problem(
        actor=actor, title="核心交換機間歇丟包", description="", service_code="RS-NETWORK", asset_tag=None,
        incident_ids=[], escalate=escalate, notify=NOTIFY, problems_=wired.problems, incidents=wired.incidents,
        outbox=wired.problem_outbox, now=now, correlation_id="c",
    )
    return problem.id


async def _act(wired: Adapters, problem_id: str, action: str, actor: Actor, now: datetime, **fields: str) -> object:
    return await ps.act_on_problem(
        problem_id, action, ProblemFields(**fields), actor=actor, problems_=wired.problems,
        outbox=wired.problem_outbox, now=now, correlation_id="c",
    )


async def test_known_error_needs_root_cause_and_workaround(wired: Adapters, engineer: Actor, now: datetime) -> None:
    problem_id = await _problem(wired, engineer, now)
    with pytest.raises(IllegalTransition):
        await _act(wired, problem_id, "known_error", engineer, now, root_cause="光模塊老化")
    await _act(wired, problem_id, "known_error", engineer, now, root_cause="光模塊老化", workaround="切換到備用鏈路")
    with pytest.raises(IllegalTransition):
        await _act(wired, problem_id, "resolve", engineer, now)
    await _act(wired, problem_id, "resolve", engineer, now, permanent_fix="更換光模塊", prevention="每季度巡檢光功率")
    assert [e.type for e in wired.problem_outbox.published] == [  # type: ignore[attr-defined]
        "problem.created", "problem.known_error", "problem.resolved",
    ]
    with pytest.raises(IllegalTransition):
        await _act(wired, problem_id, "investigate", engineer, now)


@pytest.mark.parametrize("role", ["requester", "auditor"])
async def test_only_the_desk_and_engineers_write_problems(role: str, wired: Adapters, now: datetime) -> None:
    with pytest.raises(Forbidden):
        await _problem(wired, Actor(user="x", role=role), now)


async def test_problem_without_root_cause_is_escalated_once_after_the_configured_days(
    wired: Adapters, curator: Actor, now: datetime
) -> None:
    problem_id = await _problem(wired, curator, now)
    early = await ps.escalate_overdue(after=timedelta(days=7), notify=NOTIFY, problems_=wired.problems, outbox=wired.problem_outbox, now=now + timedelta(days=6))
    assert early == []
    due = await ps.escalate_overdue(after=timedelta(days=7), notify=NOTIFY, problems_=wired.problems, outbox=wired.problem_outbox, now=now + timedelta(days=8))
    assert [p.id for p in due] == [problem_id] and due[0].escalated_to == NOTIFY
    again = await ps.escalate_overdue(after=timedelta(days=7), notify=NOTIFY, problems_=wired.problems, outbox=wired.problem_outbox, now=now + timedelta(days=9))
    assert again == []
    assert [e.type for e in wired.problem_outbox.published].count("problem.escalated") == 1  # type: ignore[attr-defined]


async def test_problem_with_known_root_cause_is_not_escalated_on_demand(wired: Adapters, curator: Actor, now: datetime) -> None:
    problem_id = await _problem(wired, curator, now)
    await ps.update_problem(problem_id, ProblemFields(root_cause="DHCP 地址池耗盡"), actor=curator, problems_=wired.problems, now=now)
    with pytest.raises(IllegalTransition):
        await ps.escalate_problem(problem_id, actor=curator, reason="x", notify=NOTIFY, problems_=wired.problems,
                                  outbox=wired.problem_outbox, now=now, correlation_id="c")


async def test_problem_escalated_at_creation_names_the_targets(wired: Adapters, curator: Actor, now: datetime) -> None:
    await _problem(wired, curator, now, escalate=True)
    created = wired.problem_outbox.published[0]  # type: ignore[attr-defined]
    assert created.type == "problem.created" and created.data["escalate_to"] == NOTIFY
