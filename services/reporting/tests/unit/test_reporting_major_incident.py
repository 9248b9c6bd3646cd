"""A resolved major incident gets its report without anyone asking: stored in every format, announced once."""

from __future__ import annotations

from datetime import UTC, datetime

from reporting import generation
from reporting.adapters.memory import MemoryPublisher, MemoryReportStore

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
TICKET = {
    "_id": "t-major", "number": "INC-2026-000042", "title": "核心交換機故障,全樓斷網", "service_code": "RS-ONSITE",
    "priority": "P1", "major": True, "department": "信息中心", "reported_at": datetime(2026, 11, 20, 6, 0, tzinfo=UTC),
    "resolved_at": datetime(2026, 11, 20, 7, 40, tzinfo=UTC), "engineer_name": "張國華",
}


async def test_major_incident_report_is_stored_and_announced_once() -> None:
    store, publisher = MemoryReportStore(), MemoryPublisher()
    for _ in range(2):  # a redelivered resolution replaces the report and announces nothing new
        await generation.generate_major_incident(TICKET, store=store, publisher=publisher, delivery=None, lang="zh-CN", now=NOW)

    stored = await store.list(kind="major-incident")
    assert [r["period"] for r in stored] == ["t-major"]
    pdf = await store.file(stored[0]["_id"], "pdf")
    assert pdf is not None and pdf.startswith(b"%PDF")
    assert len({e.event_id for e in publisher.published}) == 1
    assert publisher.published[0].data["kind"] == "major-incident"
