"""Staff users, their roles, teams and skills, and API tokens."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.enums import STAFF_ROLES, Availability, Role
from kefu.core.i18n import pick


class Skill(models.Model):
    """What an agent can handle: 冷链, 危险品, 跨境, English, …; matched against customer segments."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("技能")
        verbose_name_plural = _("技能")
        ordering = ("code",)

    def __str__(self) -> str:
        return pick(self.name, self.name_en)


class User(AbstractUser):
    """A staff member or a customer-portal user; ``role`` decides which (permissions come from the
    role's group, kept in step by ``kefu.accounts.services.user_set_role``)."""

    full_name = models.CharField(_("姓名"), max_length=64, blank=True)
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.AGENT)
    employee_no = models.CharField(_("工号"), max_length=32, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    skills = models.ManyToManyField(Skill, verbose_name=_("技能"), blank=True, related_name="users")
    availability = models.CharField(
        _("在线状态"), max_length=16, choices=Availability.choices, default=Availability.OFFLINE
    )
    availability_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    capacity = models.PositiveSmallIntegerField(
        _("并发接待上限"), default=5, help_text=_("同时处理的会话/工单数上限")
    )

    authenticated_by_token: ApiToken | None = None
    """The API token this request's user was authenticated with (set by ``token_authenticate``): the
    audit log then records the integration token as the actor (``kefu.core.actors``)."""

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        indexes = [models.Index(fields=["role", "is_active"], name="user_role_active_idx")]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name or super().get_full_name()

    @property
    def is_portal_user(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def is_staff_member(self) -> bool:
        return self.role in STAFF_ROLES


class Team(models.Model):
    name = models.CharField(_("名称"), max_length=64, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=64, blank=True)
    code = models.SlugField(_("代码"), max_length=32, unique=True)
    description = models.TextField(_("职责"), blank=True)
    description_en = models.TextField(_("英文职责"), blank=True)
    skills = models.ManyToManyField(Skill, verbose_name=_("技能"), blank=True, related_name="teams")
    members: models.ManyToManyField[User, TeamMembership] = models.ManyToManyField(
        User, verbose_name=_("成员"), through="TeamMembership", related_name="teams", blank=True
    )

    class Meta:
        verbose_name = _("团队")
        verbose_name_plural = _("团队")
        ordering = ("name",)

    def __str__(self) -> str:
        return pick(self.name, self.name_en)

    @property
    def localized_description(self) -> str:
        return pick(self.description, self.description_en)


class TeamMembership(models.Model):
    team = models.ForeignKey(
        Team, verbose_name=_("团队"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        User, verbose_name=_("成员"), on_delete=models.CASCADE, related_name="memberships"
    )
    is_lead = models.BooleanField(_("组长"), default=False)
    joined_at = models.DateTimeField(_("加入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("团队成员")
        verbose_name_plural = _("团队成员")
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_member_unique")]

    def __str__(self) -> str:
        return f"{self.team} · {self.user}"


class ApiToken(models.Model):
    """An integration's bearer token. Only a SHA-256 hash is stored; the token is shown once."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("名称"), max_length=64)
    prefix = models.CharField(_("前缀"), max_length=12, unique=True)
    key_hash = models.CharField(_("摘要"), max_length=64)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
