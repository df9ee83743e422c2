"""Tickets (工单): the unit of work of the customer-service department, with their conversation,
cross-department work orders (协作单), links, and the configuration they are built from."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.i18n import pick
from kefu.core.ids import new_public_id
from kefu.tickets.enums import (
    ACTIVE_CATEGORIES,
    AuthorKind,
    CallOutcome,
    Channel,
    CloseReason,
    Department,
    FieldKind,
    LinkKind,
    Priority,
    StatusCategory,
    SubtaskStatus,
    TicketType,
    Visibility,
)


class Category(models.Model):
    """An admin-defined tree: 时效延误, 货损, 丢件, … and their children."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=64, blank=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    default_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("默认团队"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("创建时未指定团队的工单（门户、API）进入此团队"),
    )

    class Meta:
        verbose_name = _("工单分类")
        verbose_name_plural = _("工单分类")
        ordering = ("position", "code")

    def __str__(self) -> str:
        name = pick(self.name, self.name_en)
        return f"{self.parent} / {name}" if self.parent_id else name


class CustomField(models.Model):
    """A field a category's tickets carry; ``required`` is enforced on every entry path."""

    category = models.ForeignKey(
        Category, verbose_name=_("分类"), on_delete=models.CASCADE, related_name="custom_fields"
    )
    key = models.SlugField(_("键"), max_length=32)
    label = models.CharField(_("名称"), max_length=64)
    label_en = models.CharField(_("英文名称"), max_length=64, blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=FieldKind.choices, default=FieldKind.TEXT)
    choices = models.JSONField(_("可选值"), default=list, blank=True, help_text=_("选项类型的可选值列表"))
    choices_en = models.JSONField(
        _("可选值英文名称"),
        default=list,
        blank=True,
        help_text=_("与可选值一一对应的英文名称，顺序相同；留空的显示中文"),
    )
    required = models.BooleanField(_("必填"), default=False)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("自定义字段")
        verbose_name_plural = _("自定义字段")
        ordering = ("category", "position", "key")
        constraints = [models.UniqueConstraint(fields=["category", "key"], name="custom_field_key_unique")]

    def __str__(self) -> str:
        return f"{self.category} · {self.localized_label}"

    def clean(self) -> None:
        if self.choices_en and len(self.choices_en) != len(self.choices or []):
            raise ValidationError(
                {"choices_en": _("英文名称须与可选值一一对应（%(n)s 个）") % {"n": len(self.choices or [])}}
            )

    @property
    def localized_label(self) -> str:
        return pick(self.label, self.label_en)

    def choice_label(self, value: Any) -> str:
        """A stored choice as the reader's language names it (the value itself when it is not a choice
        or has no English name)."""
        if value in self.choices:
            names = list(self.choices_en or [])
            index = self.choices.index(value)
            return pick(value, names[index] if index < len(names) else "")
        return str(value)

    def choice_value(self, given: Any) -> Any:
        """The stored choice ``given`` names, in either language (an integration may send the English
        name it was shown); ``given`` itself when it names none."""
        if given in self.choices:
            return given
        names = list(self.choices_en or [])
        return (
            self.choices[names.index(given)]
            if given in names and names.index(given) < len(self.choices)
            else given
        )


