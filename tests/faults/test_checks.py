"""Every check of the fault campaign proves it can fail: a clean reading passes them all, and a violation planted
on purpose into that reading is caught by its own check (and only by it). A check that cannot fail fails here."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from .campaign import LONG, SHORT
from .checks import Attempt, ClientOutcome, Observed, evaluate, table


def clean() -> Observed:
    """Three tickets through the gateway: two assigned (to e1 and e2), one waiting; the second names an asset."""
    ids = ["t1", "t2", "t3"]
    clients = [
        ClientOutcome(key="k1", marker="campaign:r:1", attempts=[Attempt("k1", 201, "", "t1")]),
        # The second retried through an outage: no answer, a 503, then the replay's 200. All allowed.
        ClientOutcome(key="k2", marker="campaign:r:2",
                      attempts=[Attempt("k2", None, "ConnectError"), Attempt("k2", 503, "busy"), Attempt("k2", 200, "", "t2")]),
        ClientOutcome(key="k3", marker="campaign:r:3", attempts=[Attempt("k3", 201, "", "t3")]),
    ]
    stored = {
        "t1": ("assigned", 3, "campaign:r:1", None),
        "t2": ("assigned", 2, "campaign:r:2", "GZ-1"),
        "t3": ("new", 1, "campaign:r:3", None),
    }
    return Observed(
        clients=clients, stored=stored, search={tid: (s, v) for tid, (s, v, _m, _t) in stored.items()},
        assignments={"t1": ("e1", "open"), "t2": ("e2", "open")}, loads={"e1": 1, "e2": 1, "e3": 0},
        reporting_created=3, reporting_assigned={"e1": 1, "e2": 1}, assets_view={"t2": "assigned"},
        assigned_events={"t1": {"ev-a1"}, "t2": {"ev-a2"}}, created_events=set(ids), dead_letters=[], outboxes=[],
        timed=set(ids),
    )


def _lost(o: Observed) -> None:
    del o.stored["t1"]  # acknowledged, then gone
    del o.search["t1"]
    o.created_events.discard("t1")
    o.timed.discard("t1")
    o.reporting_created = 2
    del o.assignments["t1"]
    del o.assigned_events["t1"]
    o.loads["e1"] = 0
    del o.reporting_assigned["e1"]


def _unanswered(o: Observed) -> None:
    o.clients.append(ClientOutcome(key="k4", marker="campaign:r:4", attempts=[Attempt("k4", None, "ReadTimeout")]))


def _duplicate(o: Observed) -> None:
    o.stored["t1-again"] = ("new", 1, "campaign:r:1", None)  # same request stored twice
    o.search["t1-again"] = ("new", 1)
    o.created_events.add("t1-again")
    o.timed.add("t1-again")
    o.reporting_created = 4


def _double_assigned(o: Observed) -> None:
    o.assigned_events["t1"] = {"ev-a1", "ev-a1-bis"}


def _dead_letter(o: Observed) -> None:
    o.dead_letters.append(("ticket.created", "knowledge-ticket-created", "failed", "ConcurrentUpdate: problem candidate"))


def _stale_search(o: Observed) -> None:
    o.search["t1"] = ("new", 1)  # issue 14 item 2: a stale read written over the newer entry


def _search_ahead_of_latest_source(o: Observed) -> None:
    # Search shows a version the source never reached, even read again after the view: a view ahead of its source.
    o.search["t3"] = ("new", 2)
    o.stored_after["t3"] = ("new", 1)


def _search_behind_latest_source(o: Observed) -> None:
    # The first reading agreed; the source read after the view moved on and search did not follow (a stale view).
    o.stored_after["t1"] = ("assigned", 4)


def _reporting(o: Observed) -> None:
    o.reporting_assigned = {"e1": 2, "e2": 1}


def _assets(o: Observed) -> None:
    o.assets_view["t2"] = "new"


def _load(o: Observed) -> None:
    o.loads["e1"] = 2  # counted twice after a redelivery (issue 14 item 3)


def _assigned_but_new(o: Observed) -> None:
    o.assignments["t3"] = ("e3", "open")
    o.loads["e3"] = 1
    o.reporting_assigned["e3"] = 1
    o.assigned_events["t3"] = {"ev-a3"}


def _unsent(o: Observed) -> None:
    o.outboxes.append(("opsdesk_dispatch", "assignments", "t1", 1))


def _never_published(o: Observed) -> None:
    o.assigned_events.pop("t2")  # stored with the assignment, never reached the bus


def _five_hundred(o: Observed) -> None:
    o.clients[0].attempts.insert(0, Attempt("k1", 500, "Internal Server Error"))


def _untimed(o: Observed) -> None:
    o.timed.discard("t3")


PLANTED: dict[str, tuple[str, Callable[[Observed], None]]] = {
    "lost": ("lost writes", _lost),
    "unanswered": ("unanswered requests", _unanswered),
    "duplicate": ("duplicates", _duplicate),
    "double-assigned": ("double assignments", _double_assigned),
    "dead-letter": ("dead letters", _dead_letter),
    "stale-search": ("search = source", _stale_search),
    "search-ahead": ("search = source", _search_ahead_of_latest_source),
    "search-behind-latest": ("search = source", _search_behind_latest_source),
    "reporting": ("reporting = source", _reporting),
    "assets": ("assets view = source", _assets),
    "load": ("engineer loads = source", _load),
    "assigned-but-new": ("assignments = tickets", _assigned_but_new),
    "outbox": ("events unsent", _unsent),
    "never-published": ("events unsent", _never_published),
    "500": ("5xx other than 503", _five_hundred),
    "untimed": ("every ticket timed", _untimed),
}


def test_search_ahead_of_an_older_source_reading_is_the_readings_skew_not_a_stale_view() -> None:
    """Runs 3-4: the database was read first (v2), knowledge's kb.suggested landed (intake stored v3 and then
    indexed it), search was read (v3). Read again after the view, the source holds v3: no violation."""
    observed = copy.deepcopy(clean())
    observed.search["t1"] = ("assigned", 4)
    assert evaluate(observed)["search = source"] == ["t1: search shows assigned v4, stored assigned v3"]
    observed.stored_after["t1"] = ("assigned", 4)
    assert evaluate(observed)["search = source"] == []


def test_a_clean_reading_passes_every_check() -> None:
    results = evaluate(clean())
    assert results and not any(results.values()), results


@pytest.mark.parametrize("planted", sorted(PLANTED))
def test_each_planted_violation_is_caught_by_its_own_check(planted: str) -> None:
    check, plant = PLANTED[planted]
    observed = copy.deepcopy(clean())
    plant(observed)
    results = evaluate(observed)
    assert results[check], f"{check} missed the planted {planted}"
    assert {name for name, found in results.items() if found} == {check}, results


def test_every_check_has_a_planted_violation() -> None:
    assert set(evaluate(clean())) == {check for check, _plant in PLANTED.values()}


def test_the_table_names_each_check_and_its_count() -> None:
    observed = clean()
    _stale_search(observed)
    text = table(evaluate(observed), extra={"tickets stored": "3"})
    row = next(line for line in text.splitlines() if line.startswith("search = source"))
    assert " 1 " in row and "t1: search shows new v1, stored assigned v3" in row
    assert "tickets stored: 3" in text


def test_profiles_fit_their_budgets() -> None:
    """The short profile runs inside `make test` (two or three kills, ~40 s of load); the long one kills every part."""
    assert SHORT.seconds <= 45 and 2 <= len(SHORT.faults) <= 3 and SHORT.rate * SHORT.seconds >= 80
    targets = {target for _at, target in LONG.faults}
    assert targets == {"intake", "dispatch", "sla-monitor", "assets", "reporting", "knowledge", "nats", "database"}
    assert LONG.rate >= 10 and 180 <= LONG.seconds <= 240
    assert all(at < LONG.seconds for at, _t in LONG.faults)
