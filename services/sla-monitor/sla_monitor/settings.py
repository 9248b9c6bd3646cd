from pydantic import Field

from opsdesk_shared.settings import ServiceSettings, settings_config


class SlaSettings(ServiceSettings):
    model_config = settings_config("SLA_")

    service_name: str = "sla-monitor"
    port: int = 8002
    # Wall-clock for now; the business calendar (office hours, holidays, make-up days) replaces it.
    response_timer_s: float = Field(default=3600.0, gt=0)
    sweep_interval_s: float = Field(default=1.0, gt=0)
