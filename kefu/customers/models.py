"""Customers (organizations and consumers), their contacts, notes and portal accounts."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.i18n import pick
from kefu.core.ids import new_public_id
from kefu.customers.enums import (
    ContactChannel,
    CustomerKind,
    CustomerSource,
    ImportMode,
    ImportStatus,
    Tier,
)


class Segment(models.Model):
    """冷链, 跨境, 电商, 危化品, …; a segment may call for an agent skill."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=64, blank=True)
    skill = models.ForeignKey(
        "accounts.Skill",
        verbose_name=_("所需技能"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="segments",
    )

    class Meta:
        verbose_name = _("客户细分")
        verbose_name_plural = _("客户细分")
        ordering = ("code",)

    def __str__(self) -> str:
        return pick(self.name, self.name_en)


class Customer(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    customer_no = models.CharField(_("客户编号"), max_length=32, unique=True)
    kind = models.CharField(
        _("类型"), max_length=16, choices=CustomerKind.choices, default=CustomerKind.ORGANIZATION
    )
    name = models.CharField(_("名称"), max_length=128)
    tier = models.CharField(_("等级"), max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    segments = models.ManyToManyField(Segment, verbose_name=_("细分"), blank=True, related_name="customers")
    province = models.CharField(_("省份"), max_length=32, blank=True)
    city = models.CharField(_("城市"), max_length=32, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    account_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("客户经理"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account_customers",
    )
    account_assigned_at = models.DateTimeField(_("分配时间"), null=True, blank=True)
    first_contact_due_at = models.DateTimeField(_("首次联系截止"), null=True, blank=True)
    first_contacted_at = models.DateTimeField(_("首次联系时间"), null=True, blank=True)
    source = models.CharField(
        _("来源"), max_length=16, choices=CustomerSource.choices, default=CustomerSource.MANUAL
    )
    is_active = models.BooleanField(_("有效"), default=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        permissions = [
            ("view_personal_data", _("可查看未脱敏的个人信息")),
            ("reveal_contact_phone", _("可说明原因后查看联系人完整电话")),
            ("import_customers", _("可导入客户")),
            ("export_customers", _("可导出客户")),
            ("assign_account_agent", _("可分配客户经理")),
        ]
        indexes = [
            models.Index(fields=["name"], name="customer_name_idx"),
            models.Index(fields=["account_agent", "first_contacted_at"], name="customer_agent_contact_idx"),
            models.Index(fields=["tier", "-id"], name="customer_tier_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer_no})"


class Contact(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("姓名"), max_length=64)
    title = models.CharField(_("职务"), max_length=64, blank=True)
    phone = models.CharField(_("电话"), max_length=20, blank=True, help_text=_("E.164 格式"))
    phone_rev = models.CharField(max_length=20, blank=True, db_index=True, editable=False)
    email = models.EmailField(_("邮箱"), blank=True)
    wechat_id = models.CharField(_("微信号"), max_length=64, blank=True)
    preferred_channel = models.CharField(
        _("首选渠道"), max_length=16, choices=ContactChannel.choices, default=ContactChannel.PHONE
    )
    quiet_hours_start = models.TimeField(_("免打扰开始"), null=True, blank=True)
    quiet_hours_end = models.TimeField(_("免打扰结束"), null=True, blank=True)
    is_primary = models.BooleanField(_("主要联系人"), default=False)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ("-is_primary", "id")
        indexes = [
            models.Index(fields=["phone"], name="contact_phone_idx"),
            models.Index(fields=["email"], name="contact_email_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def in_quiet_hours(self, local_time: dt.datetime) -> bool:
        """Whether ``local_time`` (in the customer's zone) falls in the contact's no-call window."""
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if start is None or end is None:
            return False
        now = local_time.time()
        if start <= end:
            return bool(start <= now < end)
        return bool(now >= start or now < end)


class CustomerNote(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作者"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("客户备注")
        verbose_name_plural = _("客户备注")
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.body[:40]


class PortalAccount(models.Model):
    """A customer-portal login; it sees only its organization's data."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="portal_account",
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="portal_accounts"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    api_access = models.BooleanField(
        _("允许 API 令牌"),
        default=False,
        help_text=_("开启后才能为该门户用户创建 API 令牌；关闭后其已有令牌立即失效。仅管理员可修改。"),
    )

    class Meta:
        verbose_name = _("门户账号")
        verbose_name_plural = _("门户账号")

    def __str__(self) -> str:
        return f"{self.user} → {self.customer}"


class ImportJob(models.Model):
    """A customer spreadsheet import started from the web UI and run by the worker."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=255)
    mode = models.CharField(_("模式"), max_length=16, choices=ImportMode.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    created_count = models.PositiveIntegerField(_("新建"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    unchanged_count = models.PositiveIntegerField(_("未变化"), default=0)
    # Valid rows already written (or refused at write time), committed with them: a run interrupted by
    # a killed worker resumes after them, and a job given up reports what they wrote.
    rows_done = models.PositiveIntegerField(_("已处理行"), default=0)
    error_count = models.PositiveIntegerField(_("错误行"), default=0)
    errors = models.JSONField(_("错误明细"), default=list, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    language = models.CharField(_("语言"), max_length=16, default="zh-hans", editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.original_name
