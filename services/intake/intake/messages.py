"""What the desk says to requesters, in their language: every text a requester reads that the desk wrote for them
(a comment on their ticket, a notification mail) comes from a template here, never from a staff member's or a
service's own words. Internal texts (an engineer's delay reason, dispatch's scoring, a desk agent's reassign reason)
are work notes for staff and never go through these templates.

Three languages: zh-CN (the default), zh-TW and en. Babel is not installed in this project, so the catalogue is a
plain dict; `render` is the one place that would change if it were."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from opsdesk_shared.contracts.reasons import render_reason
from opsdesk_shared.hanzi import to_simplified

if TYPE_CHECKING:
    from .domain import Assignee, Comment, Ticket

Language = Literal["zh-CN", "zh-TW", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "zh-TW", "en")
DEFAULT_LANGUAGE: Language = "zh-CN"
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

TEMPLATES: dict[str, dict[Language, str]] = {
    # Shown on the ticket (public comment, or the assignee line a requester reads).
    "assigned": {
        "zh-CN": "您的工单 {number} 已指派给工程师 {engineer}，我们会尽快为您处理。",
        "zh-TW": "您的工單 {number} 已指派給工程師 {engineer}，我們會盡快為您處理。",
        "en": "Your ticket {number} is assigned to engineer {engineer}; we will attend to it shortly.",
    },
    "reassigned": {
        "zh-CN": "您的工单 {number} 已改由工程师 {engineer} 负责，我们会尽快为您处理。",
        "zh-TW": "您的工單 {number} 已改由工程師 {engineer} 負責，我們會盡快為您處理。",
        "en": "Your ticket {number} is now with engineer {engineer}; we will attend to it shortly.",
    },
    # Work on site that arrived outside service hours waits for the on-site shift (dispatch's assignment.unassigned
    # with held_until): the requester hears when someone comes, in plain words.
    "held_for_onsite": {
        "zh-CN": "您的工单 {number} 需要工程师上门处理。现在是非驻场服务时间，工程师将于 {at} 起上门为您处理。",
        "zh-TW": "您的工單 {number} 需要工程師上門處理。現在是非駐場服務時間，工程師將於 {at} 起上門為您處理。",
        "en": "Your ticket {number} needs an engineer on site. It is outside on-site service hours now; an engineer "
              "will come from {at}.",
    },
    # Notification mails: subject and body per occasion.
    "mail.assigned.subject": {
        "zh-CN": "[{number}] 您的工单已指派工程师",
        "zh-TW": "[{number}] 您的工單已指派工程師",
        "en": "[{number}] An engineer is assigned to your ticket",
    },
    "mail.assigned.body": {
        "zh-CN": "您好，{name}：\n\n您的工单 {number}「{title}」已指派给工程师 {engineer}，我们会尽快为您处理。\n\n服务台",
        "zh-TW": "您好，{name}：\n\n您的工單 {number}「{title}」已指派給工程師 {engineer}，我們會盡快為您處理。\n\n服務台",
        "en": "Dear {name},\n\nYour ticket {number} \"{title}\" is assigned to engineer {engineer}; we will attend to it shortly.\n\nService desk",
    },
    "mail.pending.subject": {
        "zh-CN": "[{number}] 您的工单需要您的回复",
        "zh-TW": "[{number}] 您的工單需要您的回覆",
        "en": "[{number}] Your ticket needs your answer",
    },
    "mail.pending.body": {
        "zh-CN": "您好，{name}：\n\n您的工单 {number}「{title}」正在等待您的回复，请在工单中留言或直接回复此邮件。\n\n服务台",
        "zh-TW": "您好，{name}：\n\n您的工單 {number}「{title}」正在等待您的回覆，請在工單中留言或直接回覆此郵件。\n\n服務台",
        "en": "Dear {name},\n\nYour ticket {number} \"{title}\" is waiting for your answer: comment on the ticket or reply to this mail.\n\nService desk",
    },
    "mail.resolved.subject": {
        "zh-CN": "[{number}] 您的工单已解决",
        "zh-TW": "[{number}] 您的工單已解決",
        "en": "[{number}] Your ticket is resolved",
    },
    "mail.resolved.body": {
        "zh-CN": "您好，{name}：\n\n您的工单 {number}「{title}」已于 {at} 解决。如问题仍未解决，请在 7 天内重新打开工单；如已解决，欢迎评价我们的服务。\n\n服务台",
        "zh-TW": "您好，{name}：\n\n您的工單 {number}「{title}」已於 {at} 解決。如問題仍未解決，請在 7 天內重新開啟工單；如已解決，歡迎評價我們的服務。\n\n服務台",
        "en": "Dear {name},\n\nYour ticket {number} \"{title}\" was resolved at {at}. If the problem is still there, reopen the ticket within 7 days; otherwise we welcome your rating of our service.\n\nService desk",
    },
}


def language_of(tag: str | None) -> Language | None:
    """One of our three languages for a language tag (zh-Hant, zh-HK, zh_TW, en-GB...); None when it is none of them."""
    if not tag:
        return None
    tag = tag.strip().replace("_", "-").lower()
    if tag.startswith(("zh-tw", "zh-hk", "zh-mo", "zh-hant")):
        return "zh-TW"
    if tag.startswith("zh"):
        return "zh-CN"
    if tag.startswith("en"):
        return "en"
    return None


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def written_in(text: str) -> Language | None:
    """The language a requester wrote in, when the text tells: traditional characters are zh-TW, other Chinese zh-CN,
    Latin letters without any Chinese en. None when it does not tell (digits, an empty text)."""
    if _has_han(text):
        return "zh-TW" if to_simplified(text) != text else "zh-CN"
    if any(ch.isascii() and ch.isalpha() for ch in text):
        return "en"
    return None


def requester_language(ticket: Ticket, *, preferred: str | None = None) -> Language:
    """The requester's language: the one they asked for (their client's Accept-Language, an account setting) when
    known, else the one they wrote their ticket in, else zh-CN."""
    return language_of(preferred) or written_in(f"{ticket.title} {ticket.description}") or DEFAULT_LANGUAGE


def local_time(moment: datetime) -> str:
    """A time as requesters read it: the agency's wall clock, to the minute."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def render(key: str, language: str | None, **params: str) -> str:
    """The template `key` in `language` (zh-CN when it is not one of ours), filled with `params`."""
    texts = TEMPLATES[key]
    return texts[language_of(language) or DEFAULT_LANGUAGE].format(**params)


