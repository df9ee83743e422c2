"""Who may change whose account: the rule against privilege escalation, shared by the admin and the
services (``user_create``, ``user_set_role``, …).

- An **administrator** (role ``admin`` or a superuser) may do anything.
- Anyone else may only manage a user who holds **no permission the actor lacks** (and is not an
  administrator), and may only grant a role whose group holds no permission the actor lacks — never
  ``admin``, ``is_superuser``, groups or single permissions.
- Only an administrator changes **another** user's password.

A system actor (``kefu.core.actors.SYSTEM``, the command line, the demo seeder) is not checked.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, Permission
from django.utils.translation import gettext as _

from kefu.accounts.actors import Actor
from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.core.actors import SystemActor
from kefu.core.errors import PermissionDenied


def is_administrator(user: User | AnonymousUser | SystemActor | None) -> bool:
    return bool(isinstance(user, User) and user.is_active and (user.is_superuser or user.role == Role.ADMIN))


def role_permissions(role: str) -> set[str]:
    """The permissions of a role's group (the source of truth once migrations created it)."""
    pairs = Permission.objects.filter(group__name=role).values_list("content_type__app_label", "codename")
    return {f"{app}.{codename}" for app, codename in pairs}


def grantable_roles(actor: Actor) -> list[Role]:
    """The roles ``actor`` may give someone: all for administrators, else those not above their own."""
    if isinstance(actor, SystemActor) or is_administrator(actor):
        return list(Role)
    own = actor.get_all_permissions()
    return [role for role in Role if role != Role.ADMIN and role_permissions(role) <= own]


def may_manage_user(actor: Actor, user: User) -> bool:
    """Whether ``actor`` may change ``user``'s account at all: not someone who holds more than they do."""
    if isinstance(actor, SystemActor) or is_administrator(actor):
        return True
    if is_administrator(user) or user.is_superuser:
        return False
    held: set[str] = User.objects.get(pk=user.pk).get_all_permissions()
    own: set[str] = actor.get_all_permissions()
    return held <= own


def require_may_manage_user(actor: Actor, user: User) -> None:
    if not may_manage_user(actor, user):
        raise PermissionDenied(
            _("只有管理员可以修改权限高于自己的用户 %(username)s") % {"username": user.get_username()}
        )


def require_may_grant_role(actor: Actor, role: str) -> None:
    if role not in grantable_roles(actor):
        label = Role(role).label if role in Role.values else role
        raise PermissionDenied(_("无权授予角色“%(role)s”：不能授予高于自己的权限") % {"role": label})


def may_set_password(actor: Actor, user: User) -> bool:
    """Administrators set anyone's password; everybody else only their own."""
    return isinstance(actor, SystemActor) or is_administrator(actor) or actor.pk == user.pk
