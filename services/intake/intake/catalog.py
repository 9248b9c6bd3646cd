"""The contract's responsive services (響應式服務), the ones a ticket can name until the full catalog lands."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class CatalogService(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name_zh: str
    name_en: str
    deliverable_zh: str
    skill: str
    default_priority: str = "P3"


RESPONSIVE_SERVICES: tuple[CatalogService, ...] = (
    CatalogService(code="RS-INTAKE", name_zh="客戶服務申請受理", name_en="Service request intake", deliverable_zh="日常維護單", skill="desktop"),
    CatalogService(code="RS-ONSITE", name_zh="現場維護", name_en="On-site maintenance", deliverable_zh="日常維護單", skill="desktop"),
    CatalogService(code="RS-SPARE", name_zh="備件緊急服務", name_en="Emergency spare parts", deliverable_zh="日常維護單/備件領用單", skill="desktop", default_priority="P2"),
    CatalogService(code="RS-REPAIR", name_zh="設備維修", name_en="Equipment repair", deliverable_zh="設備維修單", skill="printer"),
    CatalogService(code="RS-VENDOR", name_zh="第三方維修管理", name_en="Third-party repair management", deliverable_zh="設備送修單", skill="printer"),
    CatalogService(code="RS-OTHER", name_zh="其他支持服務", name_en="Other support", deliverable_zh="支持服務記錄", skill="application"),
)

BY_CODE = {s.code: s for s in RESPONSIVE_SERVICES}
