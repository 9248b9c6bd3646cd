"""Report and form wording in zh-CN (default) and en."""

from __future__ import annotations

LANGS = ("zh-CN", "en")

TEXT: dict[str, tuple[str, str]] = {
    # report titles
    "service-summary": ("月度服务总结", "Monthly service summary"),
    "repair-summary": ("月度维修总结", "Monthly repair summary"),
    "om-monthly": ("运维月报告", "O&M monthly report"),
    "om-quarterly": ("运维季度报告", "O&M quarterly report"),
    "om-annual": ("运维年度报告", "O&M annual report"),
    "major-incident": ("重大事件服务报告", "Major incident report"),
    "inspection": ("巡检报告", "Monthly inspection report"),
    "quality-self-check": ("服务质量自检报告", "Service quality self-check"),
    "security-analysis": ("安全分析报告", "Security analysis report"),
    # sections
    "overview": ("概览", "Overview"),
    "volumes": ("服务量", "Volumes"),
    "by_service": ("按服务", "By service"),
    "by_channel": ("按渠道", "By channel"),
    "by_priority": ("按优先级", "By priority"),
    "by_department": ("按部门", "By department"),
    "by_type": ("按类型", "By type"),
    "times": ("处理时长", "Handling times"),
    "sla": ("SLA 达成率", "SLA compliance"),
    "breaches": ("SLA 违约明细", "SLA breaches"),
    "desk": ("服务台解决率", "Resolved at the desk"),
    "recurrence": ("问题复发", "Recurrence"),
    "repairs": ("设备维修", "Repairs"),
    "vendors": ("按厂商", "By vendor"),
    "top_assets": ("故障最多的资产", "Top assets by incidents"),
    "top_departments": ("故障最多的部门", "Top departments by incidents"),
    "engineers": ("工程师工作量", "Engineer workload"),
    "satisfaction": ("满意度", "Satisfaction"),
    "escalations": ("异常升级", "Escalations"),
    "majors": ("重大事件", "Major incidents"),
    "inspections": ("巡检记录", "Inspections"),
    "checks": ("自检项目", "Self-check items"),
    "timeline": ("时间线", "Timeline"),
    "security": ("安全相关服务", "Security-related tickets"),
    # columns and labels
    "item": ("项目", "Item"), "value": ("数值", "Value"), "key": ("名称", "Name"), "count": ("数量", "Count"),
    "timer": ("计时器", "Timer"), "started": ("启动", "Started"), "warned": ("预警", "Warned"), "breached": ("违约", "Breached"),
    "compliance": ("达成率", "Compliance"), "median": ("中位数(分钟)", "Median (min)"), "p90": ("P90(分钟)", "P90 (min)"),
    "mean": ("平均(分钟)", "Mean (min)"), "ticket": ("工单", "Ticket"), "due_at": ("到期时间", "Due"),
    "breached_at": ("违约时间", "Breached at"), "vendor": ("厂商", "Vendor"), "sent": ("送修", "Sent"),
    "returned": ("返回", "Returned"), "on_time": ("按时返回", "Back on time"), "update_compliance": ("进度反馈达成率", "Progress updates on time"),
    "turnaround_median": ("周转中位数(天)", "Turnaround median (days)"), "turnaround_p90": ("周转P90(天)", "Turnaround p90 (days)"),
    "engineer": ("工程师", "Engineer"), "assigned": ("派单", "Assigned"), "completed": ("完成", "Completed"),
    "resolved": ("解决", "Resolved"), "delayed": ("延误", "Delayed"), "asset": ("资产", "Asset"),
    "department": ("部门", "Department"), "score": ("评分", "Score"), "responses": ("评价数", "Responses"),
    "total_tickets": ("工单总数", "Tickets"), "resolved_total": ("已解决", "Resolved"), "at_desk": ("服务台解决", "Resolved at the desk"),
    "desk_share": ("服务台解决率", "Desk resolution share"), "target": ("目标", "Target"), "breaches_total": ("违约总数", "Breaches"),
    "repeat_share": ("同一资产90天内复发率", "Repeat on the same asset within 90 days"),
    "article_share": ("用知识库解决比例", "Resolved with a knowledge article"),
    "problem_recurrence_share": ("问题复发比例", "Recurrences among problem incidents"),
    "problems_created": ("新建问题", "Problems recorded"), "satisfaction_mean": ("平均满意度", "Mean satisfaction"),
    "reopened": ("重开", "Reopened"), "closed": ("关闭", "Closed"), "result": ("结果", "Result"), "findings": ("发现问题", "Findings"),
    "inspector": ("巡检人", "Inspector"), "inspected_at": ("巡检时间", "Inspected at"), "kind": ("类别", "Kind"),
    "check": ("检查项", "Check"), "pass": ("通过", "Pass"), "fail": ("未通过", "Fail"), "status": ("状态", "Status"),
    "period": ("期间", "Period"), "generated_at": ("生成时间", "Generated"), "title": ("标题", "Title"),
    "reported_at": ("报障时间", "Reported"), "event": ("事件", "Event"), "at": ("时间", "At"), "no_data": ("本期无数据", "No data for this period"),
    "first_response": ("首次响应", "First response"), "dispatch": ("派单", "Dispatch"), "confirmation": ("确认执行", "Confirmation"),
    "resolution": ("解决", "Resolution"), "response": ("响应", "Response"), "redispatch": ("重新派单", "Re-dispatch"),
    "escalation": ("升级上报", "Escalation"), "remote_guidance": ("远程指导", "Remote guidance"),
    "repair_progress": ("维修进度反馈", "Repair progress update"),
    "repair_return": ("维修返还", "Repair return"), "page": ("第 %d 页", "Page %d"),
    "chart_by_service": ("按服务工单量", "Tickets by service"), "chart_sla": ("各计时器达成率", "Compliance per timer"),
    "chart_times": ("处理时长(分钟)", "Handling times (min)"), "chart_vendors": ("厂商周转(天)", "Vendor turnaround (days)"),
    "chart_channel": ("按渠道工单量", "Tickets by channel"),
    # forms
    "daily-maintenance": ("日常维护单", "Daily maintenance form"),
    "equipment-repair": ("设备维修单", "Equipment repair form"),
    "spare-part": ("备件领用单", "Spare-part requisition"),
    "support-record": ("支持服务记录", "Support service record"),
    "inspection-record": ("巡检记录", "Inspection record"),
    "number": ("单号", "Number"), "requester": ("报障人", "Requester"), "phone": ("电话", "Phone"), "site": ("地点", "Site"),
    "service": ("服务", "Service"), "priority": ("优先级", "Priority"), "description": ("故障描述", "Description"),
    "record": ("处理记录", "Service record"), "resolution_text": ("解决方法", "Resolution"), "asset_tag": ("资产标签", "Asset tag"),
    "repair_id": ("维修单号", "Repair id"), "history": ("进度", "Progress"), "note": ("备注", "Note"),
    "part": ("备件名称", "Spare part"), "quantity": ("数量", "Quantity"), "signature_engineer": ("工程师签字", "Engineer signature"),
    "signature_user": ("用户签字", "User signature"), "signature_vendor": ("厂商签字", "Vendor signature"),
    "signature_keeper": ("仓管签字", "Storekeeper signature"), "date": ("日期", "Date"),
    # the deliverable's frame: cover, contents, comparison, commentary, sign-off
    "agency": ("采购人", "Agency"), "contractor": ("服务商", "Contractor"), "version": ("版本", "Version"),
    "report_date": ("编制日期", "Date"), "contents": ("目录", "Contents"), "commentary": ("本期分析", "Commentary"),
    "this_period": ("本期", "This period"), "previous_period": ("上期", "Previous period"), "change": ("变化", "Change"),
    "sign_off": ("签署确认", "Sign-off"), "prepared_by": ("编制人", "Prepared by"), "reviewed_by": ("审核人", "Reviewed by"),
    "accepted_by": ("采购人验收", "Agency acceptance"), "signature": ("签字", "Signature"),
    "reason": ("原因", "Reason"), "policy": ("计时规则", "Policy"), "first_response_note": (
        "首次响应：自报障至首次人工处理（工程师接单、服务台转派或解决）；派单：自登记至派单给工程师。",
        "First response: from the report to the first human act (the engineer accepting, the desk sending it on or "
        "resolving it); dispatch: from logging to the assignment."),
    "chart_clipped": ("注：纵轴截断于 %s，超出部分柱上标注实际数值（%s）。",
                      "Note: the axis is cut at %s; taller bars carry their real value (%s)."),
    "chart_skipped_uniform": ("各计时器达成率均为 %s，不另绘图。", "Every timer kept %s; no chart drawn."),
    "first_response_median": ("首次响应中位数(分钟)", "First response median (min)"),
    "resolution_median": ("解决时长中位数(分钟)", "Resolution median (min)"),
    "channel": ("渠道", "Channel"), "ticket_type": ("类型", "Type"),
    "minutes_unit": ("分钟", "min"), "days_unit": ("天", "days"),
    # the maintenance manual (维护手册): knowledge articles as chapters
    "maintenance-manual": ("维护手册", "Maintenance manual"), "chapter": ("第%d章", "Chapter %d"),
    "articles_count": ("收录文章", "Articles"), "published_on": ("发布日期", "Published"), "category": ("分类", "Category"),
    "article_version": ("文章版本", "Article version"), "summary": ("摘要", "Summary"),
}

