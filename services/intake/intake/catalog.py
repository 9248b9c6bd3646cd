"""The service catalog: the contract's four service families (1.1.1-1.1.4) as data, seeded on first start.

Each service decides what a ticket naming it is: its type, default priority, the SLA profile the SLA monitor applies,
and the skill dispatch looks for. Admins edit it at run time; this module holds the model and the seed only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Family = Literal["reporting", "management", "proactive", "responsive"]
TicketType = Literal["incident", "service_request", "repair", "task"]
Priority = Literal["P1", "P2", "P3", "P4"]
# responsive: the contract's response/dispatch/confirmation clocks run (1 working hour, 10 and 30 minutes);
# scheduled: a deliverable due on a calendar (monthly report, quarterly inspection), no response clock;
# project: once or per customer plan, tracked as a task without a clock.
SlaProfile = Literal["responsive", "scheduled", "project"]
Cadence = Literal[
    "on_demand", "per_incident", "weekly", "monthly", "quarterly", "periodic", "once", "per_plan", "as_built"
]


class Labels(BaseModel):
    """One text in the three languages the agency reads: Simplified, Traditional (the contract's own) and English."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    zh_cn: str = Field(alias="zh-CN", min_length=1, max_length=200)
    zh_tw: str = Field(alias="zh-TW", min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)

    def pick(self, language: str) -> str:
        return {"zh-CN": self.zh_cn, "zh-TW": self.zh_tw}.get(language, self.en)


class CatalogService(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=r"^[A-Z]{2}-[A-Z0-9-]{2,30}$")
    family: Family
    name: Labels
    deliverable: Labels
    service_level: Labels
    cadence: Cadence
    ticket_type: TicketType
    default_priority: Priority = "P3"
    sla_profile: SlaProfile
    skill: str = Field(default="desktop", max_length=40, description="What dispatch matches engineers on")
    desk_first: bool = Field(
        default=False,
        description="Tickets for it stay with the desk for remote guidance (up to the contract's 5 minutes) before "
        "dispatch assigns; a ticket's own desk_first overrides it",
    )
    requires_authorization: bool = Field(
        default=False,
        description="Work on it happens only after the agency (信息中心) authorizes it (contract 1.3.1): a ticket starts "
        "awaiting_authorization and nobody is dispatched until the agency approves (or a standing authorization covers it)",
    )
    active: bool = True
    version: int = 1


def _l(zh_tw: str, zh_cn: str, en: str) -> Labels:
    return Labels.model_validate({"zh-TW": zh_tw, "zh-CN": zh_cn, "en": en})


ONSITE_5X8 = _l("5X8駐場/其余時間電話", "5X8驻场/其余时间电话", "5x8 on site, phone at other times")


def _svc(code: str, family: Family, name: Labels, deliverable: Labels, level: Labels, cadence: Cadence, *,
         ticket_type: TicketType, profile: SlaProfile, priority: Priority = "P3", skill: str = "desktop",
         desk_first: bool = False) -> CatalogService:
    return CatalogService(
        code=code, family=family, name=name, deliverable=deliverable, service_level=level, cadence=cadence,
        ticket_type=ticket_type, default_priority=priority, sla_profile=profile, skill=skill, desk_first=desk_first,
    )


SEED: tuple[CatalogService, ...] = (
    # 1.1.1 報告服務 (reporting)
    _svc("RP-OM-REPORT", "reporting", _l("日常運維服務報告", "日常运维服务报告", "O&M service report"),
         _l("運維月/季/年報告", "运维月/季/年报告", "Monthly/quarterly/annual O&M report"),
         _l("月度/季度/年度", "月度/季度/年度", "Monthly, quarterly, annual"), "periodic",
         ticket_type="task", profile="scheduled", priority="P4", skill="reporting"),
    _svc("RP-MAJOR-INCIDENT", "reporting", _l("重大事件服務報告", "重大事件服务报告", "Major incident report"),
         _l("重大事件服務報告", "重大事件服务报告", "Major incident service report"),
         _l("按事件發生情況", "按事件发生情况", "Per incident"), "per_incident",
         ticket_type="task", profile="scheduled", priority="P2", skill="reporting"),
    _svc("RP-INSPECTION", "reporting", _l("巡檢報告", "巡检报告", "Inspection report"),
         _l("巡檢工作記錄", "巡检工作记录", "Inspection work record"), _l("月度", "月度", "Monthly"), "monthly",
         ticket_type="task", profile="scheduled", priority="P4", skill="reporting"),
    _svc("RP-REPAIR-FORM", "reporting", _l("設備維修", "设备维修", "Equipment repair"),
         _l("設備維修單", "设备维修单", "Equipment repair form"), ONSITE_5X8, "on_demand",
         ticket_type="repair", profile="responsive", skill="printer"),
    _svc("RP-QUALITY", "reporting", _l("服務質量自檢", "服务质量自检", "Service quality self-check"),
         _l("服務質量自檢報告", "服务质量自检报告", "Service quality self-check report"), _l("每月", "每月", "Monthly"),
         "monthly", ticket_type="task", profile="scheduled", priority="P4", skill="reporting"),
    _svc("RP-SECURITY", "reporting", _l("系統安全分析", "系统安全分析", "System security analysis"),
         _l("安全分析報告", "安全分析报告", "Security analysis report"), _l("每月", "每月", "Monthly"), "monthly",
         ticket_type="task", profile="scheduled", priority="P4", skill="security"),
    _svc("RP-OPTIMIZE", "reporting", _l("系統/網絡優化分析", "系统/网络优化分析", "System/network optimization analysis"),
         _l("系統/網絡優化建議", "系统/网络优化建议", "System/network optimization advice"),
         _l("按客戶計劃", "按客户计划", "Per customer plan"), "per_plan",
         ticket_type="task", profile="project", priority="P4", skill="network"),
    # 1.1.2 管理類服務 (management)
    _svc("MG-ASSESS", "management", _l("現狀評估", "现状评估", "Current-state assessment"),
         _l("評估報告", "评估报告", "Assessment report"), _l("1次", "1次", "Once"), "once",
         ticket_type="task", profile="project", priority="P4", skill="reporting"),
    _svc("MG-STANDARD", "management", _l("標準化", "标准化", "Standardization"),
         _l("標準與流程定制", "标准与流程定制", "Standards and processes"), _l("1次", "1次", "Once"), "once",
         ticket_type="task", profile="project", priority="P4", skill="reporting"),
    _svc("MG-BASELINE", "management", _l("基線建立", "基线建立", "Baseline"),
         _l("基線建立報告", "基线建立报告", "Baseline report"), _l("1次", "1次", "Once"), "once",
         ticket_type="task", profile="project", priority="P4", skill="desktop"),
    _svc("MG-IMAGE", "management", _l("標準鏡像文件預裝", "标准镜像文件预装", "Standard image pre-install"),
         _l("按客戶使用的基準鏡像", "按客户使用的基准镜像", "The customer's baseline image"),
         _l("隨建設更新", "随建设更新", "Kept current with the build-out"), "as_built",
         ticket_type="service_request", profile="responsive", priority="P4", skill="desktop"),
    _svc("MG-TAGS", "management", _l("資產標簽", "资产标签", "Asset tags"), _l("資產標簽", "资产标签", "Asset tags"),
         _l("1次", "1次", "Once"), "once", ticket_type="task", profile="project", priority="P4", skill="desktop"),
    _svc("MG-KNOWLEDGE", "management", _l("文檔、知識管理", "文档、知识管理", "Documents and knowledge management"),
         _l("文檔管理庫/知識庫", "文档管理库/知识库", "Document library / knowledge base"),
         _l("每周更新", "每周更新", "Updated weekly"), "weekly",
         ticket_type="task", profile="scheduled", priority="P4", skill="application"),
    # 1.1.3 主動式服務 (proactive)
    _svc("PS-TERMINAL", "proactive", _l("終端服務", "终端服务", "Terminal service"),
         _l("服務所需備配件購買、設置;配置庫/配置清單", "服务所需备配件购买、设置;配置库/配置清单",
            "Spare parts purchase and set-up; configuration list"),
         _l("每月補充", "每月补充", "Replenished monthly"), "monthly",
         ticket_type="service_request", profile="scheduled", priority="P4", skill="desktop"),
    _svc("PS-TAGGING", "proactive", _l("資產標簽張貼", "资产标签张贴", "Asset tag labelling"),
         _l("資產庫/資產清單", "资产库/资产清单", "Asset register"), _l("1次", "1次", "Once"), "once",
         ticket_type="task", profile="project", priority="P4", skill="desktop"),
    _svc("PS-INSPECT", "proactive", _l("日常巡檢、維護保養消毒除塵", "日常巡检、维护保养消毒除尘",
                                         "Routine inspection, maintenance, disinfection and dust removal"),
         _l("巡檢記錄", "巡检记录", "Inspection record"), _l("每季度", "每季度", "Quarterly"), "quarterly",
         ticket_type="task", profile="scheduled", priority="P4", skill="desktop"),
    _svc("PS-EVALUATION", "proactive", _l("設備采購性能質量評測", "设备采购性能质量评测", "Procurement quality evaluation"),
         _l("測試報告", "测试报告", "Test report"), _l("按客戶計劃", "按客户计划", "Per customer plan"), "per_plan",
         ticket_type="task", profile="project", priority="P4", skill="desktop"),
    _svc("PS-PROCESS", "proactive", _l("運維服務流程規范編撰", "运维服务流程规范编撰", "O&M process specification"),
         _l("管理規范建議書", "管理规范建议书", "Management specification proposal"),
         _l("按客戶計劃", "按客户计划", "Per customer plan"), "per_plan",
         ticket_type="task", profile="project", priority="P4", skill="reporting"),
    # 1.1.4 響應式服務 (responsive): all 5x8 on site, phone at other times
    _svc("RS-INTAKE", "responsive", _l("客戶服務申請受理", "客户服务申请受理", "Service request intake"),
         _l("日常維護單", "日常维护单", "Daily maintenance form"), ONSITE_5X8, "on_demand",
         ticket_type="service_request", profile="responsive"),
    _svc("RS-ONSITE", "responsive", _l("現場維護", "现场维护", "On-site maintenance"),
         _l("日常維護單", "日常维护单", "Daily maintenance form"), ONSITE_5X8, "on_demand",
         ticket_type="incident", profile="responsive"),
    _svc("RS-SPARE", "responsive", _l("備件緊急服務", "备件紧急服务", "Emergency spare parts"),
         _l("日常維護單/備件領用單", "日常维护单/备件领用单", "Maintenance form and spare-part requisition"),
         ONSITE_5X8, "on_demand", ticket_type="incident", profile="responsive", priority="P2"),
    _svc("RS-REPAIR", "responsive", _l("設備維修", "设备维修", "Equipment repair"),
         _l("設備維修單", "设备维修单", "Equipment repair form"), ONSITE_5X8, "on_demand",
         ticket_type="repair", profile="responsive", skill="printer"),
    _svc("RS-VENDOR", "responsive", _l("第三方維修管理", "第三方维修管理", "Third-party repair management"),
         _l("設備送修單", "设备送修单", "Send-out form"), ONSITE_5X8, "on_demand",
         ticket_type="repair", profile="responsive", skill="printer"),
    _svc("RS-OTHER", "responsive", _l("其他支持服務", "其他支持服务", "Other support"),
         _l("支持服務記錄", "支持服务记录", "Support record"), ONSITE_5X8, "on_demand",
         ticket_type="service_request", profile="responsive", skill="application",
         # Software, account and how-to questions: most end on the phone with the desk (remote guidance first).
         desk_first=True),
)

SEED_BY_CODE = {s.code: s for s in SEED}
