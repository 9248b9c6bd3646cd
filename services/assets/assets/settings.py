from opsdesk_shared.settings import ServiceSettings, settings_config


class AssetsSettings(ServiceSettings):
    model_config = settings_config("ASSETS_")

    service_name: str = "assets"
    port: int = 8003
    seed_demo: bool = False
