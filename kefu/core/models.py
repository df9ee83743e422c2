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
    TOKEN = "token", _("API 令牌")
    RULE = "rule", _("自动规则")


class AuditAction(models.TextChoices):
    CREATE = "create", _("创建")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    VIEW_PII = "view_pii", _("查看个人信息")
    IMPORT = "import", _("导入")
    EXPORT = "export", _("导出")
    LOGIN_FAILED = "login_failed", _("登录失败")


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


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key`` and the response its first request got: a retried request gets
    the same response instead of doing the work twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=64, help_text="the operation, e.g. tickets.create")
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_key_unique")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class Notification(models.Model):
    """An in-app notice to one user (mentioned, assigned, …); e-mail and push deliveries come later.

    ``kind`` and ``params`` are what it says: the text is made from them when it is shown, in the
    reader's language (``kefu.core.notifications.text_of``). ``title`` is the text in the language of
    the moment it was written, kept for kinds no template knows."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=32)
    title = models.CharField(_("标题"), max_length=200)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    url = models.CharField(_("链接"), max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_user_idx")]

    def __str__(self) -> str:
        return self.title


class TaskLease(models.Model):
    """A worker's claim on a running background task, renewed while the task runs (``kefu.core.worker``).

    django-tasks-db marks a claimed task RUNNING and never looks at it again; a lease that is not renewed
    (its worker was killed or lost the database) lets another worker put the task back in the queue.
    Kept in kefu's own table because the task table belongs to django-tasks-db; ``task_id`` is that
    table's id, without a foreign key, so either side can be pruned on its own.
    """

    task_id = models.UUIDField(_("任务"), primary_key=True)
    worker_id = models.CharField(_("工作进程"), max_length=64)
    expires_at = models.DateTimeField(_("租约到期"), db_index=True)

    class Meta:
        verbose_name = _("任务租约")
        verbose_name_plural = _("任务租约")

    def __str__(self) -> str:
        return f"{self.task_id} @ {self.worker_id}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待投递")
    DELIVERED = "delivered", _("已投递")
    FAILED = "failed", _("投递失败")


class OutboxMessage(models.Model):
    """An effect outside the database (a webhook call, later e-mail, SMS, pushes), written in the
    transaction of the change that caused it and delivered by the worker after commit
    (``kefu.core.outbox``). ``key`` is the delivery's idempotency key: the receiver gets it with every
    attempt and drops a repeat."""

    handler = models.CharField(_("投递方式"), max_length=64)
    key = models.CharField(_("幂等键"), max_length=200, unique=True)
    payload = models.JSONField(_("内容"), default=dict)
    status = models.CharField(
        _("状态"), max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    delivered_at = models.DateTimeField(_("投递时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        ordering = ("-id",)
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.handler} {self.key} ({self.status})"
