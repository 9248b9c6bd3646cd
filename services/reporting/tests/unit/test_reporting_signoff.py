"""Sign-off states, pure: draft -> submitted -> acknowledged | returned, who takes which step, the 409's allowed steps,
the deadline met by submission, and where a regenerated report goes among its versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opsdesk_shared.contracts.reports import ReportAcknowledgedV1, ReportReturnedV1, ReportSubmittedV1
from reporting import signoff
from reporting.periods import TZ

DUE = datetime(2026, 12, 5, tzinfo=TZ)
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=TZ)


def report(**fields: Any) -> dict[str, Any]:
    return {"_id": "service-summary:2026-11:zh-CN", "kind": "service-summary", "period": "2026-11", "lang": "zh-CN",
            "due_at": DUE, "series": "service-summary:2026-11:zh-CN", "revision": 1, "state": "draft", "history": [], **fields}


def test_a_draft_is_submitted_by_a_manager_on_time() -> None:
    step = signoff.submit(report(), by="pm-chen", role="manager", now=NOW, latest_revision=1)
    assert step.changes["state"] == "submitted" and step.changes["submitted_at"] == NOW
    assert isinstance(step.event, ReportSubmittedV1)
    assert (step.event.version, step.event.on_time, step.event.submitted_by) == (1, True, "pm-chen")
    assert step.changes["history"][-1]["action"] == "submit"


def test_a_submission_after_the_due_time_is_late() -> None:
    step = signoff.submit(report(), by="pm", role="admin", now=DUE + timedelta(minutes=1), latest_revision=1)
    assert step.event.on_time is False  # type: ignore[attr-defined]
    assert signoff.on_time({**report(), **step.changes}) is False


@pytest.mark.parametrize("role", ["agency", "agent", "engineer", "auditor", "service", "requester"])
def test_only_managers_and_admins_submit(role: str) -> None:
    with pytest.raises(signoff.Forbidden):
        signoff.submit(report(), by="x", role=role, now=NOW, latest_revision=1)


@pytest.mark.parametrize("role", ["manager", "admin", "agent", "auditor", "service"])
def test_only_the_agency_acknowledges_or_returns(role: str) -> None:
    submitted = report(state="submitted", submitted_at=NOW)
    with pytest.raises(signoff.Forbidden):
        signoff.acknowledge(submitted, by="x", role=role, now=NOW, latest_revision=1)
    with pytest.raises(signoff.Forbidden):
        signoff.return_(submitted, by="x", role=role, now=NOW, latest_revision=1, comments="改")


def test_the_agency_acknowledges_a_submitted_report() -> None:
    step = signoff.acknowledge(report(state="submitted", submitted_at=NOW), by="agency-zhou", role="agency", now=NOW,
                               latest_revision=1, note="已阅")
    assert step.changes["state"] == "acknowledged" and step.changes["acknowledged_by"] == "agency-zhou"
    assert isinstance(step.event, ReportAcknowledgedV1) and step.event.note == "已阅"


def test_a_return_needs_comments_and_keeps_them() -> None:
    submitted = report(state="submitted", submitted_at=NOW)
    with pytest.raises(signoff.NoComments):
        signoff.return_(submitted, by="agency-zhou", role="agency", now=NOW, latest_revision=1, comments="   ")
    step = signoff.return_(submitted, by="agency-zhou", role="agency", now=NOW, latest_revision=1, comments="请补充原因分析")
    assert step.changes["state"] == "returned" and step.changes["comments"] == "请补充原因分析"
    assert isinstance(step.event, ReportReturnedV1) and step.event.comments == "请补充原因分析"


@pytest.mark.parametrize(("state", "action", "allowed"), [
    ("draft", "acknowledge", ["submit"]),
    ("draft", "return", ["submit"]),
    ("submitted", "submit", ["acknowledge", "return"]),
    ("acknowledged", "submit", []),
    ("acknowledged", "return", []),
    ("returned", "acknowledge", ["submit"]),
])
def test_a_wrong_state_is_refused_with_what_is_allowed(state: str, action: str, allowed: list[str]) -> None:
    r = report(state=state, submitted_at=NOW if state != "draft" else None)
    role = "manager" if action == "submit" else "agency"
    with pytest.raises(signoff.IllegalStep) as refused:
        if action == "submit":
            signoff.submit(r, by="x", role=role, now=NOW, latest_revision=1)
        elif action == "acknowledge":
            signoff.acknowledge(r, by="x", role=role, now=NOW, latest_revision=1)
        else:
            signoff.return_(r, by="x", role=role, now=NOW, latest_revision=1, comments="c")
    assert refused.value.allowed == allowed


def test_a_returned_report_is_submitted_again_as_a_new_version() -> None:
    returned = report(state="returned", submitted_at=NOW, comments="补充")
    assert signoff.check_submit(returned, role="manager", latest_revision=1) is True
    fresh = {"_id": "service-summary:2026-11:zh-CN", "kind": "service-summary", "period": "2026-11", "due_at": DUE}
    placed = signoff.placement(fresh, [returned])
    assert (placed["_id"], placed["revision"], placed["state"], placed["previous"]) == (
        "service-summary:2026-11:zh-CN:v2", 2, "draft", "service-summary:2026-11:zh-CN")
    step = signoff.submit(placed, by="pm", role="manager", now=NOW, latest_revision=2, previous_report_id=returned["_id"])
    assert (step.event.version, step.event.previous_report_id) == (2, "service-summary:2026-11:zh-CN")  # type: ignore[attr-defined]


def test_an_older_version_cannot_be_acted_on() -> None:
    with pytest.raises(signoff.IllegalStep) as refused:
        signoff.submit(report(state="returned"), by="pm", role="manager", now=NOW, latest_revision=2)
    assert refused.value.code == "not_latest" and refused.value.allowed == []


def test_generation_replaces_a_draft_and_is_refused_while_the_agency_has_it() -> None:
    fresh = {"_id": "service-summary:2026-11:zh-CN", "kind": "service-summary", "period": "2026-11"}
    assert signoff.placement(fresh, [])["revision"] == 1
    over_draft = signoff.placement(fresh, [report(rev=3)])
    assert (over_draft["_id"], over_draft["revision"], over_draft["rev"]) == ("service-summary:2026-11:zh-CN", 1, 4)
    for state in ("submitted", "acknowledged"):
        with pytest.raises(signoff.IllegalStep) as refused:
            signoff.placement(fresh, [report(state=state)])
        assert refused.value.code == "locked"
    # The manual is published again after an acknowledgement, as the next version.
    assert signoff.placement(fresh, [report(state="acknowledged")], reopen_acknowledged=True)["revision"] == 2


def test_lists_show_state_version_submission_deadline_and_on_time() -> None:
    never = signoff.listing(report(), now=DUE + timedelta(hours=1))
    assert (never["state"], never["version"], never["on_time"], never["overdue"], never["allowed"]) == ("draft", 1, None, True, ["submit"])
    sent = signoff.listing(report(state="submitted", submitted_at=NOW), now=DUE + timedelta(hours=1))
    assert (sent["on_time"], sent["overdue"], sent["submitted_at"], sent["due_at"]) == (True, False, NOW, DUE)
    # Times from the database come back in UTC: compared as instants.
    assert signoff.on_time(report(submitted_at=DUE.astimezone(UTC))) is True
