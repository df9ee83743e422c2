from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("客服专员")
    LEAD = "lead", _("组长")
    MANAGER = "manager", _("经理")
    QA = "qa", _("质检")
    ANALYST = "analyst", _("数据分析专员")
    ADMIN = "admin", _("管理员")
    CUSTOMER = "customer", _("客户门户用户")


STAFF_ROLES = frozenset(r for r in Role if r != Role.CUSTOMER)


class Availability(models.TextChoices):
    ONLINE = "online", _("在线")
    AWAY = "away", _("离开")
    OFFLINE = "offline", _("离线")
