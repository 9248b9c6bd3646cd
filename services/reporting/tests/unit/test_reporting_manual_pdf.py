"""The maintenance manual's PDF read back with pdftotext: the contents list every chapter with the page it starts on,
each article is a chapter with its text, and the only font is the embedded CJK one."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from opsdesk_shared.contracts.knowledge import PublishedArticle
from reporting import manual
from reporting.render import manual as manual_pdf

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed")

AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
LONG_STEPS = "\n".join(f"{n}. 第{n}步：检查打印机的第{n}个部件，确认其安装到位，并记录检查结果。" for n in range(1, 70))
ARTICLES = [
    PublishedArticle(article_id="a-1", title="打印机卡纸的处理方法", version=2, category="打印机", summary="卡纸时按步骤处理",
                     body="# 现象\n打印时提示卡纸。\n# 处理步骤\n" + LONG_STEPS, published_at=AT),
    PublishedArticle(article_id="a-2", title="VPN 无法连接", version=1, category="网络",
                     body="- 检查网线是否插好\n- 重启 VPN 客户端\n```\nping 10.0.0.1\n```\n仍不能连接时，请致电服务台。", published_at=AT),
    PublishedArticle(article_id="a-3", title="電子郵件收發異常", version=3, category="郵件", body="清除緩存後重新登錄。", published_at=AT),
]


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    report = manual.build(ARTICLES, selection={"article_ids": ["a-1", "a-2", "a-3"]}, lang="zh-CN",
                          generated_at=datetime(2026, 12, 1, 2, tzinfo=UTC))
    path = tmp_path_factory.mktemp("manual") / "manual.pdf"
    path.write_bytes(manual_pdf.render({**report, "revision": 1}))
    return path


def pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")


def test_the_contents_list_every_chapter_with_the_page_it_starts_on(pdf: Path) -> None:
    text = pages(pdf)
    assert "《维护手册》" in text[0] and "收录文章" in text[0]
    toc = {m.group(1).strip(): int(m.group(2)) for m in re.finditer(r"(第\d章\s+\S.*?)[ .]+(\d+)\s*$", text[1], re.M)}
    titles = ["第1章 打印机卡纸的处理方法", "第2章 VPN 无法连接", "第3章 電子郵件收發異常"]
    got = {re.sub(r"\s+", " ", k): v for k, v in toc.items()}
    assert list(got) == titles
    for title, page in got.items():
        assert re.sub(r"\s+", " ", text[page - 1]).lstrip().startswith(("维护手册", title.split()[0])), title
        assert title.split(" ", 1)[1] in text[page - 1]
    assert got["第2章 VPN 无法连接"] > got["第1章 打印机卡纸的处理方法"] + 1  # the long first chapter runs over a page


def test_each_article_is_a_chapter_with_its_text(pdf: Path) -> None:
    whole = "\n".join(pages(pdf))
    for fragment in ("打印时提示卡纸。", "第69步：检查打印机的第69个部件", "检查网线是否插好", "ping 10.0.0.1",
                     "清除緩存後重新登錄。", "文章版本: v3", "分类: 打印机", "签署确认"):
        assert fragment in whole, fragment


def test_the_manual_embeds_only_the_cjk_font(pdf: Path) -> None:
    fonts = set()
    for page in PdfReader(str(pdf)).pages:
        for font in (page.get("/Resources", {}).get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert fonts and all("WenQuanYi" in f or "WQY" in f for f in fonts), fonts


def test_only_digits_a_dot_and_a_space_start_a_numbered_step() -> None:
    """Markdown's rule: "13.A、13.B 开头的代码…" is a sentence and keeps its text; "2. 重启" is step 2."""
    s = manual_pdf.manual_styles()
    sentence, step = manual_pdf.body("13.A、13.B 开头的代码表示打印机硬件故障。\n2. 重启打印机", s)
    assert getattr(sentence, "bulletText", None) is None
    assert sentence.text == "13.A、13.B 开头的代码表示打印机硬件故障。"
    assert step.bulletText == "2." and step.text == "重启打印机"
