"""The top bar: the sections each role sees (the server checks permissions again on every page)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.accounts.models import User


def sections_for(user: User) -> list[dict[str, str]]:
    if user.is_portal_user:
        return [
            {"label": _("我的企业"), "url": reverse("portal-home")},
            {"label": _("我的工单"), "url": reverse("portal-ticket-list")},
        ]
    sections = [{"label": _("工作台"), "url": reverse("home")}]
    if user.has_perm("tickets.view_ticket"):
        sections.append({"label": _("工单"), "url": reverse("ticket-queue")})
    if user.has_perm("tickets.view_calllog"):
        sections.append({"label": _("通话记录"), "url": reverse("ticket-calls")})
    if user.has_perm("customers.view_customer"):
        sections.append({"label": _("客户"), "url": reverse("customer-list")})
    if user.has_perm("customers.import_customers"):
        sections.append({"label": _("导入"), "url": reverse("customer-import")})
    if user.has_perm("accounts.view_team"):
        sections.append({"label": _("团队"), "url": reverse("team-list")})
    if user.is_staff:
        sections.append({"label": _("系统配置"), "url": reverse("admin:index")})
    return sections


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the signed-in user's sections (none when signed out)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    return {"nav": sections_for(user)}
