from typing import Any

from pydantic import Field

from opsdesk_shared.settings import ServiceSettings, settings_config

from .domain import DEFAULT_POLICIES, TimerPolicy
from .escalation import DEFAULT_CHAIN, EscalationLevel
from .notifications.channels import NotifyChannel
from .policy_book import ContactSet, PolicySet, settings_policies


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
    # Emergency work goes out before the agency authorizes it; its authorization is due within these working hours
    # (the `authorization` clock; SLA_POLICIES can still override the policy as a whole).
    authorization_working_hours: float = Field(default=4.0, gt=0)
    # Overrides per catalog service and priority, as JSON in SLA_SERVICE_POLICIES: keys "<service>:<priority>" with
    # "*" for any, e.g. {"*:P1": {"response": {"business_minutes": 30}}}. The most specific key wins
    # (service and priority, then service, then priority). They apply to the clocks ticket.created starts.
    service_policies: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)
    # Pending reasons that hold the clocks (the contract stops counting while the agency's side is awaited).
    pause_on_pending: tuple[str, ...] = ("requester", "vendor", "parts")

    # The escalation chain as JSON (levels with role, after_minutes, emails, webhooks); empty levels notify nobody.
    escalation: tuple[EscalationLevel, ...] = DEFAULT_CHAIN
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "opsdesk@localhost"
    notify_interval_s: float = Field(default=1.0, gt=0)
    notify_max_attempts: int = Field(default=5, ge=1)
    notify_backoff_s: float = Field(default=30.0, gt=0)
    # Channels people are reached on, as JSON in SLA_NOTIFY_CHANNELS: {"desk-wecom": {"kind": "wecom", "url":
    # "wecombot://KEY", "name": "运维值班群"}, ...}. The URLs are secrets (apprise URLs with keys and tokens).
    notify_channels: dict[str, NotifyChannel] = Field(default_factory=dict)
    # Per apprise schema, another endpoint for a plugin that posts to a fixed vendor host (a relay; the tests' stand-ins),
    # e.g. {"wecombot": "http://127.0.0.1:9000/cgi-bin/webhook/send?key={key}"} (notifications/apprise_sender.py).
    notify_endpoints: dict[str, str] = Field(default_factory=dict)

    def policy_set(self) -> PolicySet:
        """The environment's policies: what the service runs while an administrator has stored none (policy_book)."""
        return settings_policies(self.timer_policies(), self.service_policies)

    def contact_set(self) -> ContactSet:
        """The environment's escalation chain: what runs while an administrator has stored none."""
        return ContactSet(levels=self.escalation)

    def policy_for(self, name: str, *, service_code: str, priority: str) -> TimerPolicy:
        """The policy a ticket of this service and priority runs for timer `name`."""
        base = self.timer_policies()[name]
        for key in (f"{service_code}:{priority}", f"{service_code}:*", f"*:{priority}"):
            override = self.service_policies.get(key, {}).get(name)
            if override:
                return TimerPolicy.model_validate({**base.model_dump(), **override, "name": name})
        return base

    def timer_policies(self) -> dict[str, TimerPolicy]:
        merged = {name: policy.model_dump() for name, policy in DEFAULT_POLICIES.items()}
        merged["authorization"]["business_minutes"] = self.authorization_working_hours * 60
        for name, override in self.policies.items():
            merged[name] = {**merged.get(name, {}), **override, "name": name}
        return {name: TimerPolicy.model_validate(fields) for name, fields in merged.items()}
