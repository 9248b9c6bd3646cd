"""The set of adapters the edges use; built from Mongo and NATS by main, or from memory by tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import httpx
from starlette.requests import Request

from opsdesk_shared.internal_auth import TokenMinter

from .adapters.memory import MemoryPendingHandovers
from .adapters.standing import MemoryStandingAuthorizations
from .authorization_service import StandingStore
from .catalog_cache import Catalog
from .known_tags import KnownTags
from .oversight.service import Incidents
from .oversight.store import MemoryIncidentStore
from .people import AccountPeople
from .ports import AssetDirectory, BusinessCalendars, EventOutbox, PendingHandovers, TicketStore, TimerDirectory
from .search import TicketIndex
from .service import Desk


class PrincipalLike(Protocol):
    subject: str
    name: str
    role: Any
    department: str | None
    engineer_id: str | None


class Authenticates(Protocol):
    async def principal(self, request: Request) -> PrincipalLike: ...


@dataclass
class Adapters:
    store: TicketStore
    outbox: EventOutbox
    catalog: Catalog
    assets: AssetDirectory
    authenticator: Authenticates
    index: TicketIndex = field(default_factory=TicketIndex)
    calendars: BusinessCalendars | None = None
    timers: TimerDirectory | None = None
    identity: Any = None
    upstreams: dict[str, str] = field(default_factory=dict)
    reopen_window: timedelta = timedelta(days=7)
    mail_service_code: str = "RS-INTAKE"
    upstream_client: httpx.AsyncClient | None = None
    # Signs the internal token of every forwarded request; create_app fills it from settings when a test leaves it out.
    minter: TokenMinter | None = None
    # The asset tags assets announced; None (tests that do not care): every tag is accepted.
    tags: KnownTags | None = None
    # Desk-first tickets' due times; main wires the database's, tests get a memory one.
    handovers: PendingHandovers = field(default_factory=MemoryPendingHandovers)
    guidance_window: timedelta = timedelta(minutes=5)
    # The agency's standing authorizations; main wires the database's, tests get a memory one.
    standing: StandingStore = field(default_factory=MemoryStandingAuthorizations)
    # Security incidents (oversight/); main wires the database's with its own outbox relay, tests get a memory store
    # whose announcements go through the tests' outbox.
    incidents: Incidents | None = None

    def __post_init__(self) -> None:
        if self.incidents is None:
            self.incidents = Incidents(store=MemoryIncidentStore(), outbox=self.outbox)

    async def asset_type_of(self, tag: str) -> str | None:
        """The type of the asset a tag names (assets' lookup), for standing authorizations limited to asset types."""
        asset = await self.assets.lookup(tag)
        found = (asset or {}).get("type") or (asset or {}).get("kind")
        return str(found) if found else None

    @property
    def desk(self) -> Desk:
        return Desk(
            store=self.store, outbox=self.outbox, catalog=self.catalog, index=self.index, tags=self.tags,
            handovers=self.handovers, guidance_window=self.guidance_window,
            people=AccountPeople(self.identity.users) if self.identity is not None else None,
            standing=self.standing, asset_type_of=self.asset_type_of, incidents=self.incidents,
        )
