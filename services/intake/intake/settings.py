from __future__ import annotations

from pydantic import Field, model_validator

from opsdesk_shared.settings import ServiceSettings, settings_config


class IntakeSettings(ServiceSettings):
    model_config = settings_config("INTAKE_")

    service_name: str = "intake"
    port: int = 8000
    bootstrap_token: str = ""
    jwt_secret: str = ""
    jwt_ttl_s: int = 3600
    # PEM of the Ed25519 private key that signs internal tokens (INTAKE_INTERNAL_SIGNING_KEY); every service holds
    # the public half (OPSDESK_INTERNAL_PUBLIC_KEY). Outside production a missing one is made up per process.
    internal_signing_key: str = Field(default="", repr=False)
    max_body_bytes: int = 256 * 1024
    asset_lookup_timeout_s: float = 2.0
    reopen_window_days: float = 7.0
    mail_service_code: str = "RS-INTAKE"
    # The search index's file (search_store.py), one per replica; kept across restarts, which then catch up from
    # the events stream instead of reading every ticket (index_feed.py). Empty: a temporary file, built at each start.
    index_path: str = ""
    # Reconciliation of the search index with the database (re-reads tickets whose version differs), healing a
    # change no ticket event announced; the stream itself loses nothing across disconnects.
    index_reload_s: float = 3600.0
    # How long start-up waits for the index to catch up with the stream before the gateway says it is ready anyway.
    index_catch_up_s: float = 120.0
    catalog_refresh_s: float = 30.0
    # Ticket numbers a process reserves at a time (one database command per block instead of one per ticket, issue
    # 17). A clean stop gives the unused rest back; a crash leaves it unissued (a gap in the numbers); with several
    # replicas each issues from its own block, so numbers follow creation order per replica. 1: one draw a ticket.
    number_block: int = Field(default=20, ge=1, le=1000)
    # The services behind the gateway (base URLs); a route whose service is not set answers 503.
    assets_url: str = ""
    dispatch_url: str = ""
    sla_url: str = ""
    reporting_url: str = ""
    knowledge_url: str = ""
    upstream_timeout_s: float = 15.0
    # The web console (services/console): every path outside the API is proxied to it; empty: no console.
    console_url: str = ""
    # How long a desk-first ticket stays with the desk for remote guidance before it goes to dispatch (the contract's
    # 5 minutes), and how often the checker looks for tickets whose window ran out (desk_first.py, handover.py).
    guidance_window_s: float = Field(default=300.0, gt=0)
    handover_check_s: float = Field(default=2.0, gt=0)
    # Requesters are mailed when their ticket is assigned, waits for them, and is resolved (notices.py). No host:
    # mail is off (make run has no mail server); the SLA monitor and reporting send through the same kind of server.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "opsdesk-desk@localhost"

    @model_validator(mode="after")
    def _secrets_required_in_production(self) -> IntakeSettings:
        if self.environment == "production":
            if len(self.bootstrap_token) < 32:
                raise ValueError("INTAKE_BOOTSTRAP_TOKEN must be set to a random secret of at least 32 characters in production")
            if len(self.jwt_secret) < 32:
                raise ValueError("INTAKE_JWT_SECRET must be set to a random secret of at least 32 characters in production")
            if not self.internal_signing_key.strip():
                raise ValueError("INTAKE_INTERNAL_SIGNING_KEY (Ed25519 private key, PEM) is required in production")
        return self

    def upstreams(self) -> dict[str, str]:
        named = {
            "assets": self.assets_url, "dispatch": self.dispatch_url, "sla-monitor": self.sla_url,
            "reporting": self.reporting_url, "knowledge": self.knowledge_url,
        }
        return {name: url for name, url in named.items() if url}
