"""Asset type names in the reader's language (zh-CN, zh-TW, en). Pure.

Built-in types have their names in the three languages; a type an administrator added (or renamed) keeps the name
given, shown in traditional script to a zh-TW reader (OpenCC). A name read in one language and put back unchanged
(`PUT /asset-types/{code}` takes back what `GET` returned) is stored as the built-in's own, so an English reader
editing the attributes does not rename the type for everyone.
"""

from __future__ import annotations

from opsdesk_shared.hanzi import to_traditional

from .domain import CiType

# code: (zh-CN, zh-TW, en)
BUILTIN_NAMES: dict[str, tuple[str, str, str]] = {
    "desktop": ("台式机", "桌上型電腦", "Desktop"),
    "laptop": ("笔记本", "筆記型電腦", "Laptop"),
    "printer": ("打印机", "印表機", "Printer"),
    "scanner": ("扫描仪", "掃描器", "Scanner"),
    "server": ("服务器", "伺服器", "Server"),
    "network_device": ("网络设备", "網路設備", "Network device"),
    "storage": ("存储", "儲存設備", "Storage"),
    "software_licence": ("软件许可", "軟體授權", "Software licence"),
    "application": ("应用系统", "應用系統", "Application"),
    "business_service": ("业务服务", "業務服務", "Business service"),
    "monitor": ("显示器", "顯示器", "Monitor"),
    "projector": ("投影仪", "投影機", "Projector"),
    "copier": ("复印机", "影印機", "Copier"),
    "phone": ("电话机", "電話機", "Phone"),
    "video_conference": ("视频会议终端", "視訊會議終端", "Video conferencing unit"),
}
LANGUAGES = ("zh-CN", "zh-TW", "en")


def shown(ci_type: CiType, language: str | None) -> CiType:
    """The type as a reader of `language` reads it (None: as stored)."""
    if language not in LANGUAGES:
        return ci_type
    names = BUILTIN_NAMES.get(ci_type.code)
    if names is not None and ci_type.name in names:
        return ci_type.model_copy(update={"name": names[LANGUAGES.index(language)]})
    if language == "zh-TW":
        return ci_type.model_copy(update={"name": to_traditional(ci_type.name)})
    return ci_type


def stored(ci_type: CiType) -> CiType:
    """The type as it is kept: a built-in's name in any of its languages is kept as its zh-CN one."""
    names = BUILTIN_NAMES.get(ci_type.code)
    if names is not None and ci_type.name in names:
        return ci_type.model_copy(update={"name": names[0]})
    return ci_type