# Work notes services write for staff (never for requesters), read in the reader's language: the note keeps its key
# and values (Comment.text_key, text_params) and the ticket is shown with the body rendered for whoever reads it.
SPARE_REASONS: dict[str, dict[Language, str]] = {
    "no_site": {"zh-CN": "工单未写明出库地点", "zh-TW": "工單未寫明出庫地點", "en": "the ticket names no site to issue from"},
    "unknown_part": {"zh-CN": "该地点没有此备件的库存", "zh-TW": "該地點沒有此備件的庫存", "en": "no stock of this part at the site"},
    "not_enough_stock": {"zh-CN": "库存不足", "zh-TW": "庫存不足", "en": "not enough in stock"},
}
STAFF_NOTES: dict[str, dict[Language, str]] = {
    "spares_refused": {
        "zh-CN": "备件未出库（{site}）：{lines}",
        "zh-TW": "備件未出庫（{site}）：{lines}",
        "en": "Stock parts not issued at {site}: {lines}",
    },
}
_NO_SITE: dict[Language, str] = {"zh-CN": "未指定地点", "zh-TW": "未指定地點", "en": "no site"}


def staff_note(key: str, params: dict[str, Any], language: str | None) -> str:
    """A service's work note (`STAFF_NOTES`) in `language` (zh-CN when it is not one of ours)."""
    lang = language_of(language) or DEFAULT_LANGUAGE
    if key == "spares_refused":
        sep = "; " if lang == "en" else "；"
        lines = sep.join(
            (f"{line.get('part')} x{line.get('quantity')}: " if lang == "en" else f"{line.get('part')} ×{line.get('quantity')}：")
            + SPARE_REASONS.get(str(line.get("reason")), {}).get(lang, str(line.get("reason")))
            for line in params.get("lines") or []
        )
        return STAFF_NOTES[key][lang].format(site=params.get("site") or _NO_SITE[lang], lines=lines)
    return STAFF_NOTES[key][lang].format(**params)


def comment_for(comment: Comment, language: str | None) -> Comment:
    """A comment as this reader sees it: a service's templated note in their language, anything else as written."""
    if not comment.text_key or comment.text_key not in STAFF_NOTES:
        return comment
    return comment.model_copy(update={"body": staff_note(comment.text_key, comment.text_params, language)})


def assignee_notice(ticket: Ticket, *, language: str | None = None) -> str | None:
    """What the requester is told about who holds their ticket, in their language; None when nobody does."""
    assignee = ticket.assignee
    if assignee is None:
        return None
    return render("assigned", requester_language(ticket, preferred=language), number=ticket.number, engineer=assignee.engineer_name)


def assignee_for_requester(ticket: Ticket) -> Assignee | None:
    """The assignee as a requester reads it: who, and since when, with the acceptance and ETA. Dispatch's reason
    (scoring, a delay), a person's note (a desk agent's words), who decided and a withdrawal's reason are the
    staff's internal notes and left out; the requester's text is `assignee_notice`."""
    assignee = ticket.assignee
    if assignee is None:
        return None
    return assignee.model_copy(update={
        "reason": None, "reason_code": None, "reason_params": {}, "note": None, "decided_by": None,
        "withdrawn_reason": None, "withdrawn_reason_code": None, "withdrawn_reason_params": {},
    })


def assignee_for_staff(ticket: Ticket, *, language: str) -> Assignee | None:
    """The assignee as staff read it: dispatch's reason and a withdrawal's reason said in the reader's language from
    dispatch's codes (the catalogue shared with the contracts), not dispatch's English text; an assignment recorded
    before the codes travelled keeps its text."""
    assignee = ticket.assignee
    if assignee is None:
        return None
    update: dict[str, str] = {}
    if assignee.reason is not None and assignee.reason_code:
        update["reason"] = render_reason(assignee.reason_code, assignee.reason_params, language)
    if assignee.withdrawn_reason is not None and assignee.withdrawn_reason_code:
        update["withdrawn_reason"] = render_reason(assignee.withdrawn_reason_code, assignee.withdrawn_reason_params, language)
    return assignee.model_copy(update=update) if update else assignee