# Enum values as the agency reads them: a report never shows a wire value such as `hotline` or `sent_to_vendor`.
ENUMS: dict[str, dict[str, tuple[str, str]]] = {
    "channel": {"hotline": ("热线电话", "Hotline"), "email": ("电子邮件", "E-mail"), "web": ("网页报障", "Web"),
                "api": ("系统接口", "API"), "remote_desktop": ("远程桌面", "Remote desktop"), "walk_in": ("现场报障", "Walk-in")},
    "priority": {"P1": ("P1 紧急", "P1 critical"), "P2": ("P2 高", "P2 high"), "P3": ("P3 中", "P3 medium"),
                 "P4": ("P4 低", "P4 low")},
    "type": {"incident": ("故障", "Incident"), "service_request": ("服务请求", "Service request"), "repair": ("维修", "Repair"),
             "task": ("任务", "Task")},
    "status": {"new": ("新建", "New"), "assigned": ("已派单", "Assigned"), "in_progress": ("处理中", "In progress"),
               "pending": ("挂起", "Pending"), "resolved": ("已解决", "Resolved"), "closed": ("已关闭", "Closed"),
               "cancelled": ("已取消", "Cancelled")},
    "escalation_kind": {"technical": ("技术问题", "Technical"), "other": ("其他", "Other")},
    "inspection_result": {"ok": ("正常", "OK"), "needs_work": ("需处理", "Needs work"), "minor": ("轻微", "Minor")},
    "inspection_kind": {"monthly_inspection": ("月度巡检", "Monthly inspection"),
                        "quarterly_maintenance": ("季度维护保养", "Quarterly maintenance"),
                        "disinfection": ("消毒", "Disinfection"), "dust_removal": ("除尘", "Dust removal")},
    "repair_status": {"open": ("待送修", "Open"), "sent_to_vendor": ("已送修", "Sent to vendor"),
                      "in_progress": ("维修中", "In progress"), "at_vendor": ("厂商维修中", "At the vendor"),
                      "repaired": ("已修复", "Repaired"), "returned": ("已返还", "Returned"),
                      "written_off": ("已报废", "Written off"), "closed": ("已关闭", "Closed")},
    "role": {"desk": ("服务台", "Desk"), "dispatch": ("系统派单", "Dispatch"), "engineer": ("工程师", "Engineer")},
}

