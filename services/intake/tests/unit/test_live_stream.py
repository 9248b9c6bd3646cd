"""The live stream's rules, pure: which bus events become which messages, who sees them in which view, the ring a
reconnect resumes from, and the caps on open streams. The hub is driven with the memory ticket store."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from intake.adapters.memory import MemoryTicketStore
from intake.domain import Actor, Assignee, Ticket
from intake.live.domain import Limiter, LiveEvent, Ring, frame_for, live_event, sse_frame, visible
from intake.live.hub import END, Arrived, LiveHub
from opsdesk_shared.contracts import Envelope, Requester, TicketAssignedV1, TicketStatusChangedV1, TicketUpdatedV1
from opsdesk_shared.contracts.assignments import AssignmentDelayedV1
from opsdesk_shared.contracts.sla import SlaWarningV1
from opsdesk_shared.contracts.tickets import TicketCreatedV1

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
DESK = Actor(subject="agent1", role="agent")
AUDITOR = Actor(subject="aud1", role="auditor")
OWNER = Actor(subject="req-wang", role="requester", department="辦公室")
COLLEAGUE = Actor(subject="req-li", role="requester", department="辦公室")
ENGINEER = Actor(subject="eng.chen", role="engineer", engineer_id="eng-1")
OTHER_ENGINEER = Actor(subject="eng.zhao", role="engineer", engineer_id="eng-2")
UNLINKED_ENGINEER = Actor(subject="eng.nobody", role="engineer")


def a_ticket(*, assignee: str | None = None, version: int = 1, status: str = "new") -> Ticket:
    return Ticket(
        id=str(uuid.uuid4()), number="INC-2026-000042", title="打印机卡纸", description="三楼打印机卡纸" * 50,
        requester=Requester(name="王小明", department="辦公室"), requester_id=OWNER.subject, channel="hotline",
        service_code="RS-REPAIR", priority="P3", asset_tag=None, reported_at=NOW, created_at=NOW, status=status,  # type: ignore[arg-type]
        version=version,
        assignee=Assignee(assignment_id="a-1", engineer_id=assignee, engineer_name="陈工", reason="score 0.93", assigned_at=NOW)
        if assignee else None,
    )


def event_for(data: Any, ticket: Ticket | None, *, seq: int = 7) -> LiveEvent:
    envelope = Envelope.wrap(data, producer="test", correlation_id="c", subject_id=ticket.id if ticket else "x", occurred_at=NOW)
    made = live_event(seq=seq, subject=envelope.type, data=envelope.data, occurred_at=envelope.occurred_at,
                      subject_id=envelope.subject_id, ticket=ticket)
    assert made is not None
    return made


def parsed(frame: bytes | None) -> tuple[dict[str, str], dict[str, Any]]:
    assert frame is not None
    lines = dict(line.split(": ", 1) for line in frame.decode().strip().split("\n"))
    return lines, json.loads(lines["data"])


def created(ticket: Ticket) -> TicketCreatedV1:
    return TicketCreatedV1(ticket_id=ticket.id, number=ticket.number, title=ticket.title, channel="hotline", service_code="RS-REPAIR",
                           requester=ticket.requester, requester_id=ticket.requester_id, reported_at=NOW)


def assigned(ticket: Ticket, engineer: str = "eng-1") -> TicketAssignedV1:
    return TicketAssignedV1(ticket_id=ticket.id, assignment_id="a-1", engineer_id=engineer, engineer_name="陈工",
                            reason="skill printer, load 1, score 0.93", assigned_at=NOW)


# --- messages ---------------------------------------------------------------------------------------------------------

def test_a_message_has_the_id_the_type_and_a_small_json_body_with_local_times() -> None:
    ticket = a_ticket(version=3, status="assigned")
    head, body = parsed(event_for(created(ticket), ticket, seq=4182).staff_frame)
    assert head["id"] == "4182" and head["event"] == "ticket.created"
    assert body["id"] == "4182" and body["ticket_id"] == ticket.id and body["number"] == "INC-2026-000042"
    assert body["status"] == "assigned" and body["version"] == 3
    assert body["occurred_at"] == "2026-11-30T10:00:00+08:00"
    assert body["changed"]["reported_at"] == "2026-11-30T10:00:00+08:00"
    assert "description" not in body["changed"]  # small: the ticket route has the rest


def test_a_data_line_holds_no_newline_whatever_the_text() -> None:
    frame = sse_frame(event_id=1, name="ticket.created", data={"title": "第一行\n第二行\r\ndata: forged"})
    assert frame.count(b"\n") == 4  # id, event, data, blank line
    assert json.loads(frame.decode().split("data: ", 1)[1])["title"] == "第一行\n第二行\r\ndata: forged"


def test_a_comment_and_a_work_note_are_told_apart_and_the_note_never_reaches_a_requester() -> None:
    ticket = a_ticket()
    comment = event_for(TicketUpdatedV1(ticket_id=ticket.id, number=ticket.number, changes={"comment": {"old": None, "new": "c-1"}},
                                        by="agent1", updated_at=NOW), ticket)
    note = event_for(TicketUpdatedV1(ticket_id=ticket.id, number=ticket.number, changes={"work_note": {"old": None, "new": "n-1"}},
                                     by="agent1", updated_at=NOW), ticket)
    assert comment.name == "ticket.commented" and parsed(frame_for(OWNER, comment))[1]["changed"] == {"comment_id": "c-1"}
    assert note.name == "ticket.noted" and frame_for(DESK, note) is not None
    assert frame_for(OWNER, note) is None


def test_a_requester_reads_the_engineer_but_not_dispatchs_scoring() -> None:
    ticket = a_ticket(assignee="eng-1", status="assigned")
    event = event_for(assigned(ticket), ticket)
    assert parsed(frame_for(OWNER, event))[1]["changed"] == {"engineer_name": "陈工", "assigned_at": "2026-11-30T10:00:00+08:00"}
    assert "score" in parsed(frame_for(DESK, event))[1]["changed"]["reason"]


def test_delays_and_sla_warnings_are_for_staff_only() -> None:
    ticket = a_ticket(assignee="eng-1", status="assigned")
    delayed = event_for(AssignmentDelayedV1(ticket_id=ticket.id, assignment_id="a-1", engineer_id="eng-1", reason="车坏了",
                                            delayed_at=NOW), ticket)
    warning = event_for(SlaWarningV1(ticket_id=ticket.id, timer="response", started_at=NOW, warning_at=NOW, due_at=NOW), ticket)
    for event in (delayed, warning):
        assert frame_for(OWNER, event) is None
        assert frame_for(DESK, event) is not None
        assert frame_for(ENGINEER, event) is not None  # the engineer holds the ticket
    assert parsed(frame_for(DESK, warning))[1]["changed"]["timer"] == "response"


def test_subjects_the_stream_does_not_show_make_no_message() -> None:
    assert live_event(seq=1, subject="kb.suggested", data={"ticket_id": "t"}, occurred_at=NOW, subject_id="t", ticket=None) is None


# --- who sees what ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("actor", "sees"),
    [(DESK, True), (Actor(subject="m", role="manager"), True), (Actor(subject="a", role="admin"), True), (AUDITOR, True),
     (OWNER, True), (COLLEAGUE, False), (ENGINEER, False), (UNLINKED_ENGINEER, False)],
)
def test_who_sees_a_new_ticket(actor: Actor, sees: bool) -> None:
    ticket = a_ticket()
    assert visible(actor, event_for(created(ticket), ticket)) is sees


def test_an_engineer_sees_the_tickets_they_hold_and_the_assignments_that_name_them() -> None:
    held = a_ticket(assignee="eng-1", status="assigned")
    change = event_for(TicketStatusChangedV1(ticket_id=held.id, number=held.number, old_status="assigned", new_status="in_progress",
                                             service_code="RS-REPAIR", priority="P3", by="eng.chen", changed_at=NOW), held)
    assert visible(ENGINEER, change) and not visible(OTHER_ENGINEER, change)
    # Dispatch's event arrives before intake has put the engineer on the ticket: it names them, so they see it.
    not_yet = a_ticket()
    named = event_for(assigned(not_yet, "eng-2"), not_yet)
    assert visible(OTHER_ENGINEER, named) and not visible(ENGINEER, named)


def test_an_unknown_ticket_is_the_desks_only() -> None:
    orphan = live_event(seq=3, subject="sla.breached", occurred_at=NOW, subject_id="r-1", ticket=None,
                        data={"ticket_id": "", "timer": "repair_return", "started_at": "2026-11-30T01:00:00Z",
                              "due_at": "2026-11-30T01:30:00Z", "breached_at": "2026-11-30T01:30:01Z", "repair_id": "r-1"})
    assert orphan is not None
    assert visible(DESK, orphan) and not visible(OWNER, orphan) and not visible(ENGINEER, orphan)
    assert parsed(orphan.staff_frame)[1]["changed"]["due_at"] == "2026-11-30T09:30:00+08:00"


# --- ring buffer and resume ---------------------------------------------------------------------------------------------

def ring_of(seqs: list[int], *, capacity: int = 10, floor: int = 100) -> Ring:
    ring = Ring(capacity=capacity, floor=floor)
    ticket = a_ticket()
    for seq in seqs:
        ring.append(event_for(created(ticket), ticket, seq=seq))
    return ring


def test_a_reconnect_gets_the_events_after_its_last_id() -> None:
    ring = ring_of([101, 104, 109, 120])
    assert [e.seq for e in ring.after("104").missed] == [109, 120]
    assert ring.after("104").reload is None
    assert [e.seq for e in ring.after("100").missed] == [101, 104, 109, 120]  # from the floor: all of them
    assert ring.after("120").missed == () and ring.after("120").reload is None
    assert ring.after("105").missed[0].seq == 109  # an id of an event this caller could not see


def test_an_id_older_than_the_ring_asks_for_a_reload() -> None:
    ring = ring_of(list(range(101, 116)), capacity=10)  # 101..105 fell out
    assert ring.floor == 105 and len(ring) == 10
    assert ring.after("104").reload == "too_old"
    assert [e.seq for e in ring.after("105").missed] == list(range(106, 116))


def test_an_id_the_stream_never_gave_asks_for_a_reload() -> None:
    ring = ring_of([101, 102])
    assert ring.after("999").reload == "unknown_id"
    assert ring.after("abc").reload == "unknown_id"
    assert ring.after(None).reload is None and ring.after(None).missed == ()


def test_the_ring_keeps_each_sequence_once_and_in_order() -> None:
    ring = ring_of([101, 102])
    ticket = a_ticket()
    assert not ring.append(event_for(created(ticket), ticket, seq=102))  # redelivered after a consumer reset
    assert not ring.append(event_for(created(ticket), ticket, seq=99))
    assert ring.head == 102 and len(ring) == 2


def test_a_ring_advanced_to_the_streams_tail_resumes_ids_up_to_it() -> None:
    """After the start-up backfill the ring knows every followed event up to the stream's tail, even when the last
    messages were not followed events: an id up to there (the old process's position) resumes, a later one does not."""
    ring = ring_of([101, 104])
    ring.advance(110)
    assert ring.head == 110 and ring.after("107").reload is None and ring.after("107").missed == ()
    assert ring.after("110").reload is None and ring.after("111").reload == "unknown_id"
    assert [e.seq for e in ring.after("101").missed] == [104]
    ticket = a_ticket()
    assert not ring.append(event_for(created(ticket), ticket, seq=109)) and ring.append(event_for(created(ticket), ticket, seq=111))
    empty = ring_of([], floor=100)
    empty.advance(120)
    assert empty.floor == 120 and empty.after("120").reload is None and empty.after("119").reload == "too_old"
    empty.advance(90)  # never backwards
    assert empty.head == 120


def test_the_ring_keeps_no_comments_or_long_text() -> None:
    ring = ring_of([101])
    kept = ring.after("100").missed[0].ticket
    assert kept is not None and kept.description == "" and kept.comments == () and kept.audit == ()


# --- caps -------------------------------------------------------------------------------------------------------------

def test_streams_are_capped_per_user_and_in_total() -> None:
    limiter = Limiter(per_user=2, total=3)
    assert limiter.acquire("a") is None and limiter.acquire("a") is None
    assert limiter.acquire("a") == "user"
    assert limiter.acquire("b") is None
    assert limiter.acquire("c") == "total"
    limiter.release("a")
    assert limiter.acquire("c") is None and limiter.open_total == 3
    limiter.release("zzz")  # releasing what was never held changes nothing
    assert limiter.open_total == 3


# --- the hub ----------------------------------------------------------------------------------------------------------

def hub_on(store: MemoryTicketStore, *, queue_size: int = 8) -> LiveHub:
    return LiveHub(tickets=store, ring=Ring(capacity=50, floor=10), limiter=Limiter(per_user=2, total=10), queue_size=queue_size)


def wrapped(data: Any, ticket: Ticket) -> Envelope:
    return Envelope.wrap(data, producer="test", correlation_id="c", subject_id=ticket.id, occurred_at=NOW)


async def test_the_hub_reads_each_ticket_and_queues_each_listener_only_what_it_may_see() -> None:
    store = MemoryTicketStore()
    mine, other = a_ticket(), a_ticket().model_copy(update={"requester_id": "someone-else"})
    for t in (mine, other):
        await store.add(t, [])
    hub = hub_on(store)
    desk, _, _ = hub.join(DESK, None)
    owner, _, _ = hub.join(OWNER, None)
    await hub.publish_batch([Arrived(11, wrapped(created(mine), mine), 0.0), Arrived(12, wrapped(created(other), other), 0.0)])
    assert [parsed(desk.queue.get_nowait())[1]["ticket_id"] for _ in range(2)] == [mine.id, other.id]
    assert parsed(owner.queue.get_nowait())[1]["ticket_id"] == mine.id
    assert owner.queue.empty()
    # A reconnect of the requester after seq 11 gets nothing of another's ticket.
    _, resume, position = hub.join(OWNER, "11")
    assert resume.missed == () and resume.reload is None and position == 12


async def test_the_hub_reads_the_ticket_once_per_batch_whatever_the_listeners() -> None:
    reads: list[str] = []

    class CountingStore(MemoryTicketStore):
        async def get(self, ticket_id: str) -> Ticket | None:
            reads.append(ticket_id)
            return await super().get(ticket_id)

    store = CountingStore()
    ticket = a_ticket()
    await store.add(ticket, [])
    hub = hub_on(store)
    for _ in range(5):
        hub.join(DESK, None)
    await hub.publish_batch([Arrived(11 + i, wrapped(created(ticket), ticket), 0.0) for i in range(3)])
    assert reads == [ticket.id]
    assert all(listener.queue.qsize() == 3 for listener in hub.listeners)


async def test_a_listener_that_falls_behind_is_marked_and_later_ones_are_not_held_up() -> None:
    store = MemoryTicketStore()
    ticket = a_ticket()
    await store.add(ticket, [])
    hub = hub_on(store, queue_size=2)
    slow, _, _ = hub.join(DESK, None)
    await hub.publish_batch([Arrived(11 + i, wrapped(created(ticket), ticket), 0.0) for i in range(3)])
    assert slow.overflowed and slow.queue.qsize() == 2
    assert hub.ring.head == 13


async def test_accepted_events_are_published_in_order_by_the_worker() -> None:
    store = MemoryTicketStore()
    ticket = a_ticket()
    await store.add(ticket, [])
    hub = hub_on(store, queue_size=100)
    listener, _, _ = hub.join(DESK, None)
    for i in range(20):
        hub.accept(11 + i, wrapped(created(ticket), ticket))
    for _ in range(50):
        if listener.queue.qsize() == 20:
            break
        await asyncio.sleep(0.01)
    seqs = [int(parsed(listener.queue.get_nowait())[0]["id"]) for _ in range(20)]
    assert seqs == list(range(11, 31))
    await hub.stop()


async def test_ending_the_streams_queues_the_end_for_everyone_and_leaving_frees_the_cap() -> None:
    hub = hub_on(MemoryTicketStore())
    assert hub.open(OWNER) is None
    listener, _, _ = hub.join(OWNER, None)
    hub.end_streams()
    assert listener.queue.get_nowait() == END and hub.closing.is_set()
    hub.leave(listener)
    hub.leave(listener)
    assert hub.limiter.open_total == 0
