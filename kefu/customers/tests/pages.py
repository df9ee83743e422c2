"""What the customer page tests share: a signed-in client, and the customer they open."""

from __future__ import annotations

from typing import Any

from django.test import Client

from kefu.core.actors import SYSTEM
from kefu.customers import services
from kefu.customers.models import Customer
from kefu.customers.services import ContactData

ADDRESS = "上海市浦东新区张江路88号3号楼1202室"


class UserClient(Client):
    """A test client signed in as ``user``."""

    def __init__(self, user: Any) -> None:
        super().__init__()
        self.user = user
        self.force_login(user)


def shunda(**overrides: Any) -> Customer:
    """顺达冷链物流有限公司 at :data:`ADDRESS`, with one contact (王小明, 138 1234 5678), created by the
    system through the service (audited like any creation); no account agent unless asked."""
    values: dict[str, Any] = {
        "name": "顺达冷链物流有限公司",
        "address": ADDRESS,
        "contacts": [ContactData(name="王小明", phone="138 1234 5678", email="wxm@shunda.cn")],
        "assign_account_agent": False,
    }
    return services.customer_create(actor=SYSTEM, **(values | overrides))
