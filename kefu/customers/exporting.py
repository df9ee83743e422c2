"""Customer export to .xlsx in the import template's columns, so an export can be edited and re-imported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from openpyxl import Workbook

from kefu.core import audit
from kefu.core.models import AuditAction
from kefu.customers.access import may_view_personal_data
from kefu.customers.importing import COLUMNS
from kefu.customers.models import Customer
from kefu.customers.selectors import contact_view, customer_address

_KIND_LABEL = {"organization": "企业", "consumer": "个人"}
_TIER_LABEL = {"vip": "VIP", "core": "核心", "standard": "普通"}
_FORMULA_START = ("=", "+", "-", "@")


def _safe(value: str) -> str:
    """Neutralise spreadsheet formula injection: a cell must never start executing."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def export_customers(
    path: Path, *, actor: Any, queryset: QuerySet[Customer], progress: Callable[[int], None] | None = None
) -> int:
    """Write the customers to ``path``; personal data is masked unless the actor may see it (then the
    export is logged as an unmasked view). Returns the number of customers written."""
    reveal = may_view_personal_data(actor)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户")
    sheet.append([c.header for c in COLUMNS])
    count = 0
    for customer in queryset.order_by("pk").iterator(chunk_size=2000):
        contacts = list(customer.contacts.all()) or [None]
        segments = "、".join(s.name for s in customer.segments.all())
        for contact in contacts:
            view = contact_view(contact, reveal=reveal) if contact else None
            row = {
                "customer_no": customer.customer_no,
                "name": customer.name,
                "kind": _KIND_LABEL[customer.kind],
                "tier": _TIER_LABEL[customer.tier],
                "segments": segments,
                "province": customer.province,
                "city": customer.city,
                "address": customer_address(customer, reveal=reveal),
                "contact_name": view.name if view else "",
                "contact_title": view.title if view else "",
                "phone": view.phone if view else "",
                "email": view.email if view else "",
                "wechat_id": view.wechat_id if view else "",
                "preferred_channel": view.preferred_channel_label if view else "",
                "quiet_hours": view.quiet_hours.replace("–", "-") if view else "",
            }
            sheet.append([_safe(str(row[c.key])) for c in COLUMNS])
        count += 1
        if progress:
            progress(1)
    workbook.save(path)
    if actor is not None and getattr(actor, "is_authenticated", False):
        audit.record(
            actor=actor,
            action=AuditAction.EXPORT,
            obj=actor,
            changes={"customers": [None, count], "unmasked": [None, reveal]},
        )
    return count
