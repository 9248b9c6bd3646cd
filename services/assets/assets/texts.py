"""What the CMDB says when it refuses, in the caller's language (zh-CN, zh-TW, en), as the desk and dispatch do
(intake/texts.py, dispatch/texts.py).

A refusal is raised with a `Said`: a catalogue code with its parameters. `Said` is a `str` whose value is the English
text, so logs, `str(exc)` and older callers keep working; the edge (entrypoints/errors.py) renders it in the caller's
language (Accept-Language, chosen by opsdesk_shared.errors.language) for the one error shape's `detail` or a field's
`msg`. The machinery is the services' one (opsdesk_shared.catalogue); this module keeps the table and its words.
The register import's row errors carry their code and parameters too (register_io.RowError), so the report
is said in the reader's language while the stored import keeps the code.
"""

from __future__ import annotations

from opsdesk_shared import catalogue
from opsdesk_shared.catalogue import Catalogue, localise, said_of

# Values a parameter names that a person reads in their language (asset statuses, repair stages, relation types).
WORDS: dict[str, tuple[str, str, str]] = {
    "ordered": ("已订购", "已訂購", "ordered"),
    "in_stock": ("在库", "在庫", "in_stock"),
    "deployed": ("在用", "在用", "deployed"),
    "in_repair": ("维修中", "維修中", "in_repair"),
    "on_loan": ("借出", "借出", "on_loan"),
    "retired": ("已退役", "已退役", "retired"),
    "disposed": ("已处置", "已處置", "disposed"),
    "open": ("已开启", "已開啟", "open"),
    "in_progress": ("处理中", "處理中", "in_progress"),
    "sent_to_vendor": ("已送修", "已送修", "sent_to_vendor"),
    "at_vendor": ("在供应商处", "在供應商處", "at_vendor"),
    "repaired": ("已修复", "已修復", "repaired"),
    "returned": ("已返还", "已返還", "returned"),
    "written_off": ("已报废", "已報廢", "written_off"),
    "closed": ("已关闭", "已關閉", "closed"),
    "runs_on": ("运行于", "運行於", "runs_on"),
    "depends_on": ("依赖", "依賴", "depends_on"),
    "connected_to": ("连接", "連接", "connected_to"),
    "installed_on": ("安装于", "安裝於", "installed_on"),
    "used_by": ("使用部门", "使用部門", "used_by"),
    "missing": ("缺失", "缺失", "missing"),
    "unregistered": ("未登记", "未登記", "unregistered"),
    "wrong_location": ("位置不符", "位置不符", "wrong_location"),
    "wrong_owner": ("使用人不符", "使用人不符", "wrong_owner"),
}
# Parameters whose value is one of WORDS (the rest are names, tags and numbers, shown as they are).
WORD_PARAMS = frozenset({"current", "wanted", "status", "type_word", "kind"})

