"""Domain events: what happened to a record, told to the apps that care, inside the transaction that did it.

An app that owns records (tickets, customers) defines its events as frozen dataclasses deriving from
:class:`Event`, each with a unique ``kind``, and publishes them from its services::

    @dataclass(frozen=True, kw_only=True)
    class TicketAssigned(Event):
        kind: ClassVar[str] = "ticket.assigned"
        ticket_id: int
        assignee_id: int | None

    publish(TicketAssigned(actor=ActorRef.of(user), ticket_id=t.pk, assignee_id=u.pk))

Apps above it subscribe from their ``AppConfig.ready`` — the publisher imports none of its subscribers::

    subscribe(TicketAssigned, start_sla_clock)   # one kind
    subscribe(TicketEvent, update_dashboard)     # every kind deriving from a base (``base=True``)
    subscribe(Event, forward_to_webhooks)        # every kind

Rules of the mechanism:

- An event carries ids and plain values (str, int, float, bool, None, datetime, date, UUID, and lists,
  tuples and string-keyed dicts of them), never ORM objects, and the actor as an :class:`ActorRef`.
  :func:`publish` checks this first and raises :class:`EventError` naming the field before any
  subscriber runs, so a bad event writes nothing.
- :func:`publish` must be called inside the transaction of the change (``transaction.atomic``) and calls
  the subscribers there, in the order they subscribed. A subscriber that only writes the database does
  its work directly; an exception it raises rolls the whole change back. Effects outside the database
  (HTTP calls, e-mail, pushes) never run in a subscriber: it writes them to the outbox
  (``kefu.core.outbox.enqueue``), which the worker delivers after commit.
- Publishing costs no statement of its own: only what the subscribers do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from django.db import transaction

from kefu.core import audit
from kefu.core.actors import AnyActor

E = TypeVar("E", bound="Event")
Subscriber = Callable[[Any], None]

_KINDS: dict[str, type[Event]] = {}
_SUBSCRIBERS: dict[type[Event], list[Subscriber]] = defaultdict(list)


class EventError(Exception):
    """An event that cannot be published (not an event, a field that is not a plain value, no
    transaction), or a subscription to something that is not an event kind."""


@dataclasses.dataclass(frozen=True)
class ActorRef:
    """Who caused the event, by id: ``kind`` is the audit log's actor kind (``core.models.ActorKind``)."""

    kind: str
    id: int | None
    label: str

    @classmethod
    def of(cls, actor: AnyActor) -> ActorRef:
        """The reference of an actor (``kefu.core.actors``) — as the audit log records it."""
        user, kind, label = audit.actor_of(actor)
        return cls(kind=str(kind), id=user.pk if user is not None else None, label=label)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every domain event. ``event_id`` identifies one occurrence (idempotency keys of what the
    event causes derive from it); ``occurred_at`` is when it was published."""

    kind: ClassVar[str] = ""

    actor: ActorRef
    event_id: uuid.UUID = dataclasses.field(default_factory=uuid.uuid4)
    occurred_at: dt.datetime = dataclasses.field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def __init_subclass__(cls, *, base: bool = False, **kwargs: Any) -> None:
        """Register the kind; ``class XEvent(Event, base=True)`` declares a base of several kinds, which
        can be subscribed to but not published."""
        super().__init_subclass__(**kwargs)
        if base:
            return
        if not cls.__dict__.get("kind"):
            raise EventError(f"{cls.__qualname__} needs a kind")
        known = _KINDS.get(cls.kind)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise EventError(f"event kind {cls.kind!r} is taken by {known.__qualname__}")
        _KINDS[cls.kind] = cls

    def as_json(self) -> dict[str, Any]:
        """The event as JSON-ready values: ``{"kind", "event_id", "occurred_at", "actor", "data"}``.
        Raises :class:`EventError` naming the first field that is not a plain value."""
        data: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            if field.name in ("actor", "event_id", "occurred_at"):
                continue
            data[field.name] = _plain(getattr(self, field.name), f"{self.kind}.{field.name}")
        return {
            "kind": self.kind,
            "event_id": str(self.event_id),
            "occurred_at": self.occurred_at.isoformat(),
            "actor": dataclasses.asdict(self.actor),
            "data": data,
        }


def _plain(value: Any, where: str) -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise EventError(f"{where}: dictionary keys must be strings")
        return {k: _plain(v, f"{where}.{k}") for k, v in value.items()}
    raise EventError(f"{where}: {type(value).__name__} is not a plain value (events carry ids, not objects)")


def kinds() -> dict[str, type[Event]]:
    """Every event kind defined so far, by name."""
    return dict(_KINDS)


def subscribe(event_type: type[E], subscriber: Callable[[E], None]) -> None:
    """Call ``subscriber(event)`` for every published event of ``event_type`` or a subclass of it
    (``Event`` itself: every event). Call it once per subscriber, from an ``AppConfig.ready``."""
    if not (isinstance(event_type, type) and issubclass(event_type, Event)):
        raise EventError(f"{event_type!r} is not an event kind")
    if not callable(subscriber):
        raise EventError(f"{subscriber!r} is not callable")
    if subscriber not in _SUBSCRIBERS[event_type]:
        _SUBSCRIBERS[event_type].append(subscriber)


def unsubscribe(event_type: type[Event], subscriber: Subscriber) -> None:
    """Remove a subscription (tests that subscribe something of their own)."""
    if subscriber in _SUBSCRIBERS.get(event_type, []):
        _SUBSCRIBERS[event_type].remove(subscriber)


def subscribers_of(event_type: type[Event]) -> list[Subscriber]:
    """The subscribers an event of ``event_type`` reaches: those of its class first, then of its bases."""
    found: list[Subscriber] = []
    for cls in event_type.__mro__:
        if isinstance(cls, type) and issubclass(cls, Event):
            found.extend(s for s in _SUBSCRIBERS.get(cls, []) if s not in found)
    return found


def publish(event: Event) -> None:
    """Tell every subscriber of the event's kind, now, inside the current transaction."""
    if not isinstance(event, Event) or type(event) is Event:
        raise EventError(f"{event!r} is not a domain event")
    if _KINDS.get(event.kind) is not type(event):
        raise EventError(f"unknown event kind {event.kind!r}")
    if not isinstance(event.actor, ActorRef):
        raise EventError(
            f"{event.kind}.actor: an ActorRef (ActorRef.of(user)), not {type(event.actor).__name__}"
        )
    event.as_json()  # refuses a field that is not a plain value, before anything is written
    if not transaction.get_connection().in_atomic_block:
        raise EventError(f"{event.kind}: publish inside the transaction of the change (transaction.atomic)")
    for subscriber in subscribers_of(type(event)):
        subscriber(event)
