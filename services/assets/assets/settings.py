from pydantic import Field

from opsdesk_shared.settings import ServiceSettings, settings_config


class AssetsSettings(ServiceSettings):
    model_config = settings_config("ASSETS_")

    service_name: str = "assets"
    port: int = 8003
    seed_demo: bool = False
    tag_prefix: str = Field(default="GZ", pattern=r"^[A-Za-z0-9]{1,10}$")
    tag_pattern: str = Field(default="{prefix}-{year}-{seq:06d}", description="Python format with prefix, year, seq")
    graph_sync_s: float = Field(default=2.0, gt=0, description="How often the relation index follows other instances")
    graph_snapshot_s: float = Field(default=300.0, gt=0, description="At most how often the relation index is "
                                    "snapshotted when it changed (a restart reads the snapshot and the log after it)")
