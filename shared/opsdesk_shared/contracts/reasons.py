"""Why dispatch decided what it did, as a code with parameters, and the words for it in zh-CN, zh-TW and en.

Dispatch announces its reasons (`reason_code`, `reason_params` in ticket.assigned, ticket.reassigned,
assignment.unassigned and assignment.withdrawn, and on the assignment) and keeps an English `reason` for staff and
older consumers; whoever shows a reason to a person renders it in that person's language with `render_reason`,
so the catalogue lives with the contracts. Scoring is internal text for staff: requesters get their own templates.
Babel is not installed in this project, so the catalogue is a plain dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ..catalogue import LANGUAGES as LANGUAGES
from ..catalogue import Language as Language
from ..catalogue import Param as Param
from ..catalogue import language_of as language_of
from ..localtime import site_zone

Params = Mapping[str, Param]

# Words a parameter stands for: enum values shown to people in their language.
WORDS: dict[str, tuple[str, str, str]] = {
    "skill.match": ("技能匹配", "技能匹配", "skill match"),
    "skill.no_match": ("技能不匹配", "技能不匹配", "no skill match"),
    "skill.any": ("任意", "任意", "any"),
    "duty.onsite": ("驻场值班", "駐場值班", "on duty on site"),
    "duty.phone": ("电话值班", "電話值班", "on call by phone"),
    "duty.called_in": ("非值班时段召回", "非值班時段召回", "off duty, called in"),
    "role.onsite": ("驻场工程师", "駐場工程師", "onsite"),
    "role.mobile": ("机动工程师", "機動工程師", "mobile"),
    "role.senior": ("高级工程师", "高級工程師", "senior"),
    "role.project_manager": ("项目经理", "項目經理", "project_manager"),
    "status.resolved": ("已解决", "已解決", "resolved"),
    "status.cancelled": ("已取消", "已取消", "cancelled"),
    "status.closed": ("已关闭", "已關閉", "closed"),
    "work.visit": ("上门", "上門", "visit"),
    "work.remote": ("远程", "遠程", "remote"),
    "step.accept": ("接单", "接單", "accept"),
    "step.confirm": ("确认执行", "確認執行", "confirm"),
    "step.delay": ("报告延误", "報告延誤", "delay"),
    "step.reassign": ("改派", "改派", "reassign"),
    "step.escalate": ("升级", "升級", "escalate"),
    "step.help": ("求助", "求助", "ask for help on"),
    "step.complete": ("完工", "完工", "complete"),
    "astatus.unassigned": ("待派工", "待派工", "unassigned"),
    "astatus.open": ("已派工", "已派工", "open"),
    "astatus.accepted": ("已接单", "已接單", "accepted"),
    "astatus.confirmed": ("已确认", "已確認", "confirmed"),
    "astatus.completed": ("已完工", "已完工", "completed"),
    "astatus.reviewed": ("已审核", "已審核", "reviewed"),
    "astatus.withdrawn": ("已撤回", "已撤回", "withdrawn"),
    "list.assignments": ("派工", "派工", "assignments"),
    "list.escalations": ("升级", "升級", "escalations"),
}

REASONS: dict[str, tuple[str, str, str]] = {
    # Decision reasons (assignment.reason, history notes).
    "chosen": (
        "{matched}（{skill}），{duty}，负载 {load}/{capacity}，{role}，评分 {score}",
        "{matched}（{skill}），{duty}，負載 {load}/{capacity}，{role}，評分 {score}",
        "{matched} ({skill}), {duty}, load {load}/{capacity}, role {role}, score {score}",
    ),
    "over_capacity": (
        "超出容量：所有可用工程师均已满负荷；{rest}",
        "超出容量：所有可用工程師均已滿負荷；{rest}",
        "over capacity: every available engineer is full; {rest}",
    ),
    "redispatch": ("延误后重新派工（{delay}）；{rest}", "延誤後重新派工（{delay}）；{rest}", "re-dispatch after delay ({delay}); {rest}"),
    "desk": ("{text}", "{text}", "{text}"),
    "no_engineer": ("暂无可用工程师", "暫無可用工程師", "no available engineer"),
    "no_engineer_skill": ("暂无具备 {skill} 技能的可用工程师", "暫無具備 {skill} 技能的可用工程師", "no available engineer with skill {skill}"),
    "held_after_hours": (
        "服务时间外（5×8 驻场，其余时间电话支持）：{work}工作顺延至 {until}，由驻场值班工程师接手",
        "服務時間外（5×8 駐場，其餘時間電話支援）：{work}工作順延至 {until}，由駐場值班工程師接手",
        "outside service hours (on site 5x8, by phone at other times): {work} work held until {until}, "
        "for the engineers on site duty then",
    ),
    "withdrawn": ("工单{status}（{by}）", "工單{status}（{by}）", "ticket {status} by {by}"),
    "eta": ("预计到场 {eta}", "預計到場 {eta}", "eta {eta}"),
    "overdue_due": ("应于 {due} 前完成", "應於 {due} 前完成", "due {due}"),
}


def word(key: str, language: str) -> str:
    texts = WORDS.get(key)
    if texts is None:
        return key.partition(".")[2] or key
    return texts[LANGUAGES.index(language_of(language))]


def local_time(moment: datetime) -> str:
    """A time as people read it here: the agency's wall clock, to the minute."""
    return moment.astimezone(site_zone()).strftime("%Y-%m-%d %H:%M")


