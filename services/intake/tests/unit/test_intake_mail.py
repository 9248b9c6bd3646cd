"""Reading mails to the desk: sender, subject, new text, ticket number, and mails that lie about their charset."""

from __future__ import annotations

import pytest

from intake.mail import BadMail, new_text, parse


def raw(subject: str, body: str, *, sender: str = "王小明 <wang@agency.example>", message_id: str | None = "<m1@agency.example>",
        headers: str = "") -> bytes:
    lines = [f"From: {sender}", f"Subject: {subject}"]
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    if headers:
        lines.append(headers)
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def test_new_mail_has_sender_subject_and_body() -> None:
    mail = parse(raw("打印機卡紙", "三樓打印機卡紙,請派人。"))
    assert (mail.from_name, mail.from_address) == ("王小明", "wang@agency.example")
    assert mail.subject == "打印機卡紙"
    assert mail.body.strip() == "三樓打印機卡紙,請派人。"
    assert mail.ticket_number is None
    assert mail.message_id == "<m1@agency.example>"


def test_reply_carries_the_ticket_number_from_the_subject() -> None:
    mail = parse(raw("Re: [INC-2026-000123] 打印機卡紙", "還是不行\r\n\r\nOn Mon, 16 Mar 2026 desk wrote:\r\n> 已處理"))
    assert mail.ticket_number == "INC-2026-000123"
    assert new_text(mail.body) == "還是不行"


def test_quoted_history_in_chinese_clients_is_cut() -> None:
    assert new_text("好了,謝謝\n\n王小明 於 2026年3月16日 寫道:\n> 請重啟") == "好了,謝謝"
    assert new_text("thanks\n-----Original Message-----\nFrom: desk") == "thanks"


def test_encoded_subject_is_decoded() -> None:
    mail = parse(raw("=?utf-8?b?5omT5Y2w5qmf5Y2h57SZ?=", "x"))
    assert mail.subject == "打印機卡紙"


def test_html_only_mail_becomes_text() -> None:
    message = (
        "From: a@b.example\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        "<p>螢幕&nbsp;黑屏</p>"
    ).encode()
    assert "螢幕" in parse(message).body and "<p>" not in parse(message).body


def test_invalid_utf8_body_is_kept_with_replacement_characters() -> None:
    message = raw("s", "").replace(b"\r\n\r\n", b"\r\n\r\n") + b"\xff\xfe broken \xe6\x89"
    mail = parse(message)
    assert "broken" in mail.body


def test_unknown_charset_does_not_fail() -> None:
    message = (
        b"From: a@b.example\r\nSubject: s\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\nhello"
    )
    assert "hello" in parse(message).body


def test_mail_without_a_sender_is_refused() -> None:
    with pytest.raises(BadMail):
        parse(b"Subject: hi\r\n\r\nbody")


def test_mail_without_message_id_gets_one_from_its_content() -> None:
    one = parse(raw("s", "body", message_id=None))
    two = parse(raw("s", "body", message_id=None))
    assert one.message_id == two.message_id and one.message_id.startswith("<sha256:")


def test_8bit_chinese_without_a_charset_is_decoded() -> None:
    utf8 = b"From: a@b.example\r\nSubject: s\r\n\r\n" + "重啟後還是黑屏".encode()
    gbk = b"From: a@b.example\r\nSubject: s\r\n\r\n" + "重启后还是黑屏".encode("gb18030")
    assert parse(utf8).body.strip() == "重啟後還是黑屏"
    assert parse(gbk).body.strip() == "重启后还是黑屏"
