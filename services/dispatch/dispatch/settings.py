from opsdesk_shared.settings import ServiceSettings, settings_config


class DispatchSettings(ServiceSettings):
    model_config = settings_config("DISPATCH_")

    service_name: str = "dispatch"
    port: int = 8001
    seed_demo: bool = False
    waiting_retry_s: float = 30.0