class Status(models.Model):
    """An admin-defined status mapped onto a fixed category; says whether SLA clocks run in it."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=64, blank=True)
    category = models.CharField(_("状态类别"), max_length=16, choices=StatusCategory.choices)
    sla_running = models.BooleanField(_("SLA 计时"), default=True)
    is_default = models.BooleanField(_("该类别默认状态"), default=False)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("工单状态")
        verbose_name_plural = _("工单状态")
        ordering = ("position", "code")

    def __str__(self) -> str:
        return pick(self.name, self.name_en)


class Tag(models.Model):
    name = models.CharField(_("名称"), max_length=32, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("标签")
        verbose_name_plural = _("标签")
        ordering = ("name",)

    def __str__(self) -> str:
        return pick(self.name, self.name_en)


# Active tickets, as the partial indexes and the queues say it (the same words, in the same order).
ACTIVE_Q = models.Q(status_category__in=ACTIVE_CATEGORIES)


class Ticket(models.Model):
    number = models.CharField(_("工单号"), max_length=20, unique=True)
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    subject = models.CharField(_("主题"), max_length=200)
    description = models.TextField(_("描述"), blank=True)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    type = models.CharField(_("类型"), max_length=16, choices=TicketType.choices)
    category = models.ForeignKey(
        Category,
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    priority = models.CharField(_("优先级"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("团队"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
    )
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("关注人"), blank=True, related_name="watched_tickets"
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("标签"), blank=True, related_name="tickets")
    status = models.ForeignKey(
        Status, verbose_name=_("状态"), on_delete=models.PROTECT, related_name="tickets"
    )
    # Denormalised from ``status`` so queue queries filter one indexed column.
    status_category = models.CharField(_("状态类别"), max_length=16, choices=StatusCategory.choices)
    custom_fields = models.JSONField(_("自定义字段"), default=dict, blank=True)
    solution_summary = models.TextField(_("解决方案摘要"), blank=True)
    satisfaction_confirmed = models.BooleanField(_("客户确认满意"), null=True, blank=True)
    close_reason = models.CharField(_("关闭原因"), max_length=16, choices=CloseReason.choices, blank=True)
    close_note = models.CharField(_("关闭说明"), max_length=255, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("重开次数"), default=0)
    is_problem = models.BooleanField(_("问题工单"), default=False, help_text=_("一次故障背后的总工单"))
    problem = models.ForeignKey(
        "self",
        verbose_name=_("所属问题工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并到"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged",
    )
    search_text = models.TextField(editable=False, blank=True, help_text="jieba tokens for full-text search")
    internal_search_text = models.TextField(
        editable=False,
        blank=True,
        default="",
        help_text="the search_text tokens only internal notes contain: portal searches leave them out",
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    first_response_at = models.DateTimeField(_("首次回复时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        permissions = [
            ("manage_problem", _("可管理问题工单（关联事件、群发更新）")),
            ("view_all_tickets", _("可查看全部工单")),
        ]
        indexes = [
            models.Index(fields=["status_category", "-updated_at", "-id"], name="ticket_state_updated_idx"),
            # The console's queues read active tickets only (a few percent of a desk's history): partial
            # indexes on them, in the queues' order (selectors.queue_filter says ``status_category IN
            # ACTIVE`` in the same words, which both planners need to pick a partial index).
            models.Index(
                fields=["team", "-updated_at", "-id"], condition=ACTIVE_Q, name="ticket_active_team_idx"
            ),
            models.Index(
                fields=["assignee", "-updated_at", "-id"],
                condition=ACTIVE_Q,
                name="ticket_active_assignee_idx",
            ),
            models.Index(fields=["-updated_at", "-id"], condition=ACTIVE_Q, name="ticket_active_updated_idx"),
            models.Index(
                fields=["-updated_at", "-id"],
                condition=ACTIVE_Q & models.Q(assignee=None),
                name="ticket_active_unassigned_idx",
            ),
            # The queues' "oldest first" / "newest first" sort is by id (the creation order): the active
            # tickets in id order, so that sort reads a few index entries instead of walking the primary
            # key through a year of closed tickets (3 s → 0.1 ms at 1M tickets, docs/performance.md).
            # Team and assignee queues use it too, filtering; per-team/assignee copies went unused.
            models.Index(fields=["id"], condition=ACTIVE_Q, name="ticket_active_id_idx"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_idx"),
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated_idx"),
            models.Index(fields=["problem"], name="ticket_problem_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"


class TicketWaybill(models.Model):
    """A waybill (运单号) a ticket is about. ``shipment_id`` is filled in once the shipments app exists,
    so the link plugs in without rework."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="waybills")
    waybill_no = models.CharField(_("运单号"), max_length=40)
    shipment_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("关联运单")
        verbose_name_plural = _("关联运单")
        constraints = [models.UniqueConstraint(fields=["ticket", "waybill_no"], name="ticket_waybill_unique")]
        indexes = [models.Index(fields=["waybill_no"], name="ticket_waybill_no_idx")]

    def __str__(self) -> str:
        return self.waybill_no


class TicketLink(models.Model):
    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(_("关系"), max_length=16, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("工单关联")
        verbose_name_plural = _("工单关联")
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="ticket_link_unique"),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="ticket_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"


