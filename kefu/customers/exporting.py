"""Customer export to .xlsx in the import template's columns, so an export can be edited and re-imported.

One row per customer with its primary contact: the import matches rows by customer number, so a
second row for the same customer would be rejected as a duplicate on re-import.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import translation
from openpyxl import Workbook

from kefu.accounts.actors import Actor
from kefu.accounts.models import User
from kefu.core import audit
from kefu.core.models import AuditAction
from kefu.customers.access import may_view_personal_data
from kefu.customers.importing import COLUMNS
from kefu.customers.models import Contact, Customer
from kefu.customers.selectors import contact_view, customer_address

_KIND_LABEL = {"organization": "企业", "consumer": "个人"}
_TIER_LABEL = {"vip": "VIP", "core": "核心", "standard": "普通"}
_FORMULA_START = ("=", "+", "-", "@")
# Characters an .xlsx cannot hold (openpyxl raises IllegalCharacterError for them).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _safe(value: str) -> str:
    """Neutralise spreadsheet formula injection: a cell must never start executing."""
    value = _ILLEGAL.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _primary_contact(customer: Customer) -> Contact | None:
    contacts = list(customer.contacts.all())
    if not contacts:
        return None
    return next((c for c in contacts if c.is_primary), contacts[0])


def export_customers(
    path: Path, *, actor: Actor, queryset: QuerySet[Customer], progress: Callable[[int], None] | None = None
) -> int:
    """Write the customers to ``path``; personal data is masked unless the actor may see it (then the
    export is logged as an unmasked view). Returns the number of customers written."""
    reveal = may_view_personal_data(actor)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户")
    sheet.append([c.header for c in COLUMNS])
    count = 0
    # Labels in the template's language whatever the user's UI language, so the file re-imports.
    with translation.override("zh-hans"):
        for customer in queryset.order_by("pk").iterator(chunk_size=2000):
            contact = _primary_contact(customer)
            segments = "、".join(s.name for s in customer.segments.all())
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
    audit.record(
        actor=actor,
        action=AuditAction.EXPORT,
        # A user's export is filed under the user; a system (CLI) export under the customer table.
        obj=actor if isinstance(actor, User) else ContentType.objects.get_for_model(Customer),
        changes={"customers": [None, count], "unmasked": [None, reveal]},
    )
    return count
