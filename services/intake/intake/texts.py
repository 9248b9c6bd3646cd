"""What the desk says when it refuses, in the caller's language (zh-CN, zh-TW, en), as dispatch does (dispatch/texts.py).

A refusal is raised with a `Said`: a catalogue code with its parameters. `Said` is a `str` whose value is the English
text, so logs, `str(exc)` and older callers keep working; the edge (entrypoints/errors.py) renders it in the
caller's language (Accept-Language, chosen by opsdesk_shared.errors.language) for the one error shape's `detail` or a
field's `msg`. The machinery is the services' one (opsdesk_shared.catalogue); this module keeps the table and
its words. Requesters' notices are messages.py; this module is only refusals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opsdesk_shared import catalogue
from opsdesk_shared.catalogue import Catalogue, language_of, localise, said_of

# Ticket states and acts as people read them (a parameter named *status/current/target, action, roles).
STATUS: dict[str, tuple[str, str, str]] = {
    "new": ("新建", "新建", "new"),
    "assigned": ("已指派", "已指派", "assigned"),
    "in_progress": ("处理中", "處理中", "in progress"),
    "pending": ("挂起", "掛起", "pending"),
    "resolved": ("已解决", "已解決", "resolved"),
    "closed": ("已关闭", "已關閉", "closed"),
    "cancelled": ("已取消", "已取消", "cancelled"),
    "awaiting_authorization": ("待信息中心授权", "待資訊中心授權", "awaiting the agency's authorization"),
    "authorization": ("授权", "授權", "authorization"),
    "dispatch": ("转派工", "轉派工", "sent to dispatch"),
    "guidance": ("远程指导", "遠程指導", "remote guidance"),
}
ACTIONS: dict[str, tuple[str, str, str]] = {
    "create": ("提交工单", "提交工單", "create tickets"),
    "edit": ("修改工单", "修改工單", "edit tickets"),
    "override_priority": ("指定优先级", "指定優先級", "override the priority"),
    "work": ("处理工单", "處理工單", "work on tickets"),
    "resolve_at_desk": ("在服务台解决工单", "在服務台解決工單", "resolve at the desk"),
    "cancel": ("取消工单", "取消工單", "cancel tickets"),
    "close": ("关闭工单", "關閉工單", "close tickets"),
    "reopen": ("重新打开工单", "重新開啟工單", "reopen tickets"),
    "comment": ("发表评论", "發表評論", "comment"),
    "internal_note": ("写内部备注", "寫內部備註", "write internal notes"),
    "service_record": ("填写服务记录", "填寫服務記錄", "write service records"),
    "review": ("审核服务记录", "審核服務記錄", "review service records"),
    "read_history": ("查看变更历史", "查看變更歷史", "read the change history"),
    "rate": ("评价服务", "評價服務", "rate the service"),
}
ROLES: dict[str, tuple[str, str, str]] = {
    "requester": ("报修人", "報修人", "requester"), "agent": ("服务台坐席", "服務台坐席", "agent"),
    "engineer": ("工程师", "工程師", "engineer"), "manager": ("经理", "經理", "manager"),
    "auditor": ("审计员", "稽核員", "auditor"), "admin": ("管理员", "管理員", "admin"),
    "agency": ("信息中心管理人员", "資訊中心管理人員", "agency (information centre)"),
    "service": ("服务账号", "服務帳號", "service"),
}

ERRORS: dict[str, tuple[str, str, str]] = {
    # 404
    "err.standing_not_found": ("找不到长期授权 {id}", "找不到長期授權 {id}", "standing authorization {id} not found"),
    "err.decline_note": ("拒绝授权须写明理由（报修人将看到）", "拒絕授權須寫明理由（報修人將看到）",
                         "a decline needs a note: the requester reads it as the reason"),
    "err.standing_past": ("有效期不能早于今天", "有效期不能早於今天", "valid_until is already past"),
    "err.ticket_not_found": ("找不到工单 {ticket}", "找不到工單 {ticket}", "ticket {ticket} not found"),
    "err.user_not_found": ("找不到用户 {user}", "找不到使用者 {user}", "user {user} not found"),
    "err.key_not_found": ("找不到 API 密钥 {key}", "找不到 API 金鑰 {key}", "API key {key} not found"),
    "err.key_revoked": ("API 密钥 {key} 已吊销，请重新创建", "API 金鑰 {key} 已撤銷，請重新建立", "API key {key} is revoked; create it again"),
    # 403
    "err.auditor_readonly": ("审计员只能查看，不能修改", "稽核員只能查看，不能修改", "auditors read everything and change nothing"),
    "err.agency_readonly": ("信息中心管理人员可以查看全部记录，但只做授权等自己的决定，不修改运维团队的记录",
                            "資訊中心管理人員可以查看全部記錄，但只做授權等自己的決定，不修改運維團隊的記錄",
                            "the agency reads everything and changes none of the team's records; it decides authorizations"),
    "err.agency_only": ("工作授权只能由信息中心管理人员决定，运维团队不能授权自己的工作",
                        "工作授權只能由資訊中心管理人員決定，運維團隊不能授權自己的工作",
                        "only the agency (information centre) authorizes work; the team cannot authorize its own"),
    "err.standing_agency_only": ("长期授权只能由信息中心管理人员设立和修改", "長期授權只能由資訊中心管理人員設立和修改",
                                 "only the agency sets and changes standing authorizations"),
    "err.standing_readers": ("长期授权仅供信息中心、服务台、经理和审计员查看", "長期授權僅供資訊中心、服務台、經理和稽核員查看",
                             "standing authorizations are for the agency, the desk, managers and auditors"),
    "err.rate_own": ("满意度评价只能由报修人本人给出；服务台关闭工单时不带评价", "滿意度評價只能由報修人本人給出；服務台關閉工單時不帶評價",
                     "the satisfaction score is the requester's own; the desk closes without one"),
    "err.engineer_may_not": ("工程师不能{action}，请联系服务台", "工程師不能{action}，請聯絡服務台", "engineers may not {action}; ask the desk"),
    "err.not_assigned_to_you": ("此工单未指派给您", "此工單未指派給您", "this ticket is not assigned to you"),
    "err.requester_may_not": ("报修人不能{action}", "報修人不能{action}", "requesters may not {action}"),
    "err.cancel_not_own": ("只能取消自己提交的工单", "只能取消自己提交的工單", "requesters may cancel only their own tickets"),
    "err.owner_only": ("只有报修人本人可以关闭和评价工单", "只有報修人本人可以關閉和評價工單", "only the ticket's own requester closes and rates it"),
    "err.not_your_ticket": ("这不是您的工单", "這不是您的工單", "not your ticket"),
    "err.history_desk": ("变更历史仅供服务台和审计员查看", "變更歷史僅供服務台和稽核員查看", "the change history is for the desk and auditors"),
    "err.desk_managers_auditors": ("仅供服务台、经理和审计员查看", "僅供服務台、經理和稽核員查看", "for the desk, managers and auditors"),
    "err.engineer_record_dispatch": ("工程师通过派工完工时提交服务记录", "工程師透過派工完工時提交服務記錄",
                                     "engineers complete the work with the service record through dispatch: {path}"),
    "err.auditor_read_only_access": ("审计员只有只读权限", "稽核員只有唯讀權限", "auditors have read-only access"),
    "err.requires_role": ("需要以下角色之一：{roles}", "需要以下角色之一：{roles}", "requires role {roles}"),
    "err.api_key_no_password": ("API 密钥没有密码", "API 金鑰沒有密碼", "API keys have no password"),
    "err.password_wrong": ("当前密码不正确", "目前密碼不正確", "current password is wrong"),
    # 401 / 429 / 503
    "err.bad_login": ("用户名或密码错误", "使用者名稱或密碼錯誤", "invalid username or password"),
    "err.throttled": ("失败次数过多，请 {seconds} 秒后再试", "失敗次數過多，請 {seconds} 秒後再試", "too many failed attempts; retry in {seconds} s"),
    "err.roster_unavailable": ("暂时无法核对工程师名册，请稍后再试", "暫時無法核對工程師名冊，請稍後再試", "cannot check the roster link: {why}"),
    "err.no_bearer": ("缺少身份凭证（Bearer 令牌）", "缺少身分憑證（Bearer 權杖）", "missing bearer token"),
    "err.token_too_long": ("令牌过长", "權杖過長", "bearer token too long"),
    "err.token_malformed": ("令牌格式不正确", "權杖格式不正確", "token malformed"),
    "err.token_invalid": ("令牌无效或已过期，请重新登录", "權杖無效或已過期，請重新登入", "{why}"),
    "err.token_user_unknown": ("令牌对应的用户不存在", "權杖對應的使用者不存在", "token user unknown"),
    "err.user_disabled": ("该用户已停用", "該使用者已停用", "user disabled"),
    "err.token_revoked": ("令牌已失效（签发后密码已修改或用户已停用），请重新登录", "權杖已失效（簽發後密碼已修改或使用者已停用），請重新登入",
                          "token revoked (password changed or user disabled since issue)"),
    "err.stream_ticket_invalid": ("事件流票据无效或已过期，请重新获取", "事件串流票證無效或已過期，請重新取得", "event stream ticket refused: {why}"),
    "err.key_unknown": ("未知的 API 密钥", "未知的 API 金鑰", "unknown API key"),
    "err.key_revoked_auth": ("API 密钥已吊销", "API 金鑰已撤銷", "API key revoked"),
    "err.no_catalog_service": ("服务目录中没有 {code}", "服務目錄中沒有 {code}", "no catalog service {code}"),
    "err.catalog_admins": ("只有管理员可以编辑服务目录", "只有管理員可以編輯服務目錄", "only admins edit the catalog"),
    "err.catalog_needs_texts": ("新服务须提供 {field} 的三种语言文本（zh-CN、zh-TW、en）", "新服務須提供 {field} 的三種語言文字（zh-CN、zh-TW、en）",
                                "a new service needs {field} in zh-CN, zh-TW and en"),
    "err.catalog_code_mismatch": ("请求内容中的代码 {body} 与路径中的 {path} 不一致", "請求內容中的代碼 {body} 與路徑中的 {path} 不一致",
                                  "the body names {body}, the path {path}"),
    # 409
    "err.awaiting_authorization": ("工单正在等待信息中心授权，授权前不能「{target}」，只能取消",
                                   "工單正在等待資訊中心授權，授權前不能「{target}」，只能取消",
                                   "the ticket awaits the agency's authorization: no {target} before it, only cancel"),
    "err.authorization_decided": ("信息中心已对此工单作出授权决定，不能再次决定", "資訊中心已對此工單作出授權決定，不能再次決定",
                                  "the agency has decided this ticket's authorization already"),
    "err.authorization_not_required": ("此工单的服务不需要信息中心授权", "此工單的服務不需要資訊中心授權",
                                       "this ticket's service needs no authorization by the agency"),
    "err.acknowledged_only_awaiting": ("只有等待授权的工单需要服务台确认受理", "只有等待授權的工單需要服務台確認受理",
                                       "only a ticket awaiting authorization is acknowledged by the desk"),
    "err.cannot_become": ("「{current}」状态的工单不能变为「{target}」", "「{current}」狀態的工單不能變為「{target}」",
                          "a {current} ticket cannot become {target}"),
    "err.nobody_assigned": ("工单尚未指派工程师，由派工服务指派", "工單尚未指派工程師，由派工服務指派", "nobody is assigned yet; dispatch assigns"),
    "err.cancel_after_work": ("工程师已接单或已开始处理，报修人不能再取消；如需取消请联系服务台",
                              "工程師已接單或已開始處理，報修人不能再取消；如需取消請聯絡服務台",
                              "the engineer has accepted or started the work: a requester cancels only before that; ask the desk"),
    "err.reopen_to_work": ("已解决的工单须通过「重新打开」恢复处理", "已解決的工單須透過「重新開啟」恢復處理",
                           "a resolved ticket goes back to work by reopen"),
    "err.desk_resolution_first_contact": ("服务台只能在首次接触、开始处理之前解决工单", "服務台只能在首次接觸、開始處理之前解決工單",
                                          "desk resolution is at first contact, before work starts"),
    "err.guidance_first_contact": ("远程指导只能在首次接触、工单转交工程师之前进行", "遠程指導只能在首次接觸、工單轉交工程師之前進行",
                                   "remote guidance is at first contact, before the ticket goes to an engineer"),
    "err.guidance_sent": ("远程指导只能在首次接触、工单转交工程师之前进行（此工单已转派工）",
                          "遠程指導只能在首次接觸、工單轉交工程師之前進行（此工單已轉派工）",
                          "remote guidance is at first contact, before the ticket goes to an engineer (it has been sent to dispatch)"),
    "err.record_waits_review": ("工程师的服务记录正在等待服务台审核，审核通过后才能关闭", "工程師的服務記錄正在等待服務台審核，審核通過後才能關閉",
                                "the engineer's service record is waiting for the desk's review"),
    "err.record_returned": ("服务记录已退回工程师，需工程师重新完工", "服務記錄已退回工程師，需工程師重新完工",
                            "the service record was returned to the engineer, who completes the work again"),
    "err.reopen_only_resolved": ("只有已解决的工单可以重新打开", "只有已解決的工單可以重新開啟", "only a resolved ticket can be reopened"),
    "err.reopen_window": ("已超过 {window} 的重新打开期限，请提交新工单", "已超過 {window} 的重新開啟期限，請提交新工單",
                          "the reopen window of {window} has passed; open a new ticket"),
    "err.cannot_edit": ("「{status}」状态的工单不能修改", "「{status}」狀態的工單不能修改", "a {status} ticket cannot be edited"),
    "err.no_record_on": ("「{status}」状态的工单没有服务记录", "「{status}」狀態的工單沒有服務記錄", "no service record on a {status} ticket"),
    "err.record_approved": ("服务记录已审核通过", "服務記錄已審核通過", "the service record is approved already"),
    "err.no_record_waiting": ("没有等待审核的服务记录", "沒有等待審核的服務記錄", "no service record is waiting for review"),
    "err.holder_completes": ("由负责此工单的工程师完工时提交服务记录", "由負責此工單的工程師完工時提交服務記錄",
                             "the engineer holding the ticket completes with the service record: {path}"),
    "err.record_returned_again": ("服务记录已退回工程师，由工程师重新完工", "服務記錄已退回工程師，由工程師重新完工",
                                  "the service record was returned to the engineer, who completes again: {path}"),
    "err.with_dispatch": ("工单已转派工", "工單已轉派工", "the ticket is with dispatch already"),
    "err.needs_no_engineer": ("「{status}」状态的工单不需要工程师", "「{status}」狀態的工單不需要工程師", "a {status} ticket needs no engineer"),
    "err.stale": ("工单已是第 {actual} 版，不是第 {expected} 版，请重新读取", "工單已是第 {actual} 版，不是第 {expected} 版，請重新讀取",
                  "ticket is at version {actual}, not {expected}"),
    "err.user_exists": ("用户 {user} 已存在", "使用者 {user} 已存在", "user {user} exists"),
    "err.user_changed": ("用户 {user} 已被他人修改，请重新读取后再试", "使用者 {user} 已被他人修改，請重新讀取後再試",
                         "user {user} changed meanwhile; reload and retry"),
    "err.account_changed": ("您的账号已被修改，请重试", "您的帳號已被修改，請重試", "your account changed meanwhile; retry"),
    "err.engineer_linked": ("工程师 {engineer} 已关联用户 {user}", "工程師 {engineer} 已關聯使用者 {user}",
                            "engineer {engineer} is already linked to user {user}"),
    "err.key_exists": ("API 密钥 {key} 已存在，请改用轮换", "API 金鑰 {key} 已存在，請改用輪換", "API key {key} exists; rotate it instead"),
    "err.cannot_change": ("不能修改：{fields}", "不能修改：{fields}", "cannot change {fields}"),
    "err.own_account": ("管理员不能停用或降级自己的账号", "管理員不能停用或降級自己的帳號", "an admin cannot disable or demote their own account"),
    "err.idempotency_key_reused": ("Idempotency-Key 已用于另一份不同的请求内容；新请求请使用新的键",
                                   "Idempotency-Key 已用於另一份不同的請求內容；新請求請使用新的鍵",
                                   "this Idempotency-Key was used with a different request body; use a new key for a new request"),
    # 422 (a field's msg)
    "err.unknown_service": ("未知的服务代码 {code}，请查看服务目录", "未知的服務代碼 {code}，請查看服務目錄",
                            "unknown service code {code}; see GET /api/v1/catalog"),
    "err.priority_reason": ("指定优先级须说明理由，说明理由须指定优先级", "指定優先級須說明理由，說明理由須指定優先級",
                            "an explicit priority needs a reason, and a reason a priority"),
    "err.needs_offset": ("{field} 须带时区偏移（如 2026-11-30T15:00:00+08:00）", "{field} 須帶時區偏移（如 2026-11-30T15:00:00+08:00）",
                         "{field} needs a time zone offset"),
    "err.too_many_values": ("{field} 最多 {max} 个值", "{field} 最多 {max} 個值", "{field} takes at most {max} values"),
    "err.reported_future": ("报修时间不能晚于现在", "報修時間不能晚於現在", "reported_at is in the future"),
    "err.reported_too_old": ("报修时间不能早于 7 天前", "報修時間不能早於 7 天前", "reported_at is more than 7 days back"),
    "err.desk_decides": ("{field} 由服务台决定，报修人不能设置", "{field} 由服務台決定，報修人不能設定",
                         "{field} is decided by the service desk; requesters cannot set it"),
    "err.requester_name": ("报修人只能为自己报修：姓名取自您的账号（{name}），请不要填写",
                           "報修人只能為自己報修：姓名取自您的帳號（{name}），請不要填寫",
                           "requesters report for themselves: the name is your account's ({name}); leave it out"),
    "err.requester_department": ("报修人只能为自己报修：部门取自您的账号（{department}），请不要填写",
                                 "報修人只能為自己報修：部門取自您的帳號（{department}），請不要填寫",
                                 "requesters report for themselves: the department is your account's ({department}); leave it out"),
    "err.requester_self": ("报修人只能为自己提交工单", "報修人只能為自己提交工單", "requesters file tickets for themselves only"),
    "err.say_requester": ("请填写报修人", "請填寫報修人", "say who reports the ticket"),
    "err.asset_unknown": ("资产编号 {tag} 不在资产台账中", "資產編號 {tag} 不在資產台帳中", "asset tag {tag} is not in the asset register"),
    "err.use_step": ("不能在此设置为「{status}」，请使用 POST /api/v1/tickets/{{id}}/{step}",
                     "不能在此設定為「{status}」，請使用 POST /api/v1/tickets/{{id}}/{step}", "use POST /tickets/{{id}}/{step}"),
    "err.pending_reason": ("挂起须说明原因：requester（等待报修人）、vendor（等待厂商）或 parts（等待备件）",
                           "掛起須說明原因：requester（等待報修人）、vendor（等待廠商）或 parts（等待備件）",
                           "pending needs a reason: requester, vendor or parts"),
    "err.cancel_reason": ("请说明取消工单的原因", "請說明取消工單的原因", "say why the ticket is cancelled"),
    "err.guidance_minutes": ("服务台解决须记录远程指导分钟数", "服務台解決須記錄遠程指導分鐘數",
                             "record the remote guidance minutes for a desk resolution"),
    "err.guidance_cap": ("合同规定远程指导最多 {cap} 分钟，请派工程师处理", "合約規定遠程指導最多 {cap} 分鐘，請派工程師處理",
                         "remote guidance is capped at {cap} minutes by the contract; dispatch an engineer instead"),
    "err.not_editable": ("此字段不能修改", "此欄位不能修改", "this field cannot be edited"),
    "err.not_null": ("不能为 null；不修改时请省略此字段", "不能為 null；不修改時請省略此欄位", "cannot be null; omit the field to leave it unchanged"),
    "err.return_note": ("退回服务记录时请说明缺少什么", "退回服務記錄時請說明缺少什麼", "say what is missing when returning a record"),
    "err.cursor": ("游标无效", "游標無效", "cursor is not valid"),
    "err.cursor_sort": ("游标属于另一种排序", "游標屬於另一種排序", "cursor belongs to another sort order"),
    "err.no_engineer": ("名册中没有工程师 {engineer}", "名冊中沒有工程師 {engineer}", "no engineer {engineer} on the roster"),
    "err.field_null": ("{field} 不能为 null", "{field} 不能為 null", "{field} cannot be null"),
    "err.username": ("用户名须为 1–64 个字母、数字或 . _ @ -，并以字母或数字开头", "使用者名稱須為 1–64 個字母、數字或 . _ @ -，並以字母或數字開頭",
                     "username must be 1-64 letters, digits or . _ @ - and start with a letter or digit"),
    "err.key_name": ("密钥名称须为 1–48 个小写字母、数字或 -，并以字母或数字开头", "金鑰名稱須為 1–48 個小寫字母、數字或 -，並以字母或數字開頭",
                     "key name must be 1-48 lower-case letters, digits or - and start with a letter or digit"),
    "err.name_empty": ("姓名不能为空", "姓名不能為空", "name must not be empty"),
    "err.engineer_id": ("engineer_id 须为 1–64 个字符，不含斜杠、空格、% ? 或 #", "engineer_id 須為 1–64 個字元，不含斜線、空格、% ? 或 #",
                        "engineer_id must be 1-64 characters without slashes, spaces, % ? or #"),
    "err.engineer_link": ("工程师角色的用户须关联名册中的工程师（engineer_id）", "工程師角色的使用者須關聯名冊中的工程師（engineer_id）",
                          "a user with role engineer must be linked to a roster engineer (engineer_id)"),
    "err.grace": ("宽限期须在 0 到 7 天之间", "寬限期須在 0 到 7 天之間", "grace must be between 0 and 7 days"),
    "err.password_length": ("密码须为 {min} 到 {max} 个字符", "密碼須為 {min} 到 {max} 個字元", "password must be {min} to {max} characters"),
}

CATALOGUE = Catalogue(
    ERRORS, words={"status": STATUS, "current": STATUS, "target": STATUS, "action": ACTIONS}, word_lists={"roles": ROLES},
)
render = CATALOGUE.render


class Said(catalogue.Said):
    """A refusal text of the desk's catalogue: a code with parameters, whose `str` value is the English text."""

    catalogue = CATALOGUE


