"""Traditional and simplified Chinese meet through OpenCC: real desk words in both scripts fold to one form, and the
services that compare typed names (assets' scopes, reporting's visibility) compare them folded."""

from __future__ import annotations

import pytest

from assets.domain import Asset, Location
from assets.upkeep import Scope
from opsdesk_shared.hanzi import fold_key, same_text, to_search_form, to_simplified
from opsdesk_shared.internal_auth import Caller
from reporting.access import may_see_ticket


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("財務科", "财务科"),  # 財 was missing from the old hand-kept table
        ("主樓三層", "主楼三层"),
        ("辦公室", "办公室"),
        ("人事處", "人事处"),
        ("打印機卡紙", "打印机卡纸"),
        ("顯示錯誤", "显示错误"),
        ("網絡連接中斷", "网络连接中断"),
        ("郵箱無法發送郵件", "邮箱无法发送邮件"),
        ("帳號被鎖定", "账号被锁定"),
        ("投影儀沒有訊號", "投影仪没有讯号"),
        ("電話聽筒沒有聲音", "电话听筒没有声音"),
        ("檔案櫃鑰匙遺失", "档案柜钥匙遗失"),
    ],
)
def test_traditional_folds_to_simplified_character_for_character(traditional: str, simplified: str) -> None:
    assert to_simplified(traditional) == simplified
    assert len(to_simplified(traditional)) == len(traditional)


def test_simplified_text_passes_unchanged() -> None:
    text = "财务科的打印机卡纸，显示错误13.A，请尽快处理；VPN 连接失败"
    assert to_simplified(text) == text
    assert to_search_form(text) == text


def test_ascii_is_untouched() -> None:
    assert to_simplified("Printer ERROR 13.A") == "Printer ERROR 13.A"


def test_search_form_turns_taiwan_words_into_mainland_words() -> None:
    assert to_search_form("印表機卡紙") == "打印机卡纸"
    assert to_search_form("滑鼠沒反應") == "鼠标没反应"
    assert to_search_form("無法登入系統") == "无法登录系统"
    assert to_search_form("軟體更新") == "软件更新"


def test_account_variant_spellings_meet() -> None:
    # OpenCC gives 帐号 for 帳號; a mainland desk types 账号: both must find each other.
    assert to_simplified("帳號") == to_simplified("账号") == to_simplified("帐号") == "账号"


def test_departments_compare_across_scripts() -> None:
    assert same_text("財務科", "财务科")
    assert same_text(" 资讯科 ", "資訊科")
    assert not same_text("财务科", "人事科")
    assert not same_text(None, "财务科")
    assert fold_key(None) is None
    assert fold_key("總務處") == "总务处"


def test_asset_scopes_match_department_and_building_in_either_script() -> None:
    asset = Asset(tag="GZ-2026-000002", type="desktop", location=Location(building="主楼", floor="2", room="205"), department="财务科")
    assert Scope(department="財務科", building="主樓").matches(asset)
    assert not Scope(department="人事科").matches(asset)


def test_reporting_shows_a_requester_their_departments_ticket_in_either_script() -> None:
    ticket = {"requester_id": "someone", "department": "財務科"}
    assert may_see_ticket(Caller(subject="colleague", role="requester", department="财务科"), ticket)
    assert not may_see_ticket(Caller(subject="stranger", role="requester", department="人事科"), ticket)
    assert not may_see_ticket(Caller(subject="nobody", role="requester"), ticket)
