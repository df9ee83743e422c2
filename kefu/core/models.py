"""Shared records: the append-only audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    USER = "user", _("用户")
    CUSTOMER = "customer", _("客户")
    BOT = "bot", _("机器人")
    SYSTEM = "system", _("系统")


class AuditAction(models.TextChoices):
    CREATE = "create", _("创建")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    VIEW_PII = "view_pii", _("查看个人信息")
    IMPORT = "import", _("导入")
    EXPORT = "export", _("导出")


class AuditEvent(models.Model):
    """Who did what to which record, when, with every changed field as ``{field: [old, new]}``.

    Rows are only ever inserted (``kefu.core.audit.record``); nothing updates or deletes them.
    """

    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_kind = models.CharField(_("操作方"), max_length=16, choices=ActorKind.choices)
    actor_label = models.CharField(_("操作人名称"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=16, choices=AuditAction.choices)
    content_type = models.ForeignKey(ContentType, verbose_name=_("对象类型"), on_delete=models.PROTECT)
    object_id = models.CharField(_("对象编号"), max_length=64)
    object_repr = models.CharField(_("对象"), max_length=200)
    changes = models.JSONField(_("变更"), default=dict, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ("-at", "-id")
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="audit_object_at_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"


class Sequence(models.Model):
    """A named counter, advanced only through ``kefu.core.sequences``."""

    name = models.CharField(_("名称"), max_length=64, unique=True)
    value = models.BigIntegerField(_("当前值"), default=0)

    class Meta:
        verbose_name = _("编号序列")
        verbose_name_plural = _("编号序列")

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
