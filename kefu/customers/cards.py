"""Cards that apps above customers show on the customer page — the tickets' card today, shipments' and
SLA's next. customers imports none of them: each registers its card in its ``AppConfig.ready()``, and
the page shows the registered cards, in registration order, after the contacts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser

from kefu.accounts.actors import Actor
from kefu.customers.models import Customer


@dataclass(frozen=True)
class Card:
    name: str  # the card's variable in the page's context
    template: str  # included with the page's context (``customer`` and the card's variable)
    build: Callable[[Any, Customer], dict[str, Any] | None]  # (viewer, customer) → variable; None hides it


_CARDS: dict[str, Card] = {}


def register(*, name: str, template: str, build: Callable[[Any, Customer], dict[str, Any] | None]) -> None:
    _CARDS[name] = Card(name=name, template=template, build=build)


def cards_for(user: Actor | AnonymousUser, customer: Customer) -> tuple[list[Card], dict[str, Any]]:
    """The cards ``user`` sees on ``customer``'s page and the context they read."""
    shown: list[Card] = []
    context: dict[str, Any] = {}
    for card in _CARDS.values():
        value = card.build(user, customer)
        if value is not None:
            shown.append(card)
            context[card.name] = value
    return shown, context
