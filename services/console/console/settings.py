"""The console's settings (prefix CONSOLE_): where the gateway is and the secret that seals session cookies."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    """No database and no bus: the console reads and writes only through the gateway's public API."""

    model_config = SettingsConfigDict(env_prefix="CONSOLE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    service_name: str = "console"
    host: str = "127.0.0.1"
    port: int = 8006
    log_level: str = "INFO"
    gateway_url: str = Field(default="http://127.0.0.1:8000", description="The gateway's base URL (its /api/v1 is used)")
    # Seals the session cookie (the user's bearer token lives in it, encrypted; JavaScript never sees it).
    session_secret: str = Field(default="", repr=False)
    session_ttl_s: int = Field(default=8 * 3600, gt=0)
    # Secure cookies: "auto" sets Secure when the request came over TLS (X-Forwarded-Proto or the scheme).
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    timezone: str = Field(default="Asia/Shanghai", validation_alias="OPSDESK_TIMEZONE")
    api_timeout_s: float = Field(default=10.0, gt=0)
    # How many open tickets the derived queues (held, at risk, breached, awaiting review) read in detail.
    detail_window: int = Field(default=60, ge=1, le=500)

    @model_validator(mode="after")
    def _secret_required_in_production(self) -> ConsoleSettings:
        if self.environment == "production" and len(self.session_secret) < 32:
            raise ValueError("CONSOLE_SESSION_SECRET must be a random secret of at least 32 characters in production")
        return self
