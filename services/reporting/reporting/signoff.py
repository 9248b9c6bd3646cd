"""Sign-off by the agency: the states of a stored report and the steps between them. Pure: a stored report's
metadata, the verified caller and the time in; the fields to change and the event to announce out.

    draft --submit (manager, admin)--> submitted --acknowledge (agency)--> acknowledged
                                                 --return (agency, comments)--> returned
    returned --submit--> a NEW version n+1 (regenerated, then submitted); the returned one is kept with its comments

The contract's deadlines (每月5日前《月度服务总结》, 每月10日前《月度维修总结》) are met by submission to the agency:
a version is on time when it was submitted at or before the report's due time, and a report (all its versions) is
late when its first submission came after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from opsdesk_shared.contracts.envelope import EventData
from opsdesk_shared.contracts.reports import ReportAcknowledgedV1, ReportReturnedV1, ReportSubmittedV1

from . import periods

Document = dict[str, Any]
State = Literal["draft", "submitted", "acknowledged", "returned"]
Action = Literal["submit", "acknowledge", "return"]

AGENCY = "agency"  # the agency's role (opsdesk_shared.roles.AGENCY_ROLE)
SUBMITTERS = frozenset({"manager", "admin"})
DECIDERS = frozenset({AGENCY})
# action -> (states it applies to, state it leads to). A returned report is submitted again as a new version.
STEPS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft", "returned"}), "submitted"),
    "acknowledge": (frozenset({"submitted"}), "acknowledged"),
    "return": (frozenset({"submitted"}), "returned"),
}
WHO: dict[str, frozenset[str]] = {"submit": SUBMITTERS, "acknowledge": DECIDERS, "return": DECIDERS}


class SignOffRefused(Exception):
    """A step refused; `code` names the text (i18n.refusal) and `params` fill it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class Forbidden(SignOffRefused):
    """The caller's role may not take this step (403)."""


class IllegalStep(SignOffRefused):
    """Not possible in the report's state (409); `allowed` lists the steps that are."""

    def __init__(self, code: str, *, allowed: list[str], **params: Any) -> None:
        super().__init__(code, **params)
        self.allowed = allowed


class NoComments(SignOffRefused):
    """A return says what to change (422 on body.comments)."""


def state_of(report: Document) -> str:
    return str(report.get("state") or "draft")


def revision_of(report: Document) -> int:
    return int(report.get("revision") or 1)


def series_of(report: Document) -> str:
    """The id all versions of one report share (the first version's id): kind:period:lang."""
    return str(report.get("series") or report["_id"])


def version_id(series: str, revision: int) -> str:
    """Version 1 keeps the series id (links and the scheduler's look-up stay as they were); later ones add :v<n>."""
    return series if revision == 1 else f"{series}:v{revision}"


def allowed(report: Document) -> list[str]:
    return [action for action, (sources, _) in STEPS.items() if state_of(report) in sources]


def on_time(report: Document) -> bool | None:
    """Submitted at or before the deadline; None before submission or without a deadline (reports on demand)."""
    due, submitted = report.get("due_at"), report.get("submitted_at")
    if due is None or submitted is None:
        return None
    return bool(periods.local(submitted) <= periods.local(due))


def overdue(report: Document, *, now: datetime) -> bool:
    """Never submitted and past its deadline."""
    due = report.get("due_at")
    return due is not None and report.get("submitted_at") is None and periods.local(now) > periods.local(due)


def latest(versions: list[Document]) -> Document | None:
    return max(versions, key=revision_of) if versions else None


@dataclass(frozen=True)
class Step:
    """What a step changes on the stored report, and what it announces."""

    changes: Document
    event: EventData


def _check(report: Document, action: str, *, role: str, latest_revision: int) -> None:
    if role not in WHO[action]:
        raise Forbidden(f"forbidden_{action}", role=role)
    if revision_of(report) != latest_revision:
        raise IllegalStep("not_latest", allowed=[], version=revision_of(report), latest=latest_revision)
    sources, _ = STEPS[action]
    if state_of(report) not in sources:
        raise IllegalStep("illegal_step", allowed=allowed(report), action=action, state=state_of(report))


def check_submit(report: Document, *, role: str, latest_revision: int) -> bool:
    """May `role` submit this version? True when it is a returned one, to be submitted as a new version."""
    _check(report, "submit", role=role, latest_revision=latest_revision)
    return state_of(report) == "returned"


