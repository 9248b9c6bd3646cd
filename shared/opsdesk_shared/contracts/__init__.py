"""Versioned event contracts. Look a payload model up by (type, version) with `payload_model`."""

from . import authorizations, cmdb, knowledge, reports, security, subjects
from .assignments import (
    AssignmentAcceptedV1,
    AssignmentCompletedV1,
    AssignmentConfirmedV1,
    AssignmentDelayedV1,
    AssignmentReviewedV1,
    AssignmentWithdrawnV1,
    EscalationAcknowledgedV1,
    EscalationRaisedV1,
    HelpRequestedV1,
    NoEngineerAvailableV1,
    PartUsedV1,
    TicketReassignedV1,
)
from .deadletter import DeadLetter
from .envelope import Envelope, EventData, utcnow
from .repairs import RepairUpdatedV1
from .sla import SlaBreachedV1, SlaTimerStartedV1, SlaTimerStoppedV1, SlaWarningV1
from .tickets import (
    Requester,
    ServiceRecordReviewedV1,
    TicketAssignedV1,
    TicketClosedV1,
    TicketCreatedV1,
    TicketDispatchRequestedV1,
    TicketReopenedV1,
    TicketResolvedV1,
    TicketStatusChangedV1,
    TicketUpdatedV1,
)

_MODELS: tuple[type[EventData], ...] = (
    TicketCreatedV1,
    TicketAssignedV1,
    TicketUpdatedV1,
    TicketStatusChangedV1,
    TicketResolvedV1,
    TicketClosedV1,
    TicketReopenedV1,
    ServiceRecordReviewedV1,
    TicketDispatchRequestedV1,
    TicketReassignedV1,
    AssignmentAcceptedV1,
    AssignmentConfirmedV1,
    AssignmentDelayedV1,
    AssignmentCompletedV1,
    AssignmentReviewedV1,
    AssignmentWithdrawnV1,
    HelpRequestedV1,
    NoEngineerAvailableV1,
    EscalationRaisedV1,
    EscalationAcknowledgedV1,
    SlaBreachedV1,
    SlaWarningV1,
    SlaTimerStoppedV1,
    SlaTimerStartedV1,
    RepairUpdatedV1,
    *knowledge.MODELS,
    *cmdb.MODELS,
    *reports.MODELS,
    *authorizations.MODELS,
    *security.MODELS,
)
REGISTRY: dict[tuple[str, int], type[EventData]] = {(model.event_type, model.event_version): model for model in _MODELS}


class UnknownEvent(LookupError):
    """No model is registered for an event's (type, version)."""


def payload_model(event_type: str, version: int) -> type[EventData]:
    try:
        return REGISTRY[(event_type, version)]
    except KeyError:
        raise UnknownEvent(f"no contract for {event_type} v{version}") from None


__all__ = [
    "REGISTRY",
    "AssignmentAcceptedV1",
    "AssignmentCompletedV1",
    "AssignmentConfirmedV1",
    "AssignmentDelayedV1",
    "AssignmentReviewedV1",
    "AssignmentWithdrawnV1",
    "HelpRequestedV1",
    "NoEngineerAvailableV1",
    "PartUsedV1",
    "ServiceRecordReviewedV1",
    "EscalationAcknowledgedV1",
    "EscalationRaisedV1",
    "TicketReassignedV1",
    "DeadLetter",
    "Envelope",
    "EventData",
    "RepairUpdatedV1",
    "Requester",
    "SlaBreachedV1",
    "SlaTimerStartedV1",
    "SlaTimerStoppedV1",
    "SlaWarningV1",
    "TicketAssignedV1",
    "TicketCreatedV1",
    "TicketDispatchRequestedV1",
    "TicketUpdatedV1",
    "TicketStatusChangedV1",
    "TicketResolvedV1",
    "TicketClosedV1",
    "TicketReopenedV1",
    "UnknownEvent",
    "payload_model",
    "subjects",
    "utcnow",
]
