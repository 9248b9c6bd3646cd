from pydantic import Field

from opsdesk_shared.settings import ServiceSettings, settings_config


class KnowledgeSettings(ServiceSettings):
    model_config = settings_config("KNOWLEDGE_")

    service_name: str = "knowledge"
    port: int = 8005
    seed_demo: bool = False

    suggestion_count: int = Field(default=3, ge=1, le=10, description="Articles suggested per new ticket")
    index_refresh_s: float = Field(default=2.0, gt=0, description="How often other instances' changes are picked up")
    jieba_cache_dir: str = Field(default="", description="Writable dir for jieba's dictionary cache; empty: the temp dir")

    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, description="Largest file; bigger answers 413")

    candidate_window_days: float = Field(default=30.0, gt=0, description="How far back incidents are compared")
    candidate_asset_threshold: float = Field(default=0.25, ge=0, le=1, description="Text similarity on the same asset")
    candidate_service_threshold: float = Field(default=0.5, ge=0, le=1, description="Text similarity on the same service")

    escalate_after_days: float = Field(default=7.0, gt=0, description="Escalate a problem with no root cause after this")
    escalation_notify: list[str] = Field(
        default=["eng-senior-1", "eng-pm-1"], description="Who an escalated problem goes to: senior engineers and the PM"
    )
    escalation_check_s: float = Field(default=600.0, gt=0)
