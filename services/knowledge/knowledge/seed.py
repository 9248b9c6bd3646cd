"""Starter articles for the desk (KNOWLEDGE_SEED_DEMO=true): the first-line fixes asked for most often.

Written in simplified Chinese (the agency is on the mainland; traditional queries still find them, see hanzi.py), with
a few in English for the staff who write English. `service_codes` are the catalog's real codes (intake/catalog.py):
RS-ONSITE on-site maintenance, RS-REPAIR equipment repair, RS-INTAKE service requests (accounts, installs), RS-OTHER
application support, PS-INSPECT routine inspection. `asset_types` are the asset register's types. Every ticket of
the suggestion benchmark (tests/data/desk_tickets.json) has its right answer here.
"""

from __future__ import annotations

from datetime import datetime

from .domain import Article, ArticleContent, ArticleVersion, Audience, LogEntry
from .ports import ArticleStore, ConcurrentUpdate

SEED_AUTHOR = "kb-seed"


def _a(
    title: str, summary: str, body: str, *, category: str, tags: list[str], services: list[str], assets: list[str],
    audience: Audience = "all",
) -> ArticleContent:
    return ArticleContent(
        title=title, summary=summary, body=body, category=category, tags=tags, service_codes=services,
        asset_types=assets, audience=audience,
    )


