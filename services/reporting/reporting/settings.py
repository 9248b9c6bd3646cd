from opsdesk_shared.settings import ServiceSettings, settings_config


class ReportingSettings(ServiceSettings):
    model_config = settings_config("REPORTING_")

    service_name: str = "reporting"
    port: int = 8004
