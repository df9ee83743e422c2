"""Writes for staff, teams and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.access import require_may_grant_role, require_may_manage_user
from kefu.accounts.actors import Actor
from kefu.accounts.enums import Availability, Role
from kefu.accounts.models import ApiToken, Skill, Team, TeamMembership, User
from kefu.accounts.roles import ADMIN_SITE_ROLES
from kefu.core import audit
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditAction

TOKEN_PREFIX = "kefu_"
USER_AUDIT_FIELDS = ("username", "full_name", "role", "email", "is_active", "capacity")
# What decides a user's privileges: every change of one of these is audited.
PRIVILEGE_FIELDS = ("role", "is_staff", "is_superuser")


def group_names(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def _apply_role(user: User, role: Role) -> None:
    user.role = role
    user.is_staff = role in ADMIN_SITE_ROLES
    user.is_superuser = role == Role.ADMIN


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    username: str,
    password: str | None,
    role: Role,
    full_name: str = "",
    email: str = "",
    employee_no: str = "",
    phone: str = "",
    capacity: int = 5,
    skills: Iterable[Skill] = (),
) -> User:
    username = username.strip()
    if not username:
        raise ValidationFailed.for_field("username", _("用户名不能为空"))
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed.for_field("username", _("用户名 %(username)s 已存在") % {"username": username})
    if role not in Role.values:
        raise ValidationFailed.for_field("role", _("未知角色 %(role)s") % {"role": role})
    require_may_grant_role(actor, role)
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        employee_no=employee_no,
        phone=phone,
        capacity=capacity,
    )
    _apply_role(user, Role(role))
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user.groups.set(Group.objects.filter(name=role))
    if skills:
        user.skills.set(skills)
    created = audit.snapshot(user, (*USER_AUDIT_FIELDS, "is_staff", "is_superuser"))
    changes = {name: [None, value] for name, value in created.items()}
    changes["groups"] = [None, group_names(user)]
    audit.record(actor=actor, action=AuditAction.CREATE, obj=user, changes=changes)
    return user


@transaction.atomic
def user_set_role(*, actor: Actor, user: User, role: Role) -> User:
    """Give ``user`` ``role`` (its group, admin-site access, superuser for administrators). Refused
    (PermissionDenied) when ``actor`` may not manage ``user`` or may not grant ``role``."""
    if role not in Role.values:
        raise ValidationFailed.for_field("role", _("未知角色 %(role)s") % {"role": role})
    require_may_manage_user(actor, user)
    require_may_grant_role(actor, role)
    before = {**audit.snapshot(user, PRIVILEGE_FIELDS), "groups": group_names(user)}
    _apply_role(user, Role(role))
    user.save(update_fields=["role", "is_staff", "is_superuser"])
    user.groups.set(Group.objects.filter(name=role))
    changes = audit.diff({k: v for k, v in before.items() if k != "groups"}, user)
    if (groups := group_names(user)) != before["groups"]:
        changes["groups"] = [before["groups"], groups]
    audit.record(actor=actor, action="update", obj=user, changes=changes)
    return user


@transaction.atomic
def user_set_availability(*, actor: Actor, user: User, availability: Availability) -> User:
    if availability not in Availability.values:
        raise ValidationFailed.for_field(
            "availability", _("未知状态 %(availability)s") % {"availability": availability}
        )
    before = audit.snapshot(user, ("availability",))
    user.availability = availability
    user.availability_changed_at = timezone.now()
    user.save(update_fields=["availability", "availability_changed_at"])
    audit.record(actor=actor, action="update", obj=user, changes=audit.diff(before, user))
    return user


def _team_member_label(user: User, *, is_lead: bool) -> str:
    if is_lead:
        return _("%(user)s (组长)") % {"user": user}
    return _("%(user)s (成员)") % {"user": user}


@transaction.atomic
def team_add_member(*, actor: Actor, team: Team, user: User, is_lead: bool = False) -> TeamMembership:
    membership, created = TeamMembership.objects.update_or_create(
        team=team, user=user, defaults={"is_lead": is_lead}
    )
    audit.record(
        actor=actor,
        action="update",
        obj=team,
        changes={"members": [None, _team_member_label(user, is_lead=is_lead)]} if created else {},
    )
    return membership


def portal_api_allowed(user: User) -> bool:
    """Staff may hold tokens; a portal user only when an administrator allowed it on their portal
    account (``PortalAccount.api_access``, off by default)."""
    if not user.is_portal_user:
        return True
    account = getattr(user, "portal_account", None)
    return bool(account is not None and account.api_access)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, actor: Actor, user: User, name: str, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plain text, which is not stored and cannot be shown again."""
    if not user.is_active:
        raise ValidationFailed.for_field("user", _("用户 %(username)s 已停用") % {"username": user.username})
    if not portal_api_allowed(user):
        raise ValidationFailed.for_field(
            "user",
            _("门户用户 %(username)s 未获准使用 API：请管理员在其门户账号上开启“允许 API 令牌”")
            % {"username": user.username},
        )
    name = name.strip() or "api"
    prefix = secrets.token_hex(4)
    plain = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, key_hash=_hash(plain), expires_at=expires_at
    )
    audit.record_created(actor=actor, obj=token, fields=("name", "prefix", "user"))
    return token, plain


def token_authenticate(plain: str) -> User | None:
    """The active user a presented token belongs to, or None (unknown, revoked, expired, inactive, or a
    portal user whose API access an administrator has not allowed or has withdrawn)."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    prefix = plain[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.select_related("user", "user__portal_account").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.key_hash, _hash(plain)):
        return None
    now = timezone.now()
    if not token.is_usable(now) or not token.user.is_active or not portal_api_allowed(token.user):
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        # Touch at most once a minute so a busy integration doesn't write on every request.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.user.authenticated_by_token = token
    return token.user


@transaction.atomic
def token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor,
            action="update",
            obj=token,
            changes={"revoked_at": [None, token.revoked_at.isoformat()]},
        )
    return token


@transaction.atomic
def user_revoke_tokens(*, actor: Actor, user: User) -> int:
    """Revoke every usable token of ``user`` (on deactivation: reactivating the user later must not
    bring old tokens back). Returns how many were revoked."""
    tokens = list(ApiToken.objects.select_for_update().filter(user=user, revoked_at=None).order_by("pk"))
    for token in tokens:
        token_revoke(actor=actor, token=token)
    return len(tokens)
