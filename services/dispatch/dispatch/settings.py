from typing import Literal

from opsdesk_shared.settings import ServiceSettings, settings_config


class DispatchSettings(ServiceSettings):
    model_config = settings_config("DISPATCH_")

    service_name: str = "dispatch"
    port: int = 8001
    seed_demo: bool = False
    # The demo roster's rota: the contract's (on site in office hours, the mobile engineer on the phone at other
    # times), or always on site, for test stacks whose tickets must be assigned whatever the hour they run at.
    demo_rota: Literal["contract", "always"] = "contract"
    waiting_retry_s: float = 30.0
    # The agency's replacement requests (agency/): the project manager's answer is due within this many working days
    # of the SLA monitor's calendar (asked over calendar.query; a working day is `replacement_day_minutes` of it).
    replacement_answer_working_days: int = 5
    replacement_calendar: str = "office-hours"
    replacement_day_minutes: int = 420
    calendar_timeout_s: float = 3.0
