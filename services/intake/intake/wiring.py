"""The set of adapters the edges use; built from Mongo and NATS by main, or from memory by tests."""

from __future__ import annotations

from dataclasses import dataclass

from .auth import Authenticator
from .ports import AssetDirectory, BusinessCalendars, EventOutbox, TicketStore, TimerDirectory, TokenStore


@dataclass
class Adapters:
    store: TicketStore
    outbox: EventOutbox
    tokens: TokenStore
    assets: AssetDirectory
    authenticator: Authenticator
    calendars: BusinessCalendars | None = None
    timers: TimerDirectory | None = None
