"""Authentication backend: Django's model backend, with a user's permissions read in one query."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q

from kefu.core import reference


class AuthBackend(ModelBackend):
    """Every request checks permissions (roles are groups: kefu.accounts.roles). Django reads the
    user's own permissions and their groups' permissions in two queries per request; this reads both
    in one, keeps them per process until a group, permission or membership changes
    (kefu.core.reference), and on the user object for the rest of the request, as Django does."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):

            def load() -> frozenset[str]:
                permissions = Permission.objects.all()
                if not user_obj.is_superuser:
                    permissions = permissions.filter(Q(user=user_obj) | Q(group__user=user_obj))
                pairs = permissions.values_list("content_type__app_label", "codename").order_by()
                return frozenset(f"{app}.{codename}" for app, codename in pairs)

            user_obj._perm_cache = set(
                reference.cached(f"permissions:{user_obj.pk}:{user_obj.is_superuser}", load)
            )
        cached: set[str] = user_obj._perm_cache
        return cached
