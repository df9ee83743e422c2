"""Who may see which customer: the one rule used by every list and every detail page and endpoint."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kefu.accounts.actors import Actor
from kefu.accounts.models import User
from kefu.core.errors import NotFound, PermissionDenied
from kefu.customers.models import Customer


def visible_customers(user: Actor | AnonymousUser) -> QuerySet[Customer]:
    """Staff with ``view_customer`` see every customer; a portal user sees only its organization;
    anyone else (signed out, inactive, a system actor) none."""
    if not isinstance(user, User) or not user.is_active:
        return Customer.objects.none()
    if getattr(user, "is_portal_user", False):
        account = getattr(user, "portal_account", None)
        return Customer.objects.filter(pk=account.customer_id) if account else Customer.objects.none()
    if user.has_perm("customers.view_customer"):
        return Customer.objects.all()
    return Customer.objects.none()


def access_customer(user: Actor | AnonymousUser, public_id: str, *, lock: bool = False) -> Customer:
    """Fetch a customer the user may see; 404 otherwise (never a hint that it exists)."""
    queryset = visible_customers(user)
    if lock:
        queryset = queryset.select_for_update()
    customer = queryset.select_related("account_agent").filter(public_id=public_id).first()
    if customer is None:
        raise NotFound(_("客户不存在"))
    return customer


def require_perm(user: Actor | AnonymousUser, perm: str) -> None:
    if not isinstance(user, User) or not user.has_perm(perm):
        raise PermissionDenied(_("没有权限执行此操作"))


def may_view_personal_data(user: Actor | AnonymousUser) -> bool:
    """Whether ``user`` sees phone, e-mail and address unmasked on the customers it may open: staff
    with ``view_personal_data``, and portal users (only ever their own organization's contacts); never
    a system actor (a command-line export without a user is masked). Callers log every unmasked view
    (``services.record_pii_view``)."""
    if not isinstance(user, User):
        return False
    return bool(getattr(user, "is_portal_user", False) or user.has_perm("customers.view_personal_data"))
