"""What dispatch says, in the caller's language (zh-CN, zh-TW, en): decision reasons and error texts.

A decision is stored as a code with its parameters (`reason_code`, `reason_params` on the assignment and in the
events), never only as English prose: each edge renders it for its reader. The reasons' catalogue is shared with the
contracts (opsdesk_shared.contracts.reasons) so every service that shows one says it the same way; the error texts
here are dispatch's own, rendered through the services' one machinery (opsdesk_shared.catalogue). The English `reason` kept beside the code is the staff's internal note for older consumers.
"""

from __future__ import annotations

from opsdesk_shared.catalogue import Catalogue
from opsdesk_shared.contracts.reasons import REASONS, Param, Params, render_reason

ERRORS: dict[str, tuple[str, str, str]] = {
    # The agency's oversight (agency/): work it has not authorized, replacement requests.
    "err.unauthorized_work": (
        "工单 {ticket} 未经信息中心授权（{state}），不能执行「{step}」；此操作已记录为安全事件",
        "工單 {ticket} 未經資訊中心授權（{state}），不能執行「{step}」；此操作已記錄為安全事件",
        "ticket {ticket} is not authorized by the agency ({state}): no {step}; the attempt is recorded as a security incident",
    ),
    "err.no_replacement": ("工程师 {engineer} 没有更换人员申请 {request}", "工程師 {engineer} 沒有更換人員申請 {request}",
                           "no replacement request {request} for engineer {engineer}"),
    "err.agency_asks_replacement": ("更换人员申请只能由信息中心管理人员提出", "更換人員申請只能由資訊中心管理人員提出",
                                    "only the agency asks for an engineer to be replaced"),
    "err.manager_answers_replacement": ("更换人员申请由项目经理答复", "更換人員申請由項目經理答覆",
                                        "the project manager answers replacement requests"),
    "err.read_replacements": ("角色 {role} 不能查看更换人员申请", "角色 {role} 不能查看更換人員申請", "role {role} may not read replacement requests"),
    "err.replacement_answered": ("更换人员申请 {request} 已答复", "更換人員申請 {request} 已答覆", "replacement request {request} is answered already"),
    "err.replace_by_past": ("更换日期不能早于今天", "更換日期不能早於今天", "replace_by cannot be before today"),
    # Error texts (the `detail` of a 403, 404, 409 or a field's `msg` in a 422).
    "err.no_access": ("角色 {role} 无权使用派工服务", "角色 {role} 無權使用派工服務", "role {role} has no access to dispatch"),
    "err.not_holder": (
        "{subject} 不是工单 {ticket} 的负责工程师",
        "{subject} 不是工單 {ticket} 的負責工程師",
        "{subject} does not hold the assignment of ticket {ticket}",
    ),
    "err.role_step": ("角色 {role} 不能执行「{step}」", "角色 {role} 不能執行「{step}」", "role {role} may not {step} an assignment"),
    "err.not_notified": (
        "{subject} 不在该升级通知的对象之中",
        "{subject} 不在該升級通知的對象之中",
        "{subject} is not among those the escalation was raised to",
    ),
    "err.read_assignments": ("角色 {role} 不能查看派工记录", "角色 {role} 不能查看派工記錄", "role {role} may not read assignments"),
    "err.read_escalations": ("角色 {role} 不能查看升级记录", "角色 {role} 不能查看升級記錄", "role {role} may not read escalations"),
    "err.own_list": ("{subject} 只能查看自己的派工", "{subject} 只能查看自己的派工", "{subject} may list only their own assignments"),
    "err.read_roster": ("角色 {role} 不能查看工程师名册", "角色 {role} 不能查看工程師名冊", "role {role} may not read the roster"),
    "err.edit_roster": ("角色 {role} 不能修改工程师名册", "角色 {role} 不能修改工程師名冊", "role {role} may not edit the roster"),
    "err.set_status": ("{subject} 不能设置 {engineer} 的状态", "{subject} 不能設定 {engineer} 的狀態", "{subject} may not set the status of {engineer}"),
    "err.no_assignment": ("工单 {ticket} 没有派工记录", "工單 {ticket} 沒有派工記錄", "ticket {ticket} has no assignment"),
    "err.no_engineer": ("名册中没有工程师 {engineer}", "名冊中沒有工程師 {engineer}", "no engineer {engineer} on the roster"),
    "err.no_escalation": ("工单 {ticket} 没有升级记录 {escalation}", "工單 {ticket} 沒有升級記錄 {escalation}", "no escalation {escalation} on ticket {ticket}"),
    "err.illegal_step": (
        "派工处于「{status}」状态，不能执行「{step}」",
        "派工處於「{status}」狀態，不能執行「{step}」",
        "cannot {step} an assignment that is {status}",
    ),
    "err.same_engineer": ("{engineer} 已负责此工单", "{engineer} 已負責此工單", "{engineer} already has this ticket"),
    "err.acknowledged": ("升级 {escalation} 已确认过", "升級 {escalation} 已確認過", "escalation {escalation} is already acknowledged"),
    "err.not_waiting": ("工单 {ticket} 不在等待派工", "工單 {ticket} 不在等待派工", "ticket {ticket} is not waiting"),
    "err.changed": ("派工记录已被他人修改，请重新读取后再试", "派工記錄已被他人修改，請重新讀取後再試", "the assignment changed meanwhile; reload and retry"),
    "err.eta_past": ("预计到达时间 {eta} 已过，请填写将来的时间", "預計到達時間 {eta} 已過，請填寫將來的時間", "the ETA {eta} is already past; give a time to come"),
    "err.cursor": ("游标无效", "游標無效", "cursor is not valid"),
    "err.cursor_list": ("游标不属于{kind}列表", "游標不屬於{kind}列表", "cursor does not belong to the {kind} list"),
}


VISIT_NOTES: dict[str, tuple[str, str, str]] = {
    # How the engineer gets to the work (the assignment's `visit_note`, from `visit_note_code` and its parameters).
    "visit.remote": ("远程处理：远程桌面或电话", "遠端處理：遠端桌面或電話", "remote: by remote desktop or phone"),
    "visit.equipment": ("需用车：设备需运送至供应商", "需用車：設備需運送至供應商", "vehicle: equipment to carry to the vendor"),
    "visit.other_site": ("需用车：{site} 不在 {home_site}", "需用車：{site} 不在 {home_site}", "vehicle: {site} is not {home_site}"),
    "visit.same_site": ("步行：同一栋楼", "步行：同一棟樓", "on foot: same building"),
}

TEMPLATES: dict[str, tuple[str, str, str]] = {**REASONS, **ERRORS, **VISIT_NOTES}
__all__ = ["CATALOGUE", "ERRORS", "TEMPLATES", "VISIT_NOTES", "Param", "Params", "Said", "render"]


def render(code: str, params: Params, language: str) -> str:
    """A reason or an error text in `language` (English for one we do not have)."""
    return render_reason(code, params, language, templates=TEMPLATES)


CATALOGUE = Catalogue(TEMPLATES, renderer=render)


class Said(Exception):
    """An exception whose text is a catalogue code with parameters, rendered in the caller's language at the edge.
    Its one argument is the shared `catalogue.Said` (a str, the English text), so `said_of` and `localise` of
    opsdesk_shared.catalogue read it as they read every service's."""

    def __init__(self, code: str, **params: Param) -> None:
        said = CATALOGUE.said(code, **params)
        self.code = code
        self.params: dict[str, Param] = said.params
        super().__init__(said)

    def text(self, language: str) -> str:
        return CATALOGUE.render(self.code, self.params, language)
