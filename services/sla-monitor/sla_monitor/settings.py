from typing import Any

from pydantic import Field

from opsdesk_shared.settings import ServiceSettings, settings_config

from .domain import DEFAULT_POLICIES, TimerPolicy
from .escalation import DEFAULT_CHAIN, EscalationLevel


class SlaSettings(ServiceSettings):
    model_config = settings_config("SLA_")

    service_name: str = "sla-monitor"
    port: int = 8002
    sweep_interval_s: float = Field(default=1.0, gt=0)
    # How often the due queue is topped up from the timer slots (timers another replica started, the next minutes).
    reload_interval_s: float = Field(default=60.0, gt=0)
    # Per-policy overrides merged over the defaults, as JSON in SLA_POLICIES, e.g.
    # {"response": {"calendar": "24x7", "business_minutes": 0.05}} for a demo that breaches in 3 seconds.
    policies: dict[str, dict[str, Any]] = Field(default_factory=dict)

    # The escalation chain as JSON (levels with role, after_minutes, emails, webhooks); empty levels notify nobody.
    escalation: tuple[EscalationLevel, ...] = DEFAULT_CHAIN
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "opsdesk@localhost"
    notify_interval_s: float = Field(default=1.0, gt=0)
    notify_max_attempts: int = Field(default=5, ge=1)
    notify_backoff_s: float = Field(default=30.0, gt=0)

    def timer_policies(self) -> dict[str, TimerPolicy]:
        merged = {name: policy.model_dump() for name, policy in DEFAULT_POLICIES.items()}
        for name, override in self.policies.items():
            merged[name] = {**merged.get(name, {}), **override, "name": name}
        return {name: TimerPolicy.model_validate(fields) for name, fields in merged.items()}
