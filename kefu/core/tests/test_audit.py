"""The audit log: who did what to which record, with {field: [old, new]} for every change."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import cast

import pytest

from kefu.accounts.enums import Role
from kefu.core import audit
from kefu.core.actors import BOT, SYSTEM
from kefu.core.models import ActorKind, AuditAction, AuditEvent
from kefu.customers.models import Customer, PortalAccount
from kefu.customers.services import ContactData, contact_create, customer_update
from kefu.customers.tests.factories import (
    PortalAccountFactory,
    new_contact,
    new_customer,
)


def test_plain_values_are_json_friendly():
    assert audit.plain(dt.date(2026, 1, 2)) == "2026-01-02"
    assert audit.plain(decimal.Decimal("1.50")) == "1.50"
    assert audit.plain(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert audit.plain({"b", "a"}) == ["a", "b"]
    assert audit.plain((dt.time(8, 30), 1)) == ["08:30:00", 1]


@pytest.mark.django_db
def test_diff_lists_only_changed_fields():
    customer = new_customer(name="甲", tier="standard", city="上海")
    before = audit.snapshot(customer, ("name", "tier", "city"))

    customer.tier = "vip"
    customer.city = "上海"

    assert audit.diff(before, customer) == {"tier": ["standard", "vip"]}


def test_record_names_the_user(make_user):
    user = make_user(Role.AGENT, full_name="陈专员")
    customer = new_customer()

    event = audit.record(
        actor=user, action=AuditAction.UPDATE, obj=customer, changes={"tier": ["standard", "vip"]}
    )

    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.actor, event.actor_kind, event.actor_label) == (user, ActorKind.USER, "陈专员")
    assert (event.content_type.model, event.object_id, event.object_repr) == (
        "customer",
        str(customer.pk),
        str(customer),
    )
    assert event.changes == {"tier": ["standard", "vip"]}


@pytest.mark.django_db
def test_record_system_and_bot_actors():
    customer = new_customer()

    system = audit.record(actor=SYSTEM, action=AuditAction.UPDATE, obj=customer)
    bot = audit.record(actor=BOT, action=AuditAction.UPDATE, obj=customer)

    assert (system.actor, system.actor_kind, system.actor_label) == (None, ActorKind.SYSTEM, "system")
    assert (bot.actor, bot.actor_kind, bot.actor_label) == (None, ActorKind.BOT, "bot")


@pytest.mark.django_db
def test_portal_users_are_recorded_as_customers():
    portal_user = cast(PortalAccount, PortalAccountFactory()).user
    customer = new_customer()

    event = audit.record(actor=portal_user, action=AuditAction.VIEW_PII, obj=customer)

    assert (event.actor, event.actor_kind) == (portal_user, ActorKind.CUSTOMER)


def test_update_records_old_and_new_values_and_bumps_the_version(make_user):
    # given a customer at version 1
    agent = make_user(Role.AGENT)
    customer = new_customer(name="甲方物流", address="旧地址1号", version=1)

    # when an agent changes the address and keeps the name
    customer_update(actor=agent, customer=customer, name="甲方物流", address="  新地址2号 ")

    # then one event lists the address only, and the version moved on
    stored = Customer.objects.get()
    assert (stored.address, stored.version) == ("新地址2号", 2)
    event = AuditEvent.objects.get()
    assert event.actor == agent
    assert event.action == AuditAction.UPDATE
    assert event.changes == {"address": ["旧地址1号", "新地址2号"]}


def test_events_for_a_customer_include_its_contacts_newest_first(make_user):
    agent = make_user(Role.AGENT)
    customer = new_customer()
    other = new_customer()
    customer_update(actor=agent, customer=customer, tier="vip")
    contact = contact_create(actor=agent, customer=customer, data=ContactData(name="王", phone="13812345678"))
    customer_update(actor=agent, customer=other, tier="vip")
    new_contact(customer=other)

    events = list(audit.events_for(customer, related=[contact]))

    assert [(e.content_type.model, e.action) for e in events] == [
        ("contact", "create"),
        ("customer", "update"),
    ]