def local_time_with_offset(moment: datetime) -> str:
    """The site's wall clock to the minute with its UTC offset (`2026-11-30 15:00 +08:00`): a note is read later,
    elsewhere, copied into mails and reports, so it says which clock it is (issue 13, item 4)."""
    local = moment.astimezone(site_zone())
    offset = local.strftime("%z")
    return f"{local.strftime('%Y-%m-%d %H:%M')} {offset[:3]}:{offset[3:]}"


def _time_text(value: Param) -> str:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return local_time_with_offset(moment) if moment.tzinfo is not None else value
    return str(value)


def render_reason(
    code: str, params: Params, language: str, *, templates: Mapping[str, tuple[str, str, str]] = REASONS,
) -> str:
    """The text of `code` in `language` (English for one we do not have), filled from `params`."""
    lang = language_of(language)
    at = LANGUAGES.index(lang)
    p = dict(params)
    if code in ("chosen", "redispatch") and p.get("over_capacity") and not p.get("_inner"):
        inner = render_reason(code, {**p, "_inner": True}, lang, templates=templates)
        return templates["over_capacity"][at].format(rest=inner)
    if code == "redispatch":
        rest = render_reason("chosen", {**p, "_inner": True}, lang, templates=templates)
        return templates["redispatch"][at].format(delay=p.get("delay", ""), rest=rest)
    if code == "chosen":
        skill = p.get("skill")
        fill: dict[str, object] = {
            "matched": word(f"skill.{p.get('matched', 'match')}", lang),
            "skill": skill if skill else word("skill.any", lang),
            "duty": word(f"duty.{p.get('duty', 'onsite')}", lang),
            "load": p.get("load", 0), "capacity": p.get("capacity", 0),
            "role": word(f"role.{p.get('role', '')}", lang),
            "score": f"{float(p.get('score') or 0.0):.2f}",
        }
        return templates["chosen"][at].format(**fill)
    if code == "no_engineer" and p.get("skill"):
        code = "no_engineer_skill"
    if code not in templates:
        return str(p.get("text", code))
    fill = {k: ("" if v is None else v) for k, v in p.items()}
    for key in ("until", "eta", "due"):
        if key in fill:
            fill[key] = _time_text(p[key])
    if "status" in fill and code == "withdrawn":
        fill["status"] = word(f"status.{p['status']}", lang)
    if "work" in fill:
        fill["work"] = word(f"work.{p['work']}", lang)
    if "step" in fill:
        fill["step"] = word(f"step.{p['step']}", lang)
    if "status" in fill and code.startswith("err."):
        fill["status"] = word(f"astatus.{p['status']}", lang)
    if "kind" in fill and code == "err.cursor_list":
        fill["kind"] = word(f"list.{p['kind']}", lang)
    try:
        return templates[code][at].format(**fill)
    except (KeyError, IndexError, ValueError):
        return templates[code][2]