class IncidentRule(models.Model):
    """What makes a new ticket an incident of an open problem ticket, automatically.

    A ticket created while the rule holds (its problem is new, open or pending and ``ends_at`` has not
    passed) becomes an incident when it is about one of ``waybills``, or when its exception node
    (custom field ``exception_node``) contains one of ``route_nodes`` — and, if ``categories`` is not
    empty, it is in one of them. Checked by ``services.incidents.incident_autolink`` on every
    ``ticket_create`` with one query over this (small) table.

    The rule acts for ``set_by``, whoever saved it last: it links only tickets that user may see when the
    ticket is created (``kefu.tickets.access``), and nothing once that user is deactivated or deleted."""

    problem = models.OneToOneField(
        Ticket, verbose_name=_("问题工单"), on_delete=models.CASCADE, related_name="incident_rule"
    )
    waybills = models.JSONField(_("运单号"), default=list, blank=True)
    route_nodes = models.JSONField(
        _("路由节点"), default=list, blank=True, help_text=_("网点、转运中心或城市名称，与异常节点匹配")
    )
    categories = models.ManyToManyField(Category, verbose_name=_("限定分类"), blank=True, related_name="+")
    ends_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("自动关联规则")
        verbose_name_plural = _("自动关联规则")

    def __str__(self) -> str:
        return f"{self.problem_id}: {', '.join([*self.waybills, *self.route_nodes])}"


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(_("作者类型"), max_length=16, choices=AuthorKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visibility = models.CharField(_("可见性"), max_length=16, choices=Visibility.choices)
    body_html = models.TextField(_("内容"))  # sanitised with nh3 before it is stored
    body_text = models.TextField(blank=True)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in")
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    # The ticket's version once this message was added: a reply composed at an older version is held
    # when someone else wrote in between (services.conflicts.check_version).
    ticket_version = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("工单消息")
        verbose_name_plural = _("工单消息")
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_idx")]

    def __str__(self) -> str:
        return self.body_text[:40]


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to="attachments/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=255)
    size = models.PositiveIntegerField(_("大小"))
    content_type = models.CharField(_("类型"), max_length=100)
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Subtask(models.Model):
    """A cross-department work order (协作单) with the standard hand-off record."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="subtasks")
    department = models.CharField(_("协作部门"), max_length=16, choices=Department.choices)
    title = models.CharField(_("标题"), max_length=200)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subtasks",
    )
    external_party = models.CharField(_("外部负责人"), max_length=100, blank=True)
    deadline = models.DateTimeField(_("截止时间"))
    mandatory = models.BooleanField(_("必须完成"), default=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=SubtaskStatus.choices, default=SubtaskStatus.OPEN
    )
    problem_description = models.TextField(_("问题描述"))
    current_progress = models.TextField(_("当前进展"), blank=True)
    support_needed = models.TextField(_("所需支持"))
    carrier_contact = models.CharField(_("承运商联系人"), max_length=100, blank=True)
    tracking_evidence = models.TextField(_("轨迹证据"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("协作单")
        verbose_name_plural = _("协作单")
        ordering = ("deadline", "id")
        indexes = [models.Index(fields=["status", "deadline"], name="subtask_due_idx")]

    def __str__(self) -> str:
        return self.title


class SavedView(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("名称"), max_length=64)
    filters = models.JSONField(_("筛选条件"), default=dict)
    shared = models.BooleanField(_("团队共享"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("保存的视图")
        verbose_name_plural = _("保存的视图")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class CallLog(models.Model):
    """Every call is recorded (seed 002), whoever the caller is."""

    caller_number = models.CharField(_("来电号码"), max_length=20)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("接听人"), on_delete=models.PROTECT, related_name="calls"
    )
    summary = models.TextField(_("通话摘要"))
    outcome = models.CharField(_("结果"), max_length=16, choices=CallOutcome.choices)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("工单"), null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    callback_due_at = models.DateTimeField(_("回电时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("通话记录")
        verbose_name_plural = _("通话记录")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["caller_number", "-created_at"], name="call_number_idx")]

    def __str__(self) -> str:
        return f"{self.caller_number} {self.created_at:%Y-%m-%d %H:%M}"


class ReplyDraft(models.Model):
    """The reply an agent is writing on a ticket, saved as they type: it survives leaving the page, a
    reload and a conflict, and is cleared when the reply is sent. One per ticket and user."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(_("内容"), blank=True)
    visibility = models.CharField(
        _("可见性"), max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("回复草稿")
        verbose_name_plural = _("回复草稿")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="reply_draft_ticket_user_uniq")
        ]

    def __str__(self) -> str:
        return self.body[:40]


class DraftAttachment(models.Model):
    """A file of a reply that was held back (a conflict): kept with the draft and sent with it."""

    draft = models.ForeignKey(ReplyDraft, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to="drafts/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=255)
    size = models.PositiveIntegerField(_("大小"))
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("草稿附件")
        verbose_name_plural = _("草稿附件")

    def __str__(self) -> str:
        return self.name