# What pydantic's date and time parser (speedate) says is wrong, for the `{error}` of its date/datetime messages.
PARSE_ERRORS: dict[str, tuple[str, str]] = {
    "input is too short": ("内容过短", "內容過短"),
    "input is too long": ("内容过长", "內容過長"),
    "invalid character in year": ("年份中有无效字符", "年份中有無效字元"),
    "invalid character in month": ("月份中有无效字符", "月份中有無效字元"),
    "invalid character in day": ("日期中有无效字符", "日期中有無效字元"),
    "invalid character in hour": ("小时中有无效字符", "小時中有無效字元"),
    "invalid character in minute": ("分钟中有无效字符", "分鐘中有無效字元"),
    "invalid character in second": ("秒中有无效字符", "秒中有無效字元"),
    "invalid date separator, expected `-`": ("日期分隔符应为 -", "日期分隔符應為 -"),
    "invalid time separator, expected `:`": ("时间分隔符应为 :", "時間分隔符應為 :"),
    "invalid datetime separator, expected `T`, `t`, `_` or space": ("日期与时间之间应为 T 或空格", "日期與時間之間應為 T 或空格"),
    "month value is outside expected range of 1-12": ("月份应在 1–12 之间", "月份應在 1–12 之間"),
    "day value is outside expected range": ("日期超出该月的天数", "日期超出該月的天數"),
    "hour value is outside expected range of 0-23": ("小时应在 0–23 之间", "小時應在 0–23 之間"),
    "minute value is outside expected range of 0-59": ("分钟应在 0–59 之间", "分鐘應在 0–59 之間"),
    "second value is outside expected range of 0-59": ("秒应在 0–59 之间", "秒應在 0–59 之間"),
    "unexpected extra characters at the end of the input": ("末尾有多余字符", "末尾有多餘字元"),
    "invalid timezone sign": ("时区偏移的正负号无效", "時區偏移的正負號無效"),
    "invalid timezone hour": ("时区偏移的小时无效", "時區偏移的小時無效"),
    "invalid timezone minute": ("时区偏移的分钟无效", "時區偏移的分鐘無效"),
}


def parse_errors(items: list[Any], language: str) -> list[Any]:
    """Pydantic's field errors with the parser's English `ctx.error` (and our own custom error types) said in
    `language` where we have it."""
    lang = language_of(language)
    if lang == "en":
        return items
    out: list[Any] = []
    for item in items:
        ctx = item.get("ctx") if isinstance(item, Mapping) else None
        said = PARSE_ERRORS.get(str(ctx.get("error"))) if isinstance(ctx, Mapping) else None
        if said is not None and isinstance(ctx, Mapping):
            item = {**item, "ctx": {**ctx, "error": said[0 if lang == "zh-CN" else 1]}}
        if isinstance(item, Mapping) and item.get("type") == "null_not_allowed":  # the PATCH body's own error type
            item = {**item, "msg": render("err.not_null", {}, lang)}
        out.append(item)
    return out


__all__ = ["ACTIONS", "CATALOGUE", "ERRORS", "PARSE_ERRORS", "ROLES", "STATUS", "Said", "localise", "parse_errors", "render", "said_of"]
