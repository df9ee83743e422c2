"""Domain events: published in the transaction of the change, to the subscribers apps registered;
a bad event is refused at publish time and nothing is written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from django.db import transaction

from kefu.accounts.enums import Role
from kefu.core import events
from kefu.core.actors import SYSTEM
from kefu.core.events import ActorRef, Event, EventError, publish, subscribe
from kefu.core.models import AuditEvent
from kefu.customers.enums import Tier
from kefu.customers.events import CustomerTierChanged
from kefu.customers.models import Customer
from kefu.customers.services import customer_update
from kefu.customers.tests.factories import new_customer

pytestmark = pytest.mark.django_db


@dataclass(frozen=True, kw_only=True)
class Probe(Event):
    kind: ClassVar[str] = "test.probe"
    value: Any


@pytest.fixture
def heard() -> Iterator[list[Event]]:
    """Everything published while the test runs, as a subscriber of every kind sees it."""
    seen: list[Event] = []

    def listen(event: Event) -> None:
        seen.append(event)

    subscribe(Event, listen)
    yield seen
    events.unsubscribe(Event, listen)


def test_a_tier_change_is_published_with_ids_and_the_actor(make_user, heard):
    lead = make_user(Role.LEAD)
    customer = new_customer()

    customer_update(actor=lead, customer=customer, tier=Tier.VIP)

    [event] = heard
    assert isinstance(event, CustomerTierChanged)
    assert (event.customer_id, event.old_tier, event.new_tier) == (customer.pk, Tier.STANDARD, Tier.VIP)
    assert event.actor == ActorRef(kind="user", id=lead.pk, label=lead.get_full_name() or lead.username)
    assert event.as_json()["data"] == {"customer_id": customer.pk, "old_tier": "standard", "new_tier": "vip"}


def test_other_changes_publish_no_tier_event(make_user, heard):
    customer = new_customer()

    customer_update(actor=make_user(Role.LEAD), customer=customer, city="北京")

    assert heard == []


def test_a_failing_subscriber_rolls_the_change_back(make_user):
    customer = new_customer()
    audits = AuditEvent.objects.count()

    def refuse(event: CustomerTierChanged) -> None:
        raise RuntimeError("subscriber failed")

    subscribe(CustomerTierChanged, refuse)
    try:
        with pytest.raises(RuntimeError, match="subscriber failed"):
            customer_update(actor=make_user(Role.LEAD), customer=customer, tier=Tier.VIP)
    finally:
        events.unsubscribe(CustomerTierChanged, refuse)

    assert Customer.objects.get(pk=customer.pk).tier == Tier.STANDARD
    assert AuditEvent.objects.count() == audits


def test_subscribers_run_inside_the_publishing_transaction(heard):
    with transaction.atomic():
        publish(Probe(actor=ActorRef.of(SYSTEM), value=1))
        assert len(heard) == 1  # before the commit
        transaction.set_rollback(True)

    assert heard[0].actor == ActorRef(kind="system", id=None, label="system")


def test_an_orm_object_in_an_event_is_refused_before_any_subscriber_runs(make_user, heard):
    user = make_user()

    with (
        transaction.atomic(),
        pytest.raises(EventError, match=r"test\.probe\.value: User is not a plain value"),
    ):
        publish(Probe(actor=ActorRef.of(user), value=user))
    with transaction.atomic(), pytest.raises(EventError, match=r"test\.probe\.value\[1\]: set"):
        publish(Probe(actor=ActorRef.of(user), value=[1, {2}]))

    assert heard == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_publishing_outside_a_transaction_is_refused(heard):
    with pytest.raises(EventError, match="inside the transaction"):
        publish(Probe(actor=ActorRef.of(SYSTEM), value=1))

    assert heard == []


def test_what_is_not_an_event_is_refused(heard):
    with transaction.atomic():
        with pytest.raises(EventError, match="is not a domain event"):
            publish({"kind": "test.probe"})  # type: ignore[arg-type]
        with pytest.raises(EventError, match="is not a domain event"):
            publish(Event(actor=ActorRef.of(SYSTEM)))
        with pytest.raises(EventError, match="ActorRef"):
            publish(Probe(actor="zhang.san", value=1))  # type: ignore[arg-type]

    assert heard == []


def test_an_unknown_kind_cannot_be_subscribed_to_or_defined_twice():
    with pytest.raises(EventError, match="is not an event kind"):
        subscribe(dict, print)  # type: ignore[type-var]
    with pytest.raises(EventError, match="needs a kind"):

        class Nameless(Event):
            pass

    with pytest.raises(EventError, match=r"'customer\.tier_changed' is taken by CustomerTierChanged"):

        class Impostor(Event):
            kind: ClassVar[str] = "customer.tier_changed"

    assert events.kinds()["customer.tier_changed"] is CustomerTierChanged


def test_an_event_is_frozen_and_names_its_occurrence():
    event = Probe(actor=ActorRef.of(SYSTEM), value=1)

    with pytest.raises(AttributeError):
        event.value = 2  # type: ignore[misc]
    assert isinstance(event.event_id, uuid.UUID)
    assert event.event_id != Probe(actor=ActorRef.of(SYSTEM), value=1).event_id
    assert event.as_json()["occurred_at"].endswith("+00:00")


def test_a_base_of_several_kinds_is_heard_through_but_not_published(heard):
    @dataclass(frozen=True, kw_only=True)
    class Shipment(Event, base=True):
        shipment_id: int

    @dataclass(frozen=True, kw_only=True)
    class Delayed(Shipment):
        kind: ClassVar[str] = "test.shipment_delayed"

    seen: list[Event] = []
    subscribe(Shipment, seen.append)
    try:
        with transaction.atomic():
            publish(Delayed(actor=ActorRef.of(SYSTEM), shipment_id=7))
            with pytest.raises(EventError, match="unknown event kind ''"):
                publish(Shipment(actor=ActorRef.of(SYSTEM), shipment_id=7))
    finally:
        events.unsubscribe(Shipment, seen.append)

    assert [type(e) for e in seen] == [Delayed]
    assert [type(e) for e in heard] == [Delayed]