DEMO_ARTICLES: dict[str, ArticleContent] = {
    "kb-demo-printer-jam": _a(
        "打印机卡纸的处理方法",
        "打印机提示卡纸或进纸失败时，桌面支持可先指导用户自行处理。",
        "1. 关闭打印机电源，等待一分钟让定影器冷却。\n2. 打开前盖和后盖，顺着进纸方向慢慢取出卡住的纸张，不要用力撕扯。\n"
        "3. 检查纸盒：纸张不要超过最高刻度，拨松纸张后再放入；受潮或卷曲的纸容易卡纸。\n"
        "4. 重新开机并打印测试页。如果同一台打印机一周内多次卡纸，可能是进纸辊磨损，请转派工程师上门并记录资产编号。",
        category="打印机", tags=["卡纸", "打印机", "进纸", "printer", "paper jam"], services=["RS-REPAIR", "RS-ONSITE"],
        assets=["printer", "copier"],
    ),
    "kb-demo-printer-error": _a(
        "打印机面板显示错误代码（13.A 卡纸、50.x 定影器、49 固件）",
        "惠普等激光打印机面板上的常见错误代码及处理办法。",
        "13.A、13.B 开头的代码表示纸张卡在进纸区或出纸区，按卡纸步骤取出纸张后关闭所有舱门。"
        "50.1 至 50.9 是定影器故障，关机半小时后重启，仍然出现请报修，不要自行拆卸定影器。"
        "49.XXXX 多为打印作业或固件异常，清空打印队列后重启打印机。面板提示“更换硒鼓”“纸盒 2 缺纸”等按提示处理。"
        "记下完整的错误代码和打印机资产编号，便于工程师带备件上门。",
        category="打印机", tags=["打印机", "错误代码", "13.A", "定影器", "HP", "printer error"],
        services=["RS-REPAIR", "RS-ONSITE"], assets=["printer", "copier"],
    ),
    "kb-demo-printer-offline": _a(
        "Printer shows offline or jobs stay in the queue",
        "Network printers that show offline in Windows usually lost their IP address or the spooler hung.",
        "Check the printer's panel for its IP address and ping it from the user's PC. If the address changed, "
        "update the printer port in Devices and Printers. Clear stuck jobs: open services.msc, stop Print Spooler, "
        "delete files in C:\\Windows\\System32\\spool\\PRINTERS, start the spooler again. "
        "If several users on the same floor cannot print, check the switch port before dispatching an engineer.",
        category="打印机", tags=["printer", "offline", "spooler", "打印队列", "脱机"], services=["RS-REPAIR", "RS-ONSITE"],
        assets=["printer"],
    ),
    "kb-demo-printer-toner": _a(
        "打印浅淡、有条纹或提示碳粉不足",
        "打印出来的字迹很淡、有黑线白条或面板提示碳粉不足时更换硒鼓。",
        "取出硒鼓左右摇匀后装回，可以多打几十页。字迹仍然很淡或面板提示碳粉不足，请到服务台领取同型号硒鼓更换，"
        "旧硒鼓交回统一回收。纵向黑线多为硒鼓划伤，横向重复污点多为定影器脏污，需要报修。彩色打印偏色时检查对应颜色的墨粉。",
        category="打印机", tags=["硒鼓", "碳粉", "墨粉", "打印浅", "toner"], services=["RS-REPAIR", "RS-SPARE"],
        assets=["printer", "copier"],
    ),
    "kb-demo-printer-driver": _a(
        "添加网络打印机与安装打印机驱动",
        "新电脑或重装系统后找不到打印机、打印乱码时重新添加打印机。",
        "在“设置 > 蓝牙和其他设备 > 打印机和扫描仪”中添加打印机，选择“按 IP 地址添加”，输入打印机标签上的 IP 地址。"
        "系统找不到驱动时，从共享盘 \\\\fileserver\\drivers 按型号安装。打印出来是乱码多为驱动型号选错，删除后重新添加。"
        "普通用户没有安装驱动的权限时，由服务台远程协助安装。",
        category="打印机", tags=["打印机驱动", "添加打印机", "乱码", "driver"], services=["RS-INTAKE", "RS-ONSITE"],
        assets=["printer", "desktop", "laptop"],
    ),
    "kb-demo-scanner": _a(
        "扫描仪无法扫描到电脑或共享文件夹",
        "扫描仪或复印机的扫描功能找不到电脑、扫描到文件夹失败。",
        "USB 连接的扫描仪：检查数据线，在设备管理器中确认驱动正常，重新安装厂商扫描软件。"
        "复印机扫描到共享文件夹失败：确认电脑的共享文件夹权限、电脑 IP 没有变化，密码修改后要在复印机通讯录中同步更新。",
        category="打印机", tags=["扫描仪", "扫描", "复印机", "scanner"], services=["RS-ONSITE", "RS-REPAIR"],
        assets=["scanner", "copier"],
    ),
    "kb-demo-vpn": _a(
        "VPN 连接失败（错误 809 / 691）",
        "在家办公无法连接 VPN 时的排查步骤。",
        "错误 691：用户名或密码错误，或账号已过期，请先确认域账号可以登录 OA。错误 809：家用路由器阻挡了 VPN 协议，"
        "请改用手机热点测试。确认客户端版本为最新，重新导入配置文件。仍然失败时，记录错误截图和连接时间，转网络组处理。",
        category="网络", tags=["VPN", "远程办公", "809", "691"], services=["RS-ONSITE", "RS-OTHER"], assets=["laptop"],
    ),
    "kb-demo-vpn-en": _a(
        "VPN client: certificate expired or cannot connect from home",
        "Working from home and the VPN client will not connect.",
        "A 'certificate expired' message means the client certificate must be renewed: bring the laptop to the desk or "
        "ask for a remote session. 'Connection timed out' usually means the home network blocks the VPN: try a phone "
        "hotspot. Make sure the laptop's clock is right and the VPN client is the current version.",
        category="网络", tags=["vpn", "remote work", "certificate"], services=["RS-ONSITE", "RS-OTHER"], assets=["laptop"],
    ),
    "kb-demo-password": _a(
        "域账号密码重置与账号解锁",
        "用户忘记开机密码或账号被锁定时，服务台的标准处理流程。",
        "先核实身份：姓名、部门、工号和登记的手机号码。账号连续输错五次密码会被锁定三十分钟，可在 AD 中直接解锁。"
        "重置密码时设置临时密码并勾选“下次登录时须更改密码”。新密码至少十位，包含大小写字母和数字，不能与最近五次相同。",
        category="账号", tags=["密码", "账号锁定", "忘记密码", "AD"], services=["RS-INTAKE"], assets=[], audience="desk",
    ),
    "kb-demo-password-self": _a(
        "How to change your Windows password",
        "Change your password before it expires to avoid being locked out.",
        "Press Ctrl+Alt+Delete and choose Change a password. Enter the old password once and the new one twice. "
        "Passwords expire every 90 days; you get a reminder 14 days before. After changing it, also update the "
        "password saved on your phone's mail app, or repeated failed logins will lock your account.",
        category="账号", tags=["password", "windows", "self-help", "locked"], services=["RS-INTAKE"], assets=[],
    ),
    "kb-demo-oa-login": _a(
        "OA、公文系统无法登录或提示证书错误",
        "业务系统（OA、公文、财务系统）登录失败、UKey 不识别、浏览器提示证书错误。",
        "先确认域账号密码正确（其他系统能否登录）。使用 UKey 的系统：换一个 USB 口，安装 UKey 驱动，证书过期需向信息中心申请续期。"
        "浏览器提示“此网站的安全证书有问题”：使用指定的浏览器，并检查电脑日期时间是否正确。新员工没有系统权限时，走权限申请流程。",
        category="应用系统", tags=["OA", "公文系统", "UKey", "证书", "登录"], services=["RS-OTHER", "RS-INTAKE"],
        assets=["desktop", "laptop"],
    ),
    "kb-demo-network-drive": _a(
        "共享盘（网络驱动器）无法访问",
        "映射的 S: 共享盘打不开或提示找不到网络路径。",
        "确认电脑已连接内网（网线或办公 Wi-Fi），在资源管理器输入 \\\\fileserver\\share 测试。提示“找不到网络路径”"
        "通常是网络问题；提示“拒绝访问”则是权限问题，需要科室负责人审批后由管理员添加权限。"
        "可以断开后重新映射网络驱动器，勾选“登录时重新连接”。",
        category="网络", tags=["共享盘", "网络驱动器", "权限", "shared drive"], services=["RS-ONSITE", "RS-INTAKE"],
        assets=["desktop", "laptop"],
    ),
    "kb-demo-wired": _a(
        "电脑插网线无法上网、IP 地址冲突",
        "有线网络显示“未识别的网络”、网络图标有黄色感叹号或提示 IP 地址冲突。",
        "检查网线两端是否插紧、网口指示灯是否亮，换一根网线或换一个墙上网口测试。运行 ipconfig 查看地址：169.254 开头说明没有获取到地址，"
        "执行 ipconfig /renew；提示 IP 地址冲突时记下地址和电脑资产编号，交网络组处理。整个办公室都断网时检查交换机电源。",
        category="网络", tags=["网线", "断网", "IP冲突", "交换机", "上网"], services=["RS-ONSITE"],
        assets=["desktop", "network_device"],
    ),
    "kb-demo-wifi": _a(
        "Office Wi-Fi connects but there is no internet",
        "Laptops joined to the office wireless network but pages do not load.",
        "Forget the network and join it again with the domain account. Run ipconfig /all: an address starting with "
        "169.254 means DHCP failed, so renew with ipconfig /renew. If only one floor is affected, the access point "
        "may be down: note the room number and call the network team.",
        category="网络", tags=["wifi", "wireless", "dhcp"], services=["RS-ONSITE"], assets=["laptop", "network_device"],
    ),
    "kb-demo-wifi-zh": _a(
        "办公无线网络连不上或信号差",
        "笔记本或手机连不上办公 Wi-Fi、连上后经常掉线。",
        "办公无线网络使用域账号认证：密码修改后要在电脑上“忘记网络”后重新连接。访客请连接访客网络，不要连接办公网络。"
        "某个会议室信号差或经常掉线，记下房间号，由网络组检查无线 AP。",
        category="网络", tags=["无线网络", "WiFi", "掉线", "信号"], services=["RS-ONSITE"], assets=["laptop", "network_device"],
    ),
    "kb-demo-outlook": _a(
        "Outlook 邮件无法发送或邮箱已满",
        "邮件卡在发件箱、提示邮箱已满或反复要求输入密码。",
        "邮件停在发件箱：检查是否处于脱机工作模式，附件不要超过 20MB。邮箱已满：清空已删除邮件，把旧邮件存档到本地 PST。"
        "反复要求输入密码：在凭据管理器中删除旧的 Outlook 凭据后重新登录，常见于刚修改密码之后。",
        category="邮件", tags=["Outlook", "邮件", "邮箱", "发件箱"], services=["RS-OTHER", "RS-ONSITE"],
        assets=["desktop", "laptop"],
    ),
    "kb-demo-outlook-en": _a(
        "Outlook keeps asking for a password",
        "Repeated credential prompts after a password change.",
        "Open Credential Manager, remove the saved entries for Outlook and Office, then restart Outlook and sign in "
        "once. If the prompt continues, create a new mail profile in Control Panel > Mail. Check that the clock of "
        "the PC is correct, since authentication fails when it is more than five minutes off.",
        category="邮件", tags=["outlook", "email", "password"], services=["RS-OTHER"], assets=["laptop", "desktop"],
    ),
    "kb-demo-mail-phishing": _a(
        "收到可疑邮件、钓鱼邮件怎么办",
        "邮件要求点击链接修改密码、打开附件或转账时，先不要操作。",
        "不要点击链接、不要打开附件、不要回复。把邮件转发到信息中心安全邮箱后删除。已经点击链接或输入过密码的，"
        "立即致电服务台重置密码，并断开电脑网络等待工程师检查。",
        category="安全", tags=["钓鱼邮件", "可疑邮件", "安全", "phishing", "suspicious email"], services=["RS-OTHER", "RS-ONSITE"],
        assets=["desktop", "laptop"],
    ),
    "kb-demo-slow-pc": _a(
        "电脑运行缓慢、开机很慢",
        "先在电话中指导用户检查，再决定是否上门。",
        "打开任务管理器，查看 CPU、内存和磁盘占用最高的程序。磁盘长期 100% 多为机械硬盘老化或杀毒软件正在全盘扫描。"
        "关闭不需要的开机启动项，清理临时文件。使用超过五年的电脑建议登记资产编号，评估更换固态硬盘或整机。",
        category="桌面", tags=["电脑慢", "开机慢", "卡顿", "硬盘"], services=["RS-ONSITE", "RS-REPAIR"],
        assets=["desktop", "laptop"],
    ),
    "kb-demo-bluescreen": _a(
        "电脑蓝屏、反复重启或无法开机",
        "开机蓝屏、自动重启、按电源键没有反应时的处理。",
        "记下蓝屏上的错误代码（如 0x0000007B、CRITICAL_PROCESS_DIED）并拍照。拔掉新接的 U 盘和外设后重启。"
        "按电源键完全没有反应：检查电源线和插座，笔记本接上充电器等待十分钟。反复蓝屏或硬盘有异响，请不要反复开机，报修并登记资产编号，"
        "工程师上门时带备用机。",
        category="桌面", tags=["蓝屏", "无法开机", "重启", "死机", "blue screen", "restart", "no power"], services=["RS-ONSITE", "RS-REPAIR"],
        assets=["desktop", "laptop"],
    ),
    "kb-demo-monitor": _a(
        "显示器黑屏、无信号或第二个显示器不识别",
        "主机在运行但显示器没有画面，或外接第二块屏幕不显示。",
        "确认显示器电源指示灯亮，按显示器菜单键选择正确的输入源（HDMI/DP/VGA）。重新插拔视频线，换一根线测试。"
        "外接第二个显示器：按 Win+P 选择“扩展”，在显示设置中点击“检测”。屏幕闪烁或有竖线多为显示器故障，报修更换。",
        category="桌面", tags=["显示器", "黑屏", "无信号", "第二屏幕", "monitor", "second screen", "not detected"], services=["RS-ONSITE", "RS-REPAIR"],
        assets=["monitor", "desktop"],
    ),
    "kb-demo-keyboard-mouse": _a(
        "键盘、鼠标没有反应",
        "有线或无线键盘鼠标失灵、按键失灵。",
        "有线键鼠：换一个 USB 口，在另一台电脑上测试。无线键鼠：更换电池，重新插拔接收器，接收器离主机太远时用延长线。"
        "个别按键失灵或进水，到服务台领取备用键盘。",
        category="桌面", tags=["键盘", "鼠标", "外设", "keyboard", "mouse"], services=["RS-ONSITE", "RS-SPARE"],
        assets=["desktop"],
    ),
    "kb-demo-usb": _a(
        "U 盘、移动硬盘无法识别或被禁止使用",
        "插入 U 盘后电脑没有反应、提示需要格式化或提示设备被策略禁用。",
        "按保密规定，办公电脑只允许使用登记过的加密 U 盘；未登记的 U 盘会被禁用，需要填写申请表由科室负责人审批。"
        "已登记的 U 盘不识别：换一个 USB 口，在磁盘管理中查看是否没有分配盘符。提示需要格式化时不要格式化，先联系服务台尝试恢复数据。",
        category="桌面", tags=["U盘", "移动硬盘", "USB", "禁用"], services=["RS-ONSITE", "RS-INTAKE"],
        assets=["desktop", "laptop"],
    ),
    "kb-demo-virus": _a(
        "电脑中毒、弹出广告窗口或文件被加密",
        "桌面右下角不断弹广告、浏览器主页被修改、文件扩展名被改且无法打开。",
        "立即拔掉网线或断开无线网络，防止感染其他电脑。用杀毒软件全盘扫描，卸载来路不明的软件。文件被加密（勒索病毒）时不要重启、"
        "不要付款，马上致电服务台，由安全工程师处理并从备份恢复。",
        category="安全", tags=["病毒", "杀毒", "弹窗", "勒索病毒"], services=["RS-ONSITE"], assets=["desktop", "laptop"],
    ),
    "kb-demo-software-install": _a(
        "申请安装软件、Office 或 WPS 提示未激活",
        "需要安装工作软件，或 Office、WPS 提示产品未激活、功能受限。",
        "办公电脑没有管理员权限，安装软件需在服务台提交申请，写明软件名称和用途，正版软件由工程师远程安装。"
        "Office 提示“产品未激活”：确认连接内网后在“文件 > 账户”中重新激活；WPS 使用单位授权序列号，由服务台远程激活。",
        category="软件", tags=["安装软件", "Office", "WPS", "激活", "software"], services=["RS-INTAKE", "RS-OTHER"],
        assets=["desktop", "laptop"],
    ),
    "kb-demo-projector": _a(
        "会议室投影仪无信号",
        "笔记本电脑接上投影仪后没有画面。",
        "确认投影仪信号源选择正确（HDMI1/HDMI2/VGA）。在电脑上按 Win+P 选择“复制”。更换 HDMI 线测试。"
        "Type-C 转接头需要支持视频输出。投影画面发黄、很暗是灯泡老化，报修更换灯泡。会议前半小时报修的，服务台可先借出备用投影仪。",
        category="会议室", tags=["投影仪", "HDMI", "会议室", "projector", "no signal"], services=["RS-ONSITE"], assets=["projector"],
    ),
    "kb-demo-video-conf": _a(
        "视频会议听不到声音、麦克风没有声音",
        "腾讯会议、Teams 等视频会议中听不到对方或对方听不到自己。",
        "在会议软件的音频设置中选择正确的扬声器和麦克风（会议室终端或耳机）。在 Windows 的“隐私 > 麦克风”中允许应用访问麦克风。"
        "会议室终端没有声音时检查音箱电源和音量。重要会议请提前一天预约，工程师会前调试。",
        category="会议室", tags=["视频会议", "麦克风", "声音", "Teams", "腾讯会议", "microphone", "sound", "meeting"], services=["RS-ONSITE"],
        assets=["video_conference", "laptop"],
    ),
    "kb-demo-phone": _a(
        "座机电话没有拨号音或打不了外线",
        "办公电话听筒没声音、没有拨号音、拨外线失败。",
        "检查电话线和听筒线是否插好，换一根电话线测试。拨外线需要先拨 9；打不了长途需要申请开通权限。"
        "IP 电话屏幕显示“未注册”时，检查网线并重启话机。同一办公室多部电话都没有拨号音时联系通信组检查线路。",
        category="电话", tags=["座机", "电话", "拨号音", "外线", "IP电话"], services=["RS-ONSITE"], assets=["phone"],
    ),
    "kb-demo-server-disk": _a(
        "文件服务器磁盘空间告警处理",
        "服务器磁盘使用率超过 90% 的告警处理，仅供工程师参考。",
        "登录文件服务器，使用 TreeSize 查找占用最大的目录。优先清理过期的备份快照和日志文件，不要直接删除用户共享目录。"
        "如需扩容，提交变更申请，在非办公时间扩展虚拟磁盘并通知各科室。",
        category="服务器", tags=["服务器", "磁盘", "告警"], services=["PS-INSPECT", "RS-ONSITE"], assets=["server"],
        audience="engineers",
    ),
}


async def seed(articles: ArticleStore, *, now: datetime) -> int:
    """Add the demo articles that are missing, published; returns how many were added."""
    added = 0
    for article_id, content in DEMO_ARTICLES.items():
        if await articles.get(article_id) is not None:
            continue
        article = Article(
            id=article_id, content=content, state="published", author=SEED_AUTHOR, created_at=now, updated_at=now,
            published_at=now, published_version=1,
            log=[LogEntry(at=now, by=SEED_AUTHOR, action="seed", to_state="published")],
        )
        version = ArticleVersion(article_id=article_id, version=1, content=content, edited_by=SEED_AUTHOR, edited_at=now)
        try:
            await articles.add(article, version, [])
        except ConcurrentUpdate:
            continue  # another instance seeded it first
        added += 1
    return added
