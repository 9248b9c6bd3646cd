"""Settings base every service extends: one env prefix per service, `.env` support, safe defaults only in development."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    # Bus behaviour.
    max_deliver: int = Field(default=5, ge=1, description="Handler attempts before a message is dead-lettered")
    ack_wait_s: float = Field(default=30.0, gt=0)
    relay_interval_s: float = Field(default=1.0, gt=0, description="How often the outbox relay sweeps")

    @model_validator(mode="after")
    def _default_database(self) -> ServiceSettings:
        if not self.database:
            self.database = "opsdesk_" + self.service_name.replace("-", "_")
        return self

    @property
    def is_development(self) -> bool:
        return self.environment != "production"


def settings_config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_file=".env", extra="ignore")
