"""Settings base every service extends: one env prefix per service, `.env` support, safe defaults only in development."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .audit_chain import DEVELOPMENT_KEY
from .localtime import zone


class ServiceSettings(BaseSettings):
    """Shared knobs; a service subclass sets `model_config = SettingsConfigDict(env_prefix="DISPATCH_")`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    service_name: str = "opsdesk"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    # Infrastructure is shared by every service; its variables carry no service prefix.
    mongodb_url: str = Field(default="mongodb://127.0.0.1:27017/", validation_alias="MONGODB_URL")
    nats_url: str = Field(default="nats://127.0.0.1:4222", validation_alias="NATS_URL")
    database: str = Field(default="", description="Database name; defaults to opsdesk_<service>")
    # NATS credentials (see bus_permissions.py): the user defaults to the service's name; without a password the
    # service connects anonymously, which an Opsdesk NATS server refuses. MONGODB_URL carries database credentials.
    nats_user: str = Field(default="", validation_alias="NATS_USER", description="NATS user; defaults to the service name")
    nats_password: str = Field(default="", validation_alias="NATS_PASSWORD", description="NATS password of that user")

    # Trust between services (see internal_auth.py): the gateway's public key verifies the token on every request;
    # the scrape token opens /metrics. Neither carries a service prefix: every service is given the same ones.
    internal_public_key: str = Field(default="", validation_alias="OPSDESK_INTERNAL_PUBLIC_KEY", description="PEM of the gateway's Ed25519 public key")
    metrics_token: str = Field(default="", validation_alias="OPSDESK_METRICS_TOKEN", description="Bearer token Prometheus sends to /metrics")
    # The key of the tamper-evident trail (audit_chain.py): the same for every service, so any of them can verify.
    audit_key: str = Field(default="", validation_alias="OPSDESK_AUDIT_KEY", description="HMAC key sealing history records (>= 32 characters)")

    # The site's zone: HTTP responses show times in it, date-only filters are its dates (see localtime.py).
    timezone: str = Field(default="Asia/Shanghai", validation_alias="OPSDESK_TIMEZONE", description="IANA zone of the site")

    # Bus behaviour.
    max_deliver: int = Field(default=5, ge=1, description="Handler attempts before a message is dead-lettered")
    ack_wait_s: float = Field(default=30.0, gt=0)
    relay_interval_s: float = Field(default=1.0, gt=0, description="How often the outbox relay sweeps")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value

    @model_validator(mode="after")
    def _default_database(self) -> ServiceSettings:
        if not self.database:
            self.database = "opsdesk_" + self.service_name.replace("-", "_")
        return self

    @model_validator(mode="after")
    def _production_trusts_nobody_by_default(self) -> ServiceSettings:
        if self.environment == "production" and not self.internal_public_key.strip():
            raise ValueError("OPSDESK_INTERNAL_PUBLIC_KEY is required in production")
        if self.environment == "production" and len(self.metrics_token) < 32:
            raise ValueError("OPSDESK_METRICS_TOKEN (>= 32 characters) is required in production")
        if self.environment == "production" and len(self.nats_password) < 24:
            raise ValueError("NATS_PASSWORD (>= 24 characters, the service's own NATS user) is required in production")
        if self.environment == "production" and len(self.audit_key) < 32:
            raise ValueError("OPSDESK_AUDIT_KEY (>= 32 characters, the same for every service) is required in production")
        return self

    @property
    def audit_key_bytes(self) -> bytes:
        """The trail's key; outside production a fixed development key when none is set (refused in production)."""
        return self.audit_key.encode() if self.audit_key else DEVELOPMENT_KEY

    def nats_credentials(self) -> tuple[str, str]:
        """(user, password) for NATS, or ("", "") to connect anonymously when no password is set."""
        if not self.nats_password:
            return "", ""
        return self.nats_user or self.service_name, self.nats_password

    @property
    def is_development(self) -> bool:
        return self.environment != "production"


def settings_config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_file=".env", extra="ignore")
