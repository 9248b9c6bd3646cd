"""Report events, produced by reporting."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from . import subjects
from .envelope import EventData


class ReportGeneratedV1(EventData):
    """A periodic (or per-incident) report was generated and stored; download it through the gateway."""

    event_type: ClassVar[str] = subjects.REPORT_GENERATED
    event_version: ClassVar[int] = 1

    report_id: str = Field(description="Stored report id, e.g. service-summary:2026-11:zh-CN")
    kind: str = Field(description="Report kind, e.g. service-summary, repair-summary, om-quarterly, major-incident")
    period: str = Field(description="Period covered: 2026-11, 2026-Q4, 2026, or the ticket id for a major incident")
    lang: str = Field(default="zh-CN", description="Language of the stored files: zh-CN or en")
    formats: list[str] = Field(description="Stored formats, e.g. json, xlsx, pdf")
    due_at: datetime | None = Field(default=None, description="When the contract wants it delivered (UTC)")
    late: bool = Field(default=False, description="Generated after its due time (a fact; the deadline itself is met by submission, report.submitted)")
    generated_at: datetime


class ReportOverdueV1(EventData):
    """A report owed to the agency was not submitted to it by its due time (missing), or was submitted after it
    (late): an alert. The contract's deadlines (the 5th, the 10th) are met by submission to the agency, not by
    generation."""

    event_type: ClassVar[str] = subjects.REPORT_OVERDUE
    event_version: ClassVar[int] = 1

    kind: str
    period: str
    due_at: datetime
    reason: Literal["missing", "late"] = Field(
        description="missing: not submitted to the agency at the due time; late: first submitted after it"
    )
    detected_at: datetime


SignOffState = Literal["draft", "submitted", "acknowledged", "returned"]


class ReportSubmittedV1(EventData):
    """A stored report (one version of it) was submitted to the agency for sign-off."""

    event_type: ClassVar[str] = subjects.REPORT_SUBMITTED
    event_version: ClassVar[int] = 1

    report_id: str = Field(description="The submitted version's stored id, e.g. service-summary:2026-11:zh-CN:v2")
    series_id: str = Field(description="The report all its versions share, e.g. service-summary:2026-11:zh-CN")
    kind: str
    period: str
    lang: str = "zh-CN"
    version: int = Field(ge=1, description="1 for the first submission; a returned report comes back as version n+1")
    previous_report_id: str | None = Field(default=None, description="The returned version this one replaces, if any")
    due_at: datetime | None = Field(default=None, description="The contract's deadline (UTC); none for reports on demand")
    on_time: bool | None = Field(default=None, description="Submitted at or before the deadline; null without one")
    submitted_by: str = Field(description="The verified caller who submitted it")
    submitted_at: datetime


class ReportAcknowledgedV1(EventData):
    """The agency acknowledged (accepted) a submitted report version."""

    event_type: ClassVar[str] = subjects.REPORT_ACKNOWLEDGED
    event_version: ClassVar[int] = 1

    report_id: str
    series_id: str
    kind: str
    period: str
    lang: str = "zh-CN"
    version: int = Field(ge=1)
    note: str | None = Field(default=None, description="The agency's optional remark")
    acknowledged_by: str
    acknowledged_at: datetime


class ReportReturnedV1(EventData):
    """The agency returned a submitted report version with comments; the team resubmits it as a new version."""

    event_type: ClassVar[str] = subjects.REPORT_RETURNED
    event_version: ClassVar[int] = 1

    report_id: str
    series_id: str
    kind: str
    period: str
    lang: str = "zh-CN"
    version: int = Field(ge=1)
    comments: str = Field(description="What the agency wants changed")
    returned_by: str
    returned_at: datetime


# Every event model of this family, for the registry.
MODELS: tuple[type[EventData], ...] = (
    ReportGeneratedV1, ReportOverdueV1, ReportSubmittedV1, ReportAcknowledgedV1, ReportReturnedV1,
)
