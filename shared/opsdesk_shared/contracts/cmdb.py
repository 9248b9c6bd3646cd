"""Configuration-management events, produced by assets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, Literal

from pydantic import Field

from . import subjects
from .envelope import EventData

CiChange = Literal["created", "updated", "status_changed", "relation_added", "relation_removed", "corrected"]


class CiChangedV1(EventData):
    """A configuration item (asset) was registered or changed; one event per stored version (bulk imports excepted)."""

    event_type: ClassVar[str] = subjects.CMDB_CI_CHANGED
    event_version: ClassVar[int] = 1

    tag: str = Field(description="Asset tag, e.g. GZ-2026-000123")
    ci_type: str = Field(description="Configuration item type code, e.g. desktop, server, business_service")
    change: CiChange
    version: int = Field(ge=1, description="Version of the item after this change (relations do not bump it)")
    status: str = Field(description="Lifecycle status after the change")
    department: str | None = None
    changes: dict[str, dict[str, Any]] = Field(default_factory=dict, description="field -> {'old': ..., 'new': ...}; nested fields as location/room, attributes/os")
    by: str = Field(description="Who changed it (X-Opsdesk-User, or 'system')")
    changed_at: datetime


class RegisterImportedV1(EventData):
    """A CSV/XLSX import wrote many items at once; one summary event instead of one ci_changed per row."""

    event_type: ClassVar[str] = subjects.CMDB_REGISTER_IMPORTED
    event_version: ClassVar[int] = 1

    import_id: str
    file_name: str | None = None
    rows: int = Field(ge=0)
    created: int = Field(ge=0)
    tags_sample: list[str] = Field(default_factory=list, description="Up to 20 of the imported tags")
    by: str
    imported_at: datetime
    tags: list[str] = Field(
        default_factory=list,
        description="The tags this event announces, so consumers can keep a list of known tags: a large import is "
        "announced in `parts` events (same import_id, at most 1,000 tags each); empty on events before this field",
    )
    part: int = Field(default=1, ge=1, description="Which of the import's events this is (1-based)")
    parts: int = Field(default=1, ge=1, description="How many events announce this import's tags")


class AuditDiscrepancy(EventData):
    """One finding of an inventory audit."""

    tag: str
    kind: Literal["missing", "unregistered", "wrong_location", "wrong_owner"]
    expected: str | None = Field(default=None, description="What the register says (location or owner)")
    found: str | None = Field(default=None, description="What the auditor saw")


class AuditClosedV1(EventData):
    """An inventory audit was closed with its discrepancy report."""

    event_type: ClassVar[str] = subjects.CMDB_AUDIT_CLOSED
    event_version: ClassVar[int] = 1

    audit_id: str
    name: str
    scope: dict[str, str] = Field(default_factory=dict, description="Filter of the audited items, e.g. department")
    expected: int = Field(ge=0, description="Items the register holds in scope")
    seen: int = Field(ge=0, description="Distinct tags scanned")
    discrepancies: list[AuditDiscrepancy] = Field(default_factory=list)
    closed_by: str
    closed_at: datetime


InspectionKind = Literal["monthly_inspection", "quarterly_maintenance", "disinfection", "dust_removal"]


class InspectionFinding(EventData):
    text: str
    severity: Literal["ok", "minor", "needs_work"] = "ok"


class TicketRequest(EventData):
    """What intake needs to open a ticket for a finding that needs work."""

    title: str
    description: str
    asset_tag: str
    service_code: str = Field(description="Catalog service for inspection follow-ups (placeholder PS-INSPECT)")
    department: str | None = None
    site: str | None = None


class InspectionRecordedV1(EventData):
    """A routine inspection or maintenance visit was recorded; `ticket` is set when a finding needs work."""

    event_type: ClassVar[str] = subjects.CMDB_INSPECTION_RECORDED
    event_version: ClassVar[int] = 1

    inspection_id: str
    asset_tag: str
    kind: InspectionKind
    findings: list[InspectionFinding] = Field(default_factory=list)
    needs_work: bool = Field(description="At least one finding needs work: intake should open `ticket`")
    ticket: TicketRequest | None = None
    performed_by: str
    performed_at: datetime


class SpareIssuedV1(EventData):
    """Spare parts left the stock against a ticket (spare-part requisition)."""

    event_type: ClassVar[str] = subjects.CMDB_SPARE_ISSUED
    event_version: ClassVar[int] = 1

    issue_id: str
    part_type: str
    site: str
    quantity: int = Field(ge=1)
    ticket_id: str
    asset_tag: str | None = None
    remaining: int = Field(description="On hand at the site after the issue")
    below_minimum: bool = Field(description="Available stock fell below the minimum level: goes on the replenishment list")
    issued_by: str
    issued_at: datetime


class SpareIssueReversedV1(EventData):
    """A spare-part issue was taken back (issued by mistake, or the part was not used): the stock is restored and
    the issue no longer counts as consumption."""

    event_type: ClassVar[str] = subjects.CMDB_SPARE_ISSUE_REVERSED
    event_version: ClassVar[int] = 1

    issue_id: str = Field(description="The cmdb.spare_issued event's issue_id")
    part_type: str
    site: str
    quantity: int = Field(ge=1, description="Returned to stock: the quantity of the issue")
    ticket_id: str
    issued_at: datetime = Field(description="When the issue happened (its month's consumption goes down)")
    remaining: int = Field(description="On hand at the site after the reversal")
    reason: str | None = None
    reversed_by: str
    reversed_at: datetime


class RefusedPart(EventData):
    """One stock part of a service record that was not issued, and why."""

    sku: str = Field(description="The spare stock's part type the engineer named")
    part: str | None = Field(default=None, description="The part in the engineer's words")
    quantity: int = Field(ge=1)
    reason: Literal["no_site", "unknown_part", "not_enough_stock"] = Field(
        description="no_site: the ticket names no site to issue from; unknown_part: no stock of it at the site; "
        "not_enough_stock: fewer available than used"
    )
    detail: str = Field(description="The stock's own words, e.g. 'fuser-unit@主楼: 0 available, 1 wanted'")


class SpareIssueRefusedV1(EventData):
    """Parts the engineer used from stock (assignment.completed) that assets could not issue against the ticket;
    intake shows them to the desk as a work note. The issued parts are announced as cmdb.spare_issued."""

    event_type: ClassVar[str] = subjects.CMDB_SPARE_ISSUE_REFUSED
    event_version: ClassVar[int] = 1

    ticket_id: str
    assignment_id: str
    completion_event_id: str = Field(description="The assignment.completed event whose parts these are")
    site: str | None = None
    refused: list[RefusedPart] = Field(min_length=1)
    issued: int = Field(ge=0, description="How many of the record's stock lines were issued")
    refused_at: datetime


class LoanerChangedV1(EventData):
    """A loaner device was lent to a user (while theirs is in repair) or came back."""

    event_type: ClassVar[str] = subjects.CMDB_LOANER_CHANGED
    event_version: ClassVar[int] = 1

    loan_id: str
    loaner_tag: str
    action: Literal["lent", "returned"]
    borrower: str
    department: str | None = None
    for_asset_tag: str | None = Field(default=None, description="The user's own device, in repair")
    repair_id: str | None = None
    due_back: date | None = None
    by: str
    at: datetime


# Every event model of this family, for the registry.
MODELS: tuple[type[EventData], ...] = (
    CiChangedV1, RegisterImportedV1, AuditClosedV1, InspectionRecordedV1, SpareIssuedV1, SpareIssueReversedV1,
    SpareIssueRefusedV1, LoanerChangedV1,
)
