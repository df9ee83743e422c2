"""Authentication backend: Django's model backend, with a user's permissions read in one query."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class AuthBackend(ModelBackend):
    """Every request checks permissions (roles are groups: kefu.accounts.roles). Django reads the
    user's own permissions and their groups' permissions in two queries; this reads both in one and
    keeps them on the user object for the rest of the request, as Django does."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                permissions = permissions.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app}.{codename}"
                for app, codename in permissions.values_list("content_type__app_label", "codename").order_by()
            }
        cached: set[str] = user_obj._perm_cache
        return cached
