"""The actor type of services and access checks (design: ``kefu.core.actors``, docs/architecture.md)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core.actors import SystemActor
from kefu.core.errors import NotAuthenticated, PermissionDenied

Actor = User | SystemActor
"""A staff or portal user (one with an API token carries it), or a tagged system actor."""


def person(actor: Actor) -> User:
    """The person acting; a service that needs one refuses any other actor with ``PermissionDenied``."""
    if not isinstance(actor, User):
        raise PermissionDenied(_("此操作须由用户本人进行，不能由“%(actor)s”执行") % {"actor": actor.label})
    return actor


def signed_in(request: HttpRequest) -> User:
    """``request.user`` where Django's signature says ``HttpRequest`` (the admin's hooks, which only
    signed-in staff reach); ``NotAuthenticated`` for anyone else."""
    if not isinstance(request.user, User):
        raise NotAuthenticated(_("需要登录或有效的 API 令牌"))
    return request.user
