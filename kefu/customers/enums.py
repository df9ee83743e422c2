from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    ORGANIZATION = "organization", _("企业客户")
    CONSUMER = "consumer", _("个人客户")


class Tier(models.TextChoices):
    VIP = "vip", _("VIP")
    CORE = "core", _("核心")
    STANDARD = "standard", _("普通")


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    EMAIL = "email", _("邮件")
    WECHAT = "wechat", _("微信")
    SMS = "sms", _("短信")
    CHAT = "chat", _("在线客服")


class CustomerSource(models.TextChoices):
    MANUAL = "manual", _("手工录入")
    IMPORT = "import", _("批量导入")
    API = "api", _("接口")
    PORTAL = "portal", _("客户门户")
    SEED = "seed", _("演示数据")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("全部成功才导入")
    VALID_ROWS = "valid_rows", _("只导入有效行")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    REJECTED = "rejected", _("未导入")
    FAILED = "failed", _("出错")