TEXTS: dict[str, tuple[str, str, str]] = {
    # Who may (403, 401).
    "err.read_role": ("角色 {role} 无权查看资产台账", "角色 {role} 無權查看資產台帳", "role {role} may not read the register"),
    "err.write_role": ("角色 {role} 无权修改资产台账", "角色 {role} 無權修改資產台帳", "role {role} may not change the register"),
    "err.no_subject": ("内部凭证未指明操作人", "內部憑證未指明操作人", "the internal token names no subject"),
    # What is not there (404; also a 422 field naming something unknown).
    "err.no_asset": ("没有标签为 {tag} 的资产", "沒有標籤為 {tag} 的資產", "no asset tagged {tag}"),
    "err.no_asset_at": ("{at} 时没有标签为 {tag} 的资产", "{at} 時沒有標籤為 {tag} 的資產", "no asset tagged {tag} at {at}"),
    "err.asset_not_found": ("找不到资产 {tag}", "找不到資產 {tag}", "asset {tag} not found"),
    "err.repair_not_found": ("找不到维修记录 {id}", "找不到維修記錄 {id}", "repair {id} not found"),
    "err.audit_not_found": ("找不到盘点 {id}", "找不到盤點 {id}", "audit {id} not found"),
    "err.baseline_not_found": ("找不到基线 {id}", "找不到基線 {id}", "baseline {id} not found"),
    "err.relation_not_found": ("找不到该关系", "找不到該關係", "relation not found"),
    "err.stock_not_found": ("找不到 {site} 的 {part} 库存", "找不到 {site} 的 {part} 庫存", "stock of {part} at {site} not found"),
    "err.issue_not_found": ("找不到备件领用 {id}", "找不到備件領用 {id}", "spare issue {id} not found"),
    "err.loan_not_found": ("找不到借用记录 {id}", "找不到借用記錄 {id}", "loan {id} not found"),
    "err.no_repair": ("没有维修记录 {id}", "沒有維修記錄 {id}", "no repair {id}"),
    "err.unknown_ticket": ("没有已知的工单 {ref}（按编号或单号）", "沒有已知的工單 {ref}（按編號或單號）", "no ticket {ref} is known (by id or number)"),
    "err.no_reservation": ("没有该预留", "沒有該預留", "no such reservation"),
    # State conflicts (409).
    "err.asset_changed": ("资产 {tag} 已被他人修改，请重试", "資產 {tag} 已被他人修改，請重試", "asset {tag} changed meanwhile; retry"),
    "err.register_changed": ("资产台账已被他人修改，请重试", "資產台帳已被他人修改，請重試", "the register changed meanwhile; retry"),
    "err.repair_changed": ("维修记录 {id} 已被他人修改，请重试", "維修記錄 {id} 已被他人修改，請重試", "repair {id} changed meanwhile; retry"),
    "err.stock_changed": ("库存已被他人修改，请重试", "庫存已被他人修改，請重試", "stock changed meanwhile; retry"),
    "err.tag_taken": ("标签 {tag} 已被登记", "標籤 {tag} 已被登記", "tag {tag} is already registered"),
    "err.asset_step": ("资产不能从「{current}」改为「{wanted}」", "資產不能從「{current}」改為「{wanted}」",
                       "an asset cannot go from {current} to {wanted}"),
    "err.repair_step": ("维修记录不能从「{current}」改为「{wanted}」", "維修記錄不能從「{current}」改為「{wanted}」",
                        "a repair cannot go from {current} to {wanted}"),
    "err.not_at_vendor": ("维修记录 {id} 处于「{status}」，不在供应商处", "維修記錄 {id} 處於「{status}」，不在供應商處",
                          "repair {id} is {status}, not with a vendor"),
    "err.audit_closed": ("盘点 {id} 已结束", "盤點 {id} 已結束", "audit {id} is closed"),
    "err.audit_already_closed": ("盘点 {id} 已经结束", "盤點 {id} 已經結束", "audit {id} is already closed"),
    "err.audit_open": ("盘点 {id} 须先结束才能更正", "盤點 {id} 須先結束才能更正", "audit {id} must be closed before corrections"),
    "err.no_finding": ("盘点 {id} 没有报告 {tag} 的「{kind}」", "盤點 {id} 沒有報告 {tag} 的「{kind}」",
                       "audit {id} reported no {kind} for {tag}"),
    "err.not_correctable": ("「{kind}」不能在台账中直接更正（缺失：请退役；未登记：请登记）",
                            "「{kind}」不能在台帳中直接更正（缺失：請退役；未登記：請登記）",
                            "{kind} cannot be corrected in the register (missing: retire it; unregistered: register it)"),
    "err.self_relation": ("{tag} 不能与自身建立关系", "{tag} 不能與自身建立關係", "{tag} cannot relate to itself"),
    "err.relation_exists": ("关系 {id} 已存在", "關係 {id} 已存在", "{id} already exists"),
    "err.cycle": ("「{type_word}」会形成依赖环：{cycle}", "「{type_word}」會形成依賴環：{cycle}",
                  "{type_word} would close a dependency cycle: {cycle}"),
    "err.department_relation": ("只有「使用部门」关系可以指向部门", "只有「使用部門」關係可以指向部門", "only used_by may name a department"),
    "err.not_enough_stock": ("{key}：可用 {available}，需要 {wanted}", "{key}：可用 {available}，需要 {wanted}",
                             "{key}: {available} available, {wanted} wanted"),
    "err.not_enough_reserved": ("{key}：预留 {reserved}，另有 {available} 可用", "{key}：預留 {reserved}，另有 {available} 可用",
                                "{key}: reservation of {reserved}, {available} more available"),
    "err.not_lendable": ("{tag} 处于「{status}」，只有在库的设备可以借出", "{tag} 處於「{status}」，只有在庫的設備可以借出",
                         "{tag} is {status}; only an item in stock can be lent"),
    "err.loan_returned": ("借用 {id} 已归还", "借用 {id} 已歸還", "loan {id} was already returned"),
    "err.issue_reversed": ("领用 {id} 已于 {at} 由 {by} 冲销", "領用 {id} 已於 {at} 由 {by} 沖銷",
                           "issue {id} was reversed at {at} by {by}"),
    # Fields (422) and the register import's row errors.
    "err.required": ("必填", "必填", "is required"),
    "err.tag_format": ("只能包含字母、数字、- 和 _，2 至 40 个字符", "只能包含字母、數字、- 和 _，2 至 40 個字元",
                       "letters, digits, - and _; 2 to 40 characters"),
    "err.tag_invalid": ("标签无效（只能包含字母、数字、- 和 _，2 至 40 个字符）", "標籤無效（只能包含字母、數字、- 和 _，2 至 40 個字元）",
                        "invalid tag (letters, digits, - and _; 2 to 40 characters)"),
    "err.tag_registered": ("该标签已登记", "該標籤已登記", "already registered"),
    "err.tag_duplicate": ("与第 {row} 行重复", "與第 {row} 行重複", "duplicate of row {row}"),
    "err.unknown_type": ("未知的资产类型「{type}」", "未知的資產類型「{type}」", "unknown type '{type}'"),
    "err.unknown_type_known": ("未知的资产类型「{type}」；已有：{known}", "未知的資產類型「{type}」；已有：{known}",
                               "unknown type '{type}'; known: {known}"),
    "err.one_of": ("取值应为 {choices} 之一", "取值應為 {choices} 之一", "must be one of {choices}"),
    "err.date": ("应为日期（YYYY-MM-DD）", "應為日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)"),
    "err.warranty_before": ("保修截止日期早于购置日期", "保修截止日期早於購置日期", "is before purchase_date"),
    "err.unknown_attribute": ("类型 {type} 没有此属性", "類型 {type} 沒有此屬性", "unknown attribute for type {type}"),
    "err.whole_number": ("应为整数", "應為整數", "must be a whole number"),
    "err.number": ("应为数字", "應為數字", "must be a number"),
    "err.yes_no": ("应为「是」或「否」", "應為「是」或「否」", "must be yes or no"),
    "err.fixed_field": ("不能在此修改", "不能在此修改", "cannot be changed here"),
    "err.attributes_object": ("应为对象；其中取值为 null 的属性会被删除", "應為物件；其中取值為 null 的屬性會被刪除",
                              "must be an object; a null value inside it removes that attribute"),
    "err.code_path": ("须与路径中的代码相同", "須與路徑中的代碼相同", "must equal the code in the path"),
    "err.offset_needed": ("须带时区偏移（如 2026-11-30T15:00:00+08:00）", "須帶時區偏移（如 2026-11-30T15:00:00+08:00）",
                          "as_of needs a time zone offset"),
    "err.none_chosen": ("没有选中任何资产", "沒有選中任何資產", "no assets chosen"),
    "err.cursor": ("游标不属于此列表：{error}", "游標不屬於此列表：{error}", "not a cursor from this list: {error}"),
    "err.range": ("结束日期 {end} 早于开始日期 {start}", "結束日期 {end} 早於開始日期 {start}", "{end} is before {start}"),
    "err.unknown_column": ("未知的列", "未知的欄", "unknown column"),
    "err.column_missing": ("缺少必需的列", "缺少必需的欄", "required column missing"),
    "err.too_many_rows": ("超过 {max} 行", "超過 {max} 行", "more than {max} rows"),
    "err.too_many_rows_parts": ("超过 {max} 行，请分批导入", "超過 {max} 行，請分批匯入", "more than {max} rows; import the register in parts"),
    "err.too_many_blank_rows": ("空行超过 {max} 行", "空行超過 {max} 行", "more than {max} blank rows"),
    "err.csv_utf8": ("CSV 文件须为 UTF-8 编码", "CSV 檔案須為 UTF-8 編碼", "CSV must be UTF-8"),
    "err.empty_file": ("文件是空的", "檔案是空的", "the file is empty"),
    "err.bad_csv": ("无法读取的 CSV 文件（第 {line} 行）：{error}", "無法讀取的 CSV 檔案（第 {line} 行）：{error}",
                    "not a readable CSV file (line {line}): {error}"),
    "err.bad_xlsx": ("无法读取的 XLSX 文件：{error}", "無法讀取的 XLSX 檔案：{error}", "not a readable XLSX file: {error}"),
    "err.xlsx_too_big": ("XLSX 解压后超过 {mb} MB", "XLSX 解壓後超過 {mb} MB", "the XLSX unpacks to more than {mb} MB"),
    "err.file_too_large": ("文件超过 {bytes} 字节", "檔案超過 {bytes} 位元組", "file over {bytes} bytes"),
}


CATALOGUE = Catalogue(TEXTS, words=dict.fromkeys(WORD_PARAMS, WORDS))
render = CATALOGUE.render


class Said(catalogue.Said):
    """A refusal text of the CMDB's catalogue: a code with parameters, whose `str` value is the English text."""

    catalogue = CATALOGUE


__all__ = ["CATALOGUE", "TEXTS", "WORDS", "Said", "localise", "render", "said_of"]
