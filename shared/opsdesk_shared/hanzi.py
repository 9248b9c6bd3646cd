"""Traditional to simplified Chinese, character by character, for the words a service desk meets.

The desk writes both scripts (tickets say 打印機卡紙, engineers' documents 打印机卡纸) and jieba's dictionary is
simplified, so the index and every query are folded to simplified before segmentation. The map is one character to
one character, so offsets in the folded text are offsets in the original: highlights land on the original text.
No package with a full table (OpenCC, zhconv) is installed; this one covers common office and IT vocabulary.
"""

from __future__ import annotations

# Pairs: traditional then simplified.
_PAIRS = (
    "機机紙纸網网絡络碼码郵邮設设備备電电腦脑連连線线無无開开啟启帳账號号錄录盤盘驅驱動动顯显螢萤鍵键標标掃扫"
    "儀仪軟软體体統统業业務务終终離离職职權权認认證证傳传輸输檔档資资夾夹雙双會会議议視视頻频訊讯聲声響响話话"
    "語语頁页題题問问題题應应該该這这個个們们為为麼么實实現现發发點点擊击鈕钮選选擇择項项單单張张專专員员處处"
    "辦办樓楼層层區区門门學学書书將将從从對对時时間间後后並并與与說说請请讓让還还過过進进關关閉闭換换壞坏舊旧"
    "溫温濕湿滿满讀读寫写刪删除除複复製制貼贴節节範范圍围內内圖图像像異异常常錯错誤误報报警警測测試试驗验維维"
    "護护修修據据庫库數数據据據据類类別别組组織织權权戶户賬账密密碼码變变更更舊旧掛挂斷断線线協协議议郵邮遞递"
    "訂订閱阅註注冊册級级記记憶忆體体儲储存存硬硬碟碟損损壞坏複复雜杂緩缓慢慢卡卡頓顿當当機机閃闪爍烁鏈链結结"
    "載载裝装卸卸驗验證证書书籤签檢检查查詢询視视窗窗戶户頭头燈灯亮亮紅红綠绿黃黄藍蓝質质量量紀纪錄录證证歷历"
    "雲云盤盘導导覽览瀏浏覽览條条碼码掃扫槍枪滑滑鼠鼠觸触控控屏屏幕幕筆笔記记線线纜缆接接頭头插插座座熱热風风"
    "扇扇噪噪聲声時时鐘钟同同步步備备份份還还原原恢恢復复戶户遠远程程桌桌面面協协助助權权限限啟启動动關关機机"
    "掃扫描描傳传真真複复印印彩彩色色墨墨盒盒碳碳粉粉鼓鼓廢废紙纸匣匣進进紙纸輥辊清清潔洁維维護护術术員员程程"
    "師师執执行行達达標标準准確确認认證证碼码驗验證证鎖锁賬账戶户憑凭據据變变動动額额預预約约態态狀状況况區区域域"
    "網网段段閘闸道道節节點点伺伺服服務务器器虛虚擬拟擬拟環环境境佈布署署員员門门戶户議议導导遞递級级轉转換换帶带寬宽"
    "慢慢斷断續续丟丢包包漏漏洞洞毒毒殺杀軟软補补丁丁升升級级舊旧版版裡里邊边幾几種种樣样麼么嗎吗沒没誰谁該该"
    "辦办法法應应用用許许可可權权憑凭證证識识別别碼码驗验審审核核準准批批歸归檔档報报表表統统計计積积極极"
    "優优先先級级範范例例說说明明廠厂商商購购買买採采購购價价格格費费預预算算貨货倉仓庫库存存損损耗耗盜盗竊窃遺遗失失"
)

T2S: dict[int, int] = {ord(_PAIRS[i]): ord(_PAIRS[i + 1]) for i in range(0, len(_PAIRS) - 1, 2)}


def to_simplified(text: str) -> str:
    """Fold traditional characters to simplified ones; same length, same offsets."""
    return text.translate(T2S)
