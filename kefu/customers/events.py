"""Domain events the customers publish (``kefu.core.events``); apps above subscribe in their ``ready``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kefu.core.events import Event


@dataclass(frozen=True, kw_only=True)
class CustomerTierChanged(Event):
    """A customer's tier (standard, VIP, key account …) changed: by hand, through the API or an import."""

    kind: ClassVar[str] = "customer.tier_changed"
    customer_id: int
    old_tier: str
    new_tier: str
