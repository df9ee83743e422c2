from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    CHAT = "chat", _("在线客服")
    EMAIL = "email", _("邮件")
    WEB = "web", _("网页表单")
    API = "api", _("接口")
    BOT = "bot", _("机器人")
    PROACTIVE = "proactive", _("主动服务")


class TicketType(models.TextChoices):
    INQUIRY = "inquiry", _("咨询")
    COMPLAINT = "complaint", _("投诉")
    SUGGESTION = "suggestion", _("建议")
    AFTER_SALES = "after_sales", _("售后")
    QUOTE = "quote", _("询价")
    CLAIM = "claim", _("理赔")
    EXCEPTION = "exception", _("异常")


class Priority(models.TextChoices):
    URGENT = "urgent", _("紧急")
    HIGH = "high", _("高")
    NORMAL = "normal", _("普通")
    LOW = "low", _("低")


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class StatusCategory(models.TextChoices):
    """The fixed lifecycle; admin-defined statuses map onto these."""

    # "新建" alone is also the import report's "created" (rows): a context keeps the two apart.
    NEW = "new", pgettext_lazy("ticket status category", "新建")
    OPEN = "open", _("处理中")
    PENDING = "pending", _("等待中")
    RESOLVED = "resolved", _("已解决")
    CLOSED = "closed", _("已关闭")


# The categories of work still to do: the console's queues and counts.
ACTIVE_CATEGORIES = (StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.PENDING)


class AuthorKind(models.TextChoices):
    CUSTOMER = "customer", _("客户")
    AGENT = "agent", _("客服")
    BOT = "bot", _("机器人")
    SYSTEM = "system", _("系统")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("公开回复")
    INTERNAL = "internal", _("内部备注")


class FieldKind(models.TextChoices):
    TEXT = "text", _("文本")
    CHOICE = "choice", _("选项")
    NUMBER = "number", _("数字")
    DATE = "date", _("日期")
    BOOL = "bool", _("是/否")


class Department(models.TextChoices):
    WAREHOUSE = "warehouse", _("仓储")
    TRANSPORT = "transport", _("运输")
    FINANCE = "finance", _("财务")
    CARRIER = "carrier", _("承运商")
    INSURER = "insurer", _("保险公司")
    OTHER = "other", _("其他")


class SubtaskStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    IN_PROGRESS = "in_progress", _("处理中")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


SUBTASK_CLOSED = frozenset({SubtaskStatus.DONE, SubtaskStatus.CANCELLED})


class LinkKind(models.TextChoices):
    RELATED = "related", _("相关")
    MERGED = "merged", _("已合并")
    SPLIT = "split", _("拆分自")
    FOLLOW_UP = "follow_up", _("后续工单")


class CloseReason(models.TextChoices):
    CONFIRMED = "confirmed", _("客户确认满意")
    UNREACHABLE = "unreachable", _("多次联系未果")
    NO_RESPONSE = "no_response", _("客户未回复")
    DUPLICATE = "duplicate", _("重复工单")
    OTHER = "other", _("其他")


class CallOutcome(models.TextChoices):
    RESOLVED = "resolved", _("当场解决")
    TICKET_CREATED = "ticket_created", _("已建工单")
    CALLBACK = "callback", _("约定回电")
    TRANSFERRED = "transferred", _("已转接")
    NO_ANSWER = "no_answer", _("未接通")
