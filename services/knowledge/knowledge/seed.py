"""Starter articles for the desk (KNOWLEDGE_SEED_DEMO=true): the first-line fixes asked for most often."""

from __future__ import annotations

from datetime import datetime

from .domain import Article, ArticleContent, ArticleVersion, LogEntry
from .ports import ArticleStore, ConcurrentUpdate

SEED_AUTHOR = "kb-seed"

DEMO_ARTICLES: dict[str, ArticleContent] = {
    "kb-demo-printer-jam": ArticleContent(
        title="打印機卡紙的處理方法",
        summary="打印機提示卡紙或進紙失敗時，桌面支持可先指導用戶自行處理。",
        body=(
            "1. 關閉打印機電源，等待一分鐘讓定影器冷卻。\n2. 打開前蓋和後蓋，順著進紙方向慢慢取出卡住的紙張，不要用力撕扯。\n"
            "3. 檢查紙盒：紙張不要超過最高刻度，撥鬆紙張後再放入；受潮或捲曲的紙容易卡紙。\n"
            "4. 重新開機並打印測試頁。如果同一台打印機一週內多次卡紙，可能是進紙輥磨損，請轉派工程師上門並記錄資產編號。"
        ),
        category="打印機", tags=["卡紙", "打印機", "printer"], service_codes=["RS-REPAIR"], asset_types=["printer"],
        audience="all",
    ),
    "kb-demo-printer-offline": ArticleContent(
        title="Printer shows offline or jobs stay in the queue",
        summary="Network printers that show offline in Windows usually lost their IP address or the spooler hung.",
        body=(
            "Check the printer's panel for its IP address and ping it from the user's PC. If the address changed, "
            "update the printer port in Devices and Printers. Clear stuck jobs: open services.msc, stop Print Spooler, "
            "delete files in C:\\Windows\\System32\\spool\\PRINTERS, start the spooler again. "
            "If several users on the same floor cannot print, check the switch port before dispatching an engineer."
        ),
        category="打印機", tags=["printer", "offline", "spooler"], service_codes=["RS-REPAIR", "RS-DESKTOP"],
        asset_types=["printer"], audience="all",
    ),
    "kb-demo-vpn": ArticleContent(
        title="VPN 連接失敗（錯誤 809 / 691）",
        summary="在家辦公無法連接 VPN 時的排查步驟。",
        body=(
            "錯誤 691：用戶名或密碼錯誤，或帳號已過期，請先確認域帳號可以登錄 OA。錯誤 809：家用路由器阻擋了 VPN 協議，"
            "請改用手機熱點測試。確認客戶端版本為最新，重新導入配置文件。仍然失敗時，記錄錯誤截圖和連接時間，轉網絡組處理。"
        ),
        category="網絡", tags=["VPN", "遠程辦公", "809", "691"], service_codes=["RS-NETWORK"], asset_types=["laptop"],
        audience="all",
    ),
    "kb-demo-password": ArticleContent(
        title="域帳號密碼重置與帳號解鎖",
        summary="用戶忘記開機密碼或帳號被鎖定時，服務台的標準處理流程。",
        body=(
            "先核實身份：姓名、部門、工號和登記的手機號碼。帳號連續輸錯五次密碼會被鎖定三十分鐘，可在 AD 中直接解鎖。"
            "重置密碼時設置臨時密碼並勾選「下次登錄時須更改密碼」。新密碼至少十位，包含大小寫字母和數字，不能與最近五次相同。"
        ),
        category="帳號", tags=["密碼", "帳號鎖定", "AD"], service_codes=["RS-ACCOUNT"], asset_types=[],
        audience="desk",
    ),
    "kb-demo-password-self": ArticleContent(
        title="How to change your Windows password",
        summary="Change your password before it expires to avoid being locked out.",
        body=(
            "Press Ctrl+Alt+Delete and choose Change a password. Enter the old password once and the new one twice. "
            "Passwords expire every 90 days; you get a reminder 14 days before. After changing it, also update the "
            "password saved on your phone's mail app, or repeated failed logins will lock your account."
        ),
        category="帳號", tags=["password", "windows", "self-help"], service_codes=["RS-ACCOUNT"], asset_types=[],
        audience="all",
    ),
    "kb-demo-network-drive": ArticleContent(
        title="共享盤（網絡驅動器）無法訪問",
        summary="映射的 S: 共享盤打不開或提示找不到網絡路徑。",
        body=(
            "確認電腦已連接內網（網線或辦公 Wi-Fi），在資源管理器輸入 \\\\fileserver\\share 測試。提示「找不到網絡路徑」"
            "通常是網絡問題；提示「拒絕訪問」則是權限問題，需要科室負責人審批後由管理員添加權限。"
            "可以斷開後重新映射網絡驅動器，勾選「登錄時重新連接」。"
        ),
        category="網絡", tags=["共享盤", "網絡驅動器", "權限"], service_codes=["RS-NETWORK"], asset_types=["desktop"],
        audience="all",
    ),
    "kb-demo-outlook": ArticleContent(
        title="Outlook 郵件無法發送或收件箱已滿",
        summary="郵件卡在寄件匣、提示信箱已滿或反覆要求輸入密碼。",
        body=(
            "郵件停在寄件匣：檢查是否處於離線模式，附件不要超過 20MB。信箱已滿：清空已刪除郵件，把舊郵件歸檔到本地 PST。"
            "反覆要求輸入密碼：在憑據管理器中刪除舊的 Outlook 憑據後重新登錄，常見於剛修改密碼之後。"
        ),
        category="郵件", tags=["Outlook", "郵件", "信箱"], service_codes=["RS-EMAIL"], asset_types=["desktop", "laptop"],
        audience="all",
    ),
    "kb-demo-outlook-en": ArticleContent(
        title="Outlook keeps asking for a password",
        summary="Repeated credential prompts after a password change.",
        body=(
            "Open Credential Manager, remove the saved entries for Outlook and Office, then restart Outlook and sign in "
            "once. If the prompt continues, create a new mail profile in Control Panel > Mail. Check that the clock of "
            "the PC is correct, since authentication fails when it is more than five minutes off."
        ),
        category="郵件", tags=["outlook", "email", "password"], service_codes=["RS-EMAIL"], asset_types=["laptop"],
        audience="all",
    ),
    "kb-demo-slow-pc": ArticleContent(
        title="電腦運行緩慢、開機很慢",
        summary="先在電話中指導用戶檢查，再決定是否上門。",
        body=(
            "打開任務管理器，查看 CPU、內存和磁盤佔用最高的程序。磁盤長期 100% 多為機械硬盤老化或殺毒軟件正在全盤掃描。"
            "關閉不需要的開機啟動項，清理臨時文件。使用超過五年的電腦建議登記資產編號，評估更換固態硬盤或整機。"
        ),
        category="桌面", tags=["電腦慢", "開機慢", "硬盤"], service_codes=["RS-DESKTOP"], asset_types=["desktop", "laptop"],
        audience="all",
    ),
    "kb-demo-projector": ArticleContent(
        title="會議室投影儀無信號",
        summary="筆記本電腦接上投影儀後沒有畫面。",
        body=(
            "確認投影儀信號源選擇正確（HDMI1/HDMI2/VGA）。在電腦上按 Win+P 選擇「複製」。更換 HDMI 線測試。"
            "Type-C 轉接頭需要支持視頻輸出。會議前半小時報修的，服務台可先借出備用投影儀。"
        ),
        category="會議室", tags=["投影儀", "HDMI", "會議"], service_codes=["RS-MEETING"], asset_types=["projector"],
        audience="all",
    ),
    "kb-demo-wifi": ArticleContent(
        title="Office Wi-Fi connects but there is no internet",
        summary="Laptops joined to the office wireless network but pages do not load.",
        body=(
            "Forget the network and join it again with the domain account. Run ipconfig /all: an address starting with "
            "169.254 means DHCP failed, so renew with ipconfig /renew. If only one floor is affected, the access point "
            "may be down: note the room number and call the network team."
        ),
        category="網絡", tags=["wifi", "wireless", "dhcp"], service_codes=["RS-NETWORK"], asset_types=["laptop"],
        audience="all",
    ),
    "kb-demo-server-disk": ArticleContent(
        title="文件服務器磁盤空間告警處理",
        summary="服務器磁盤使用率超過 90% 的告警處理，僅供工程師參考。",
        body=(
            "登錄文件服務器，使用 TreeSize 查找佔用最大的目錄。優先清理過期的備份快照和日誌文件，不要直接刪除用戶共享目錄。"
            "如需擴容，提交變更申請，在非辦公時間擴展虛擬磁盤並通知各科室。"
        ),
        category="服務器", tags=["服務器", "磁盤", "告警"], service_codes=["RS-SERVER"], asset_types=["server"],
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