# Catalog service names by code, copied from intake's catalog seed (intake/catalog.py SEED, zh-CN and en names):
# ticket.created carries only the code. A test compares this table with the seed so the copy cannot drift silently;
# a service an admin adds later shows its code until the contract carries the name (see the reporting README).
SERVICE_NAMES: dict[str, tuple[str, str]] = {
    "RP-OM-REPORT": ("日常运维服务报告", "O&M service report"),
    "RP-MAJOR-INCIDENT": ("重大事件服务报告", "Major incident report"),
    "RP-INSPECTION": ("巡检报告", "Inspection report"),
    "RP-REPAIR-FORM": ("设备维修", "Equipment repair"),
    "RP-QUALITY": ("服务质量自检", "Service quality self-check"),
    "RP-SECURITY": ("系统安全分析", "System security analysis"),
    "RP-OPTIMIZE": ("系统/网络优化分析", "System/network optimization analysis"),
    "MG-ASSESS": ("现状评估", "Current-state assessment"),
    "MG-STANDARD": ("标准化", "Standardization"),
    "MG-BASELINE": ("基线建立", "Baseline"),
    "MG-IMAGE": ("标准镜像文件预装", "Standard image pre-install"),
    "MG-TAGS": ("资产标签", "Asset tags"),
    "MG-KNOWLEDGE": ("文档、知识管理", "Documents and knowledge management"),
    "PS-TERMINAL": ("终端服务", "Terminal service"),
    "PS-TAGGING": ("资产标签张贴", "Asset tag labelling"),
    "PS-INSPECT": ("日常巡检、维护保养消毒除尘", "Routine inspection, maintenance, disinfection and dust removal"),
    "PS-EVALUATION": ("设备采购性能质量评测", "Procurement quality evaluation"),
    "PS-PROCESS": ("运维服务流程规范编撰", "O&M process specification"),
    "RS-INTAKE": ("客户服务申请受理", "Service request intake"),
    "RS-ONSITE": ("现场维护", "On-site maintenance"),
    "RS-SPARE": ("备件紧急服务", "Emergency spare parts"),
    "RS-REPAIR": ("设备维修", "Equipment repair"),
    "RS-VENDOR": ("第三方维修管理", "Third-party repair management"),
    "RS-OTHER": ("其他支持服务", "Other support"),
}
EMPTY = "—"


def t(key: str, lang: str) -> str:
    zh, en = TEXT.get(key, (key, key))
    return en if lang == "en" else zh


def label(dim: str, value: object, lang: str) -> str:
    """An enum value in the reader's words; an empty value is the dash, an unknown one is shown as it came."""
    if value is None or value == "":
        return EMPTY
    zh_en = ENUMS.get(dim, {}).get(str(value))
    return str(value) if zh_en is None else zh_en[1 if lang == "en" else 0]


def service_name(code: object, lang: str, learned: dict[str, str] | None = None) -> str:
    """A catalog service by name: a name learned from events wins over the seed's copy; unknown codes stay codes."""
    if code is None or code == "":
        return EMPTY
    if learned and learned.get(str(code)):
        return learned[str(code)]
    zh_en = SERVICE_NAMES.get(str(code))
    return str(code) if zh_en is None else zh_en[1 if lang == "en" else 0]
