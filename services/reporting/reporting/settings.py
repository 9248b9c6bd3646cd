from pydantic import Field

from opsdesk_shared.settings import ServiceSettings, settings_config

from .reports import Parties


class ReportingSettings(ServiceSettings):
    model_config = settings_config("REPORTING_")

    service_name: str = "reporting"
    port: int = 8004
    max_body_bytes: int = 64 * 1024

    # Scheduled reports.
    schedule_enabled: bool = True
    schedule_interval_s: float = Field(default=300.0, gt=0, description="How often the report calendar is checked")
    settle_minutes: float = Field(default=60.0, ge=0, description="Wait after a period closes before generating")
    report_langs: list[str] = Field(default_factory=lambda: ["zh-CN"], description="Languages each scheduled report is stored in")
    webhook_urls: list[str] = Field(default_factory=list, description="POSTed a JSON notice for each generated report")
    email_to: list[str] = Field(default_factory=list, description="Get each generated report as PDF and XLSX attachments")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "opsdesk-reports@localhost"
    download_base: str = Field(default="http://127.0.0.1:8080", description="Gateway address the delivered links point at")
    articles_timeout_s: float = Field(default=5.0, gt=0, description="How long the manual waits for knowledge's articles")
    security_service_prefixes: list[str] = Field(default_factory=lambda: ["SEC"])
    # The deliverable's cover and sign-off: who delivers the reports to whom (the contract's parties by default).
    agency_name: str = Field(default="广州市工商行政管理局", min_length=1, max_length=100, description="The agency (采购人) on the cover")
    contractor_name: str = Field(default="越维科技", min_length=1, max_length=100, description="The contractor (服务商) on the cover")
    report_version: str = Field(default="1.0", max_length=20, description="Version printed on the report cover")

    def parties(self) -> Parties:
        return Parties(agency=self.agency_name, contractor=self.contractor_name, version=self.report_version)