def submit(report: Document, *, by: str, role: str, now: datetime, latest_revision: int,
           previous_report_id: str | None = None) -> Step:
    """Submit a draft (a resubmission is the new version's draft, made by the use case from the returned one)."""
    _check(report, "submit", role=role, latest_revision=latest_revision)
    if state_of(report) != "draft":
        raise IllegalStep("illegal_step", allowed=allowed(report), action="submit", state=state_of(report))
    entry = {"action": "submit", "by": by, "at": now, "state": "submitted"}
    changes = {"state": "submitted", "submitted_at": now, "submitted_by": by, "history": [*report.get("history", []), entry]}
    event = ReportSubmittedV1(
        report_id=report["_id"], series_id=series_of(report), kind=report["kind"], period=report["period"],
        lang=report.get("lang", "zh-CN"), version=revision_of(report), previous_report_id=previous_report_id,
        due_at=report.get("due_at"), on_time=on_time({**report, **changes}), submitted_by=by, submitted_at=now,
    )
    return Step(changes=changes, event=event)


def acknowledge(report: Document, *, by: str, role: str, now: datetime, latest_revision: int, note: str | None = None) -> Step:
    _check(report, "acknowledge", role=role, latest_revision=latest_revision)
    entry = {"action": "acknowledge", "by": by, "at": now, "state": "acknowledged", "note": note}
    changes = {"state": "acknowledged", "acknowledged_at": now, "acknowledged_by": by, "note": note,
               "history": [*report.get("history", []), entry]}
    event = ReportAcknowledgedV1(
        report_id=report["_id"], series_id=series_of(report), kind=report["kind"], period=report["period"],
        lang=report.get("lang", "zh-CN"), version=revision_of(report), note=note, acknowledged_by=by, acknowledged_at=now,
    )
    return Step(changes=changes, event=event)


def return_(report: Document, *, by: str, role: str, now: datetime, latest_revision: int, comments: str) -> Step:
    _check(report, "return", role=role, latest_revision=latest_revision)
    if not comments.strip():
        raise NoComments("comments_required")
    entry = {"action": "return", "by": by, "at": now, "state": "returned", "comments": comments}
    changes = {"state": "returned", "returned_at": now, "returned_by": by, "comments": comments,
               "history": [*report.get("history", []), entry]}
    event = ReportReturnedV1(
        report_id=report["_id"], series_id=series_of(report), kind=report["kind"], period=report["period"],
        lang=report.get("lang", "zh-CN"), version=revision_of(report), comments=comments, returned_by=by, returned_at=now,
    )
    return Step(changes=changes, event=event)


def placement(report: Document, versions: list[Document], *, reopen_acknowledged: bool = False) -> Document:
    """Where a freshly generated report goes among the stored versions of its series: over the latest one while it is
    a draft (same version, its storage revision moved on), as version n+1 after a return, and nowhere while submitted
    or once acknowledged (409: the agency has it, or it is done). The maintenance manual is published again and again:
    after an acknowledgement its next publication is version n+1 (`reopen_acknowledged`)."""
    series = str(report["_id"])
    last = latest(versions)
    if last is None:
        return {**report, "series": series, "revision": 1, "state": "draft", "history": []}
    state = state_of(last)
    if state == "draft":
        return {**report, "_id": last["_id"], "series": series, "revision": revision_of(last), "state": "draft",
                "history": last.get("history", []), "rev": int(last.get("rev") or 0) + 1,
                **({"previous": last["previous"]} if last.get("previous") else {})}
    if state == "returned" or (state == "acknowledged" and reopen_acknowledged):
        n = revision_of(last) + 1
        return {**report, "_id": version_id(series, n), "series": series, "revision": n, "state": "draft",
                "previous": last["_id"], "history": []}
    raise IllegalStep("locked", allowed=allowed(last), state=state, report_id=last["_id"])


def cover_version(base: str, revision: int) -> str:
    """The version printed on the cover: the configured one (1.0) for the first, n.0 for version n."""
    return base if revision == 1 else f"{revision}.0"


def listing(report: Document, *, now: datetime) -> Document:
    """What a list of stored reports shows about sign-off and the deadline."""
    return {
        "state": state_of(report), "version": revision_of(report), "series": series_of(report),
        "submitted_at": report.get("submitted_at"), "due_at": report.get("due_at"), "on_time": on_time(report),
        "overdue": overdue(report, now=now), "allowed": allowed(report),
    }
