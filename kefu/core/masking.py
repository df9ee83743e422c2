"""PII masking after the national e-waybill convention (GB/T 38727 practice, domain.md "Privacy"):
at least six digits of a phone number hidden, at least one character of a name, the room of an address.
"""

from __future__ import annotations

import re

_ROOM = re.compile(
    r"(\d+\s*(?:室|号房|房|户)|[A-Za-z]?\d+[-\s]?\d*\s*(?:room|rm\.?|unit)|(?:room|rm\.?|unit)\s*\S+)$", re.I
)
_BUILDING_TAIL = re.compile(r"(\d+\s*(?:号楼|栋|幢|单元)\s*)(\d+\s*(?:室|号)?)$")


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138******78``: at least six digits hidden, at most 3 + 2 shown."""
    digits = [c for c in phone if c.isdigit()]
    if len(digits) <= 6:
        return "*" * len(digits) if digits else phone
    keep_tail = min(2, len(digits) - 6)
    keep_head = min(3, len(digits) - 6 - keep_tail)
    hidden = len(digits) - keep_head - keep_tail
    return "".join(digits[:keep_head]) + "*" * hidden + "".join(digits[len(digits) - keep_tail :])


def mask_name(name: str) -> str:
    """``王小明`` → ``王*明``, ``王明`` → ``王*``; Latin names keep the first letter of each word."""
    name = name.strip()
    if not name:
        return name
    if name.isascii():
        return " ".join(part[:1] + "*" * max(len(part) - 1, 1) for part in name.split())
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_email(email: str) -> str:
    """``zhang.wei@example.cn`` → ``z*******@example.cn``."""
    local, sep, domain = email.partition("@")
    if not sep:
        return mask_name(email)
    return local[:1] + "*" * max(len(local) - 1, 3) + "@" + domain


def mask_address(address: str) -> str:
    """Hide the room/unit at the end: ``上海市浦东新区张江路88号3号楼1202室`` → ``…3号楼****``."""
    address = address.strip()
    match = _BUILDING_TAIL.search(address)
    if match:
        return address[: match.start(2)] + "****"
    match = _ROOM.search(address)
    if match:
        return address[: match.start()] + "****"
    # No recognisable room: hide the trailing house number so the exact door is never shown.
    match = re.search(r"\d+\s*号?$", address)
    if match:
        return address[: match.start()] + "****"
    return address
