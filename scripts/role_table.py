"""The table of what each role may do, asked of the code's own policy (never typed by hand).

`SECURITY.md` holds its output between two markers; `tests/security/test_role_table.py` fails when they differ.
Run `python scripts/role_table.py --write` after changing a policy, and review the diff like code.

Each cell is what the policy answers for a signed-in person of that role: `yes`, `—` (refused), or the condition
under which it agrees (`held`: a ticket or assignment they hold through their roster link; `own`: their own ticket;
`own, dept`: their own or their department's). A requester cancels their own ticket only before work starts.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from opsdesk_shared.roles import ROLES

REPO = Path(__file__).resolve().parents[1]
SECURITY = REPO / "SECURITY.md"
BEGIN, END = "<!-- role-table:begin -->", "<!-- role-table:end -->"
ME, ENGINEER, DEPT = "u-me", "eng-me", "财务科"


@dataclass(frozen=True)
class _Requester:
    department: str | None


@dataclass(frozen=True)
class _Assignee:
    engineer_id: str
    active: bool = True
    accepted_at: object = None


@dataclass(frozen=True)
class _Ticket:
    """Only what the desk's policy reads of a ticket."""

    requester_id: str
    requester: _Requester
    assignee: _Assignee | None
    status: str = "new"


# Tickets seen from the caller's side: their own, a department colleague's, one they hold, and a stranger's.
TICKETS = {
    "own": _Ticket("u-me", _Requester(DEPT), None),
    "dept": _Ticket("u-colleague", _Requester(DEPT), None),
    "held": _Ticket("u-other", _Requester("办公室"), _Assignee(ENGINEER)),
    "other": _Ticket("u-other", _Requester("办公室"), _Assignee("eng-someone")),
}


def _cell(allowed: dict[str, bool]) -> str:
    if all(allowed.values()):
        return "yes"
    granted = [k for k, v in allowed.items() if v]
    return ", ".join(granted) if granted else "—"


def _row(name: str, cells: list[str]) -> str:
    return f"| {name} | " + " | ".join(cells) + " |"


def _header(first: str) -> list[str]:
    return [_row(first, list(ROLES)), "|" + "---|" * (len(ROLES) + 1)]


def gateway_table() -> list[str]:
    from intake.gateway.routing import PREFIX_READERS, PREFIX_WRITERS, READERS, ROUTES, WRITERS

    def cells(readers: frozenset[str], writers: frozenset[str]) -> list[str]:
        out = []
        for role in ROLES:
            reach = [w for w, allowed in (("read", readers), ("write", writers)) if role in allowed]
            out.append(" / ".join(reach) if reach else "—")
        return out

    lines = ["**Through the gateway**: which services behind it each role reaches (`read` / `write`; the service then",
             "applies its own rules below). A prefix with rules of its own has a row of its own.", "",
             *_header("service (prefixes)")]
    for upstream in sorted(READERS):
        prefixes = ", ".join(sorted(p for p, u in ROUTES.items() if u == upstream and p not in PREFIX_READERS))
        lines.append(_row(f"{upstream} (`{prefixes}`)", cells(READERS[upstream], WRITERS[upstream])))
        for prefix in sorted(p for p, u in ROUTES.items() if u == upstream and p in PREFIX_READERS):
            lines.append(_row(f"{upstream} (`{prefix}`)", cells(PREFIX_READERS[prefix], PREFIX_WRITERS.get(prefix, WRITERS[upstream]))))
    return lines


def desk_table() -> list[str]:
    from intake.access import Action, Forbidden, require
    from intake.domain import Actor

    actions = ("create", "edit", "override_priority", "work", "resolve_at_desk", "cancel", "close", "rate", "reopen",
               "comment", "internal_note", "service_record", "review", "read_history")
    lines = ["**Tickets at the desk** (intake, `access.require`).", "", *_header("act on a ticket")]
    for action in actions:
        cells = []
        for role in ROLES:
            actor = Actor(subject=ME, role=role, department=DEPT if role == "requester" else None,  # type: ignore[arg-type]
                          engineer_id=ENGINEER if role == "engineer" else None)
            allowed = {}
            # Opening a ticket concerns no existing ticket; every other act is asked about each kind of ticket.
            for where, ticket in (TICKETS.items() if action != "create" else [("any", None)]):
                try:
                    require(actor, cast(Action, action), cast(Any, ticket))
                    allowed[where] = True
                except Forbidden:
                    allowed[where] = False
            cells.append(_cell(allowed))
        lines.append(_row(action.replace("_", " "), cells))
    return lines


def dispatch_table() -> list[str]:
    from dispatch.domain import STEP_PARTIES, Actor, may_take

    lines = ["**Assignments** (dispatch, `domain.may_take`): `held` = the assignment is with the engineer their account",
             "is linked to.", "", *_header("step")]
    for step in STEP_PARTIES:
        cells = []
        for role in ROLES:
            actor = Actor(subject=ME, role=role, engineer_id=ENGINEER if role == "engineer" else None)
            held = may_take(actor, step, cast(Any, _Held(ENGINEER)))
            other = may_take(actor, step, cast(Any, _Held("eng-someone")))
            cells.append(_cell({"held": held, "other": other}))
        lines.append(_row(step, cells))
    return lines


@dataclass(frozen=True)
class _Held:
    engineer_id: str
    ticket_id: str = "t-1"


def services_table() -> list[str]:
    from assets.entrypoints.deps import READERS as ASSET_READERS
    from assets.entrypoints.deps import WRITERS as ASSET_WRITERS
    from knowledge.domain import CURATORS, PROBLEM_READERS, PROBLEM_WRITERS, audiences_for
    from opsdesk_shared.audit_http import AUDIT_READERS
    from reporting.access import MANAGERS
    from reporting.access import STAFF as REPORT_READERS
    from sla_monitor.entrypoints.http import CALENDAR_WRITERS
    from sla_monitor.entrypoints.http import STAFF as SLA_READERS

    rows: list[tuple[str, Any]] = [
        ("assets: read the register", ASSET_READERS),
        ("assets: change the register, repairs, spares", ASSET_WRITERS),
        ("SLA monitor: read timers and calendars", SLA_READERS),
        ("SLA monitor: change calendars, holiday years", CALENDAR_WRITERS),
        ("reporting: read period reports", REPORT_READERS),
        ("reporting: generate, rebuild", MANAGERS),
        ("knowledge: curate (publish, retire)", CURATORS),
        ("knowledge: read problems", PROBLEM_READERS),
        ("knowledge: work problems", PROBLEM_WRITERS),
        ("every service: verify the audit trail", AUDIT_READERS),
    ]
    lines = ["**The other services** (each service's own role sets).", "", *_header("act")]
    for name, allowed in rows:
        lines.append(_row(name, ["yes" if role in allowed else "—" for role in ROLES]))
    lines.append(_row("knowledge: article audiences read", [", ".join(sorted(audiences_for(role))) for role in ROLES]))
    return lines


def render() -> str:
    blocks = [gateway_table(), desk_table(), dispatch_table(), services_table()]
    return "\n\n".join("\n".join(b) for b in blocks) + "\n"


def current() -> str:
    text = SECURITY.read_text()
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the table in SECURITY.md")
    args = parser.parse_args()
    table = render()
    if not args.write:
        sys.stdout.write(table)
        return 0
    text = SECURITY.read_text()
    head, rest = text.split(BEGIN, 1)
    SECURITY.write_text(head + BEGIN + "\n" + table + END + rest.split(END, 1)[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
