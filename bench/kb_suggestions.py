"""Knowledge suggestions on real desk tickets: precision@3 against the articles known to be right for each.

The set is `services/knowledge/tests/data/desk_tickets.json`: 60 tickets as a desk receives them (printers, PCs,
network, VPN, email, accounts, phones, projectors, software; simplified and traditional Chinese, some English), each
with its right article(s) among the seeded demo articles. Suggestions come from the service's own `suggestions_for`
on the seeded index, with the ticket's catalog service and, in the first row, its asset type; the second row leaves
the asset type out, as the bus path does while knowledge holds no asset projection. Target: precision@3 >= 0.8.

    .venv/bin/python bench/kb_suggestions.py [--show-misses]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from knowledge import service
from knowledge.evaluation import evaluate, index_of, load_cases
from knowledge.seed import DEMO_ARTICLES
from knowledge.text import Analyzer
from opsdesk_shared.contracts import TicketCreatedV1
from opsdesk_shared.contracts.knowledge import SuggestedArticle

TARGET = 0.8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-misses", action="store_true", help="list the tickets whose suggestions are not all right")
    args = parser.parse_args()

    analyzer = Analyzer()
    analyzer.initialize()
    index = index_of(DEMO_ARTICLES, analyzer)
    cases = load_cases()
    rows = []
    reports = {}
    def with_asset_type(ticket: TicketCreatedV1, asset_type: str | None) -> list[SuggestedArticle]:
        return service.suggestions_for(index, ticket, asset_type=asset_type)

    def service_only(ticket: TicketCreatedV1, _asset_type: str | None) -> list[SuggestedArticle]:
        return service.suggestions_for(index, ticket)

    for label, suggest in (("service + asset type", with_asset_type), ("service only", service_only)):
        started = time.perf_counter()
        report = evaluate(cases, suggest)
        per_ticket_ms = (time.perf_counter() - started) * 1000 / len(cases)
        reports[label] = report
        rows.append((label, report, per_ticket_ms))

    print(f"kb suggestions: {len(cases)} desk tickets, {len(DEMO_ARTICLES)} articles; "
          f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs")
    print()
    print("| signals | precision@3 | right first | a right one in top 3 | suggested per ticket | ms per ticket | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, report, ms in rows:
        ok = "met" if report.precision_at_3 >= TARGET else "MISSED"
        print(f"| {label} | {report.precision_at_3:.3f} | {report.hit_at_1:.3f} | {report.found_at_3:.3f} | "
              f"{report.mean_suggested:.2f} | {ms:.2f} | >= {TARGET} {ok} |")
    if args.show_misses:
        print()
        for outcome in reports["service + asset type"].outcomes:
            if outcome.precision < 1.0:
                print(f"{outcome.precision:.2f}  {outcome.case.title}  got {list(outcome.suggested)}  "
                      f"right {sorted(outcome.case.relevant)}")


if __name__ == "__main__":
    main()
