"""Knowledge search on a base of 20,000 generated articles: indexing rate and search latency (p50/p99).

The articles mix Chinese (simplified and traditional) and English, built from the desk's real vocabulary (devices,
symptoms, error codes, steps, places). Measured in-process on the same SearchIndex the service uses: what a search
costs once the request has arrived. Queries: short self-help searches by requesters (published, audience all),
desk searches (everything), and suggestion queries (a ticket's title and description, published for the desk).

    .venv/bin/python bench/kb_search.py [--articles 20000] [--queries 300]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Callable

from knowledge.domain import Actor, may_see
from knowledge.search import DocAttrs, IndexDoc, SearchIndex
from knowledge.text import Analyzer

DEVICES_ZH = ["打印机", "打印機", "扫描仪", "投影仪", "笔记本电脑", "台式机", "显示器", "交换机", "无线路由器", "座机电话",
              "复印机", "服务器", "UPS电源", "门禁", "视频会议终端", "指纹考勤机"]
SYMPTOMS_ZH = ["卡纸", "卡紙", "无法开机", "蓝屏", "没有信号", "连不上网络", "速度很慢", "提示错误代码", "频繁重启", "打印模糊",
               "无法登录", "密码过期", "共享盘无法访问", "邮件发不出去", "声音很小", "屏幕闪烁", "驱动丢失", "证书过期"]
ACTIONS_ZH = ["关闭电源后重新启动", "检查网线和电源线是否插好", "更新驱动程序", "清理临时文件", "重置密码并解锁账号",
              "更换硒鼓", "重新映射网络驱动器", "联系网络组检查交换机端口", "登记资产编号后转派工程师上门",
              "在设备管理器中卸载后重新安装", "检查IP地址是否冲突", "恢复出厂设置", "清洁进纸辊", "升级固件版本"]
PLACES_ZH = ["三楼", "主楼", "副楼", "会议室", "档案室", "财务科", "人事科", "办公室", "信息中心", "一楼大厅"]
DEVICES_EN = ["printer", "scanner", "projector", "laptop", "desktop PC", "monitor", "switch", "Wi-Fi access point",
              "desk phone", "copier", "file server", "docking station", "headset", "webcam"]
SYMPTOMS_EN = ["paper jam", "will not power on", "blue screen", "no signal", "cannot connect to the network",
               "runs very slowly", "shows error code", "keeps restarting", "prints faded pages", "cannot sign in",
               "password expired", "shared drive not accessible", "emails stuck in the outbox", "no sound",
               "flickering screen", "driver missing", "certificate expired"]
ACTIONS_EN = ["restart the device after a full power off", "check the network and power cables", "update the driver",
              "clear temporary files", "reset the password and unlock the account", "replace the toner cartridge",
              "map the network drive again", "ask the network team to check the switch port",
              "record the asset tag and dispatch an engineer", "reinstall the device in Device Manager",
              "check for an IP address conflict", "update the firmware", "clean the feed rollers"]
CODES = ["0x0000007B", "809", "691", "E-302", "50.4", "13.A2", "0x80070005", "ERR_CONNECTION_RESET", "C2557"]
MODELS = ["HP LaserJet M404dn", "Canon iR-ADV C3530", "Brother HL-L2350DW", "Lenovo ThinkPad T14", "Dell OptiPlex 7090",
          "H3C S5130", "Huawei AR1220", "Epson CB-X49", "Fujitsu fi-7160", "Polycom Group 500", "APC Smart-UPS 1500",
          "Lenovo ThinkCentre M720", "HP EliteDisplay E243", "Ruijie RG-AP720"]
SOFTWARE = ["Office 2019", "WPS", "钉钉", "企业微信", "财务系统", "OA系统", "公文系统", "电子签章", "Outlook", "Teams",
            "VPN客户端", "档案管理系统", "人事系统", "杀毒软件", "浏览器"]
CATEGORIES = ["打印机", "网络", "账号", "桌面", "会议室", "邮件", "服务器", "电话", "安全"]
SERVICES = ["RS-REPAIR", "RS-NETWORK", "RS-ACCOUNT", "RS-DESKTOP", "RS-MEETING", "RS-EMAIL", "RS-SERVER", "RS-PHONE"]
AUDIENCES = ["all", "all", "all", "desk", "engineers"]
STATES = ["published"] * 8 + ["draft", "retired"]


def zh_article(rng: random.Random, n: int) -> IndexDoc:
    dev, sym = rng.choice(DEVICES_ZH), rng.choice(SYMPTOMS_ZH)
    steps = rng.sample(ACTIONS_ZH, 4)
    body = (
        f"{rng.choice(PLACES_ZH)}的{dev}{sym}，用户反映{rng.choice(['今天早上', '最近一周', '每次开机', '打印大文件时'])}出现，"
        f"有时提示错误代码 {rng.choice(CODES)}。处理步骤：1. {steps[0]}；2. {steps[1]}；3. {steps[2]}；4. {steps[3]}。"
        f"如果问题仍然存在，请记录{dev}的资产编号和故障时间，提交给{rng.choice(['网络组', '桌面组', '服务器组'])}。"
        f"注意：{rng.choice(ACTIONS_ZH)}之前先备份用户数据，处理完成后请用户确认。"
        f"适用型号：{rng.choice(MODELS)}，相关软件：{rng.choice(SOFTWARE)}，参考工单 INC-2026-{rng.randint(1, 99999):06d}，"
        f"资产 GZ-{rng.randint(2015, 2026)}-{rng.randint(1, 999999):06d}。"
    ) * rng.randint(1, 2)
    return _doc(rng, n, f"{dev}{sym}的处理方法", body)


def en_article(rng: random.Random, n: int) -> IndexDoc:
    dev, sym = rng.choice(DEVICES_EN), rng.choice(SYMPTOMS_EN)
    steps = rng.sample(ACTIONS_EN, 4)
    body = (
        f"Users report that the {dev} {sym}, sometimes with error {rng.choice(CODES)}. "
        f"First {steps[0]}. Then {steps[1]}. If that does not help, {steps[2]}. Finally {steps[3]}. "
        f"Write down the asset tag and the time of the fault before escalating to the {rng.choice(['network', 'desktop', 'server'])} team. "
        f"Back up the user's files before you {rng.choice(ACTIONS_EN)}. "
        f"Applies to {rng.choice(MODELS)} with {rng.choice(SOFTWARE)}; see ticket INC-2026-{rng.randint(1, 99999):06d}, "
        f"asset GZ-{rng.randint(2015, 2026)}-{rng.randint(1, 999999):06d}."
    ) * rng.randint(1, 2)
    return _doc(rng, n, f"{dev.capitalize()} {sym}", body)


def _doc(rng: random.Random, n: int, title: str, body: str) -> IndexDoc:
    return IndexDoc(
        key=f"kb-{n:05d}", title=title, body=body, summary="",
        attrs=DocAttrs(
            state=rng.choice(STATES), audience=rng.choice(AUDIENCES), category=rng.choice(CATEGORIES),
            tags=frozenset(rng.sample(["卡纸", "vpn", "密码", "驱动", "网络", "printer", "email", "wifi", "硬盘"], 2)),
            service_codes=frozenset([rng.choice(SERVICES)]), author="bench", version=1,
        ),
    )


def queries(rng: random.Random, n: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for i in range(n):
        kind = i % 3
        if kind == 0:  # requester self-help, short
            q = rng.choice([f"{rng.choice(DEVICES_ZH)}{rng.choice(SYMPTOMS_ZH)}", f"{rng.choice(DEVICES_EN)} {rng.choice(SYMPTOMS_EN)}"])
            out.append(("requester", q))
        elif kind == 1:  # desk search with an error code
            out.append(("agent", f"{rng.choice(MODELS)} {rng.choice(SYMPTOMS_ZH + SYMPTOMS_EN)} {rng.choice(CODES)}"))
        else:  # suggestion for a new ticket: title and description
            out.append(("suggestion", f"{rng.choice(PLACES_ZH)}{rng.choice(DEVICES_ZH)}{rng.choice(SYMPTOMS_ZH)}\n"
                                      f"用户说{rng.choice(DEVICES_ZH)}{rng.choice(SYMPTOMS_ZH)}，已经{rng.choice(ACTIONS_ZH)}但是没有用"))
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(2026)

    t = time.perf_counter()
    analyzer = Analyzer()
    analyzer.initialize()
    jieba_s = time.perf_counter() - t

    docs = [zh_article(rng, i) if i % 3 else en_article(rng, i) for i in range(args.articles)]
    chars = sum(len(d.title) + len(d.body) for d in docs)
    index = SearchIndex(analyzer)
    t = time.perf_counter()
    for d in docs:
        index.upsert(d)
    index_s = time.perf_counter() - t

    # The same documents again with their term vectors already computed: the part of a rebuild that is not jieba.
    terms = {d.key: index.analyze(d) for d in docs[:2000]}
    fresh = SearchIndex(analyzer)
    t = time.perf_counter()
    for d in docs[:2000]:
        fresh.upsert(d, terms[d.key])
    postings_rate = 2000 / (time.perf_counter() - t)

    requester, agent = Actor(user="u", role="requester"), Actor(user="a", role="agent")
    wheres: dict[str, Callable[[DocAttrs], bool]] = {
        "requester": lambda a: a.state == "published" and may_see(a, requester),
        "agent": lambda a: a.state == "published" and may_see(a, agent),
        "suggestion": lambda a: a.state == "published" and a.audience in ("desk", "all"),
    }
    timings: dict[str, list[float]] = {k: [] for k in wheres}
    hits_total: dict[str, list[int]] = {k: [] for k in wheres}
    for kind, q in queries(rng, args.queries):
        t = time.perf_counter()
        results = index.search(q, where=wheres[kind], limit=10 if kind != "suggestion" else 3)
        timings[kind].append((time.perf_counter() - t) * 1000)
        hits_total[kind].append(results.total)
    every = [v for vs in timings.values() for v in vs]

    print(f"# Knowledge search benchmark — {time.strftime('%Y-%m-%d')} — {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"articles {args.articles} ({chars / 1e6:.1f} M characters, 2/3 Chinese), queries {args.queries}, jieba init {jieba_s:.2f} s\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| indexing (jieba + postings) | {args.articles / index_s:,.0f} articles/s ({index_s:.1f} s for {args.articles:,}) |")
    print(f"| indexing from stored term vectors | {postings_rate:,.0f} articles/s |")
    print(f"| distinct terms | {len(index._postings):,} |")
    print("\n| queries | n | p50 ms | p99 ms | max ms | median matches |")
    print("|---|---|---|---|---|---|")
    for kind, values in timings.items():
        print(f"| {kind} | {len(values)} | {pct(values, 50):.2f} | {pct(values, 99):.2f} | {max(values):.2f} | {statistics.median(hits_total[kind]):,.0f} |")
    print(f"| all | {len(every)} | {pct(every, 50):.2f} | {pct(every, 99):.2f} | {max(every):.2f} | |")


if __name__ == "__main__":
    main()
