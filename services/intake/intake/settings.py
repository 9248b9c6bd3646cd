from __future__ import annotations

from pydantic import model_validator

from opsdesk_shared.settings import ServiceSettings, settings_config


class IntakeSettings(ServiceSettings):
    model_config = settings_config("INTAKE_")

    service_name: str = "intake"
    port: int = 8000
    bootstrap_token: str = ""
    max_body_bytes: int = 64 * 1024
    asset_lookup_timeout_s: float = 2.0

    @model_validator(mode="after")
    def _token_required_in_production(self) -> IntakeSettings:
        if self.environment == "production" and len(self.bootstrap_token) < 32:
            raise ValueError("INTAKE_BOOTSTRAP_TOKEN must be set to a random secret of at least 32 characters in production")
        return self
