"""in_both_scripts: a browser-side filter finds what a person types in either script."""

from __future__ import annotations

from opsdesk_shared.hanzi import in_both_scripts


def test_simplified_text_gains_its_traditional_forms_and_taiwans_words() -> None:
    out = in_both_scripts("设备维修 打印机卡纸")
    assert "打印机卡纸" in out and "打印機卡紙" in out and "印表機" in out and "設備維修" in out


def test_traditional_text_gains_its_simplified_form_and_ascii_is_kept_as_is() -> None:
    assert "财务科" in in_both_scripts("財務科") and in_both_scripts("RS-REPAIR printer") == "RS-REPAIR printer"


def test_to_traditional_converts_characters_and_keeps_words_and_ascii() -> None:
    from opsdesk_shared.hanzi import to_traditional

    assert to_traditional("激光打印机") == "激光打印機" and to_traditional("UPS") == "UPS"
