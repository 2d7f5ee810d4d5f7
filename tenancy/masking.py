"""Personal-data masking (PIPL: show the minimum to whoever does not need the full value)."""
from __future__ import annotations


def mask_phone(phone: str | None) -> str | None:
    """'13812341234' -> '138****1234'; short or odd numbers keep only their last 2 digits."""
    if not phone:
        return phone
    digits = phone.replace(" ", "").replace("-", "")
    if digits.startswith("+86"):
        digits = digits[3:]
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) <= 2:
        return "*" * len(digits)
    return "*" * (len(digits) - 2) + digits[-2:]


def mask_name(name: str | None) -> str | None:
    """'张三' -> '张*', '欧阳娜娜' -> '欧阳**' (compound surname kept), 'Alice Li' -> 'A**** L*'."""
    if not name:
        return name
    if name.isascii():
        return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())
    keep = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[:keep] + "*" * max(1, len(name) - keep)


COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "司徒", "夏侯", "轩辕", "令狐", "钟离", "澹台", "公冶", "太史", "申屠",
})
