from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from kefu.accounts.models import User
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers.tests.factories import new_contact, new_customer
from kefu.tickets.enums import FieldKind, StatusCategory
from kefu.tickets.models import CustomField, Ticket
from kefu.tickets.services.create import new_ticket_number
from kefu.tickets.tests.factories import LOGISTICS_FIELDS, category, new_ticket

pytestmark = pytest.mark.django_db

REQUIRED = {"custom_fields.cargo_type", "custom_fields.exception_node", "custom_fields.expected_solution"}


def test_number_is_t_plus_shanghai_date_plus_four_digits() -> None:
    # given 17:30 UTC on 31 December, which is already 1 January in Shanghai
    now = dt.datetime(2025, 12, 31, 17, 30, tzinfo=dt.UTC)
    # when / then
    assert re.fullmatch(r"T2601010\d{3}", new_ticket_number(now))


def test_numbers_are_unique_and_increment(agent: User) -> None:
    today = timezone.localtime().strftime("%y%m%d")

    first, second = new_ticket(actor=agent), new_ticket(actor=agent)

    assert re.fullmatch(rf"T{today}\d{{4}}", first.number)
    assert int(second.number[-4:]) == int(first.number[-4:]) + 1
    assert first.number != second.number


def test_create_records_audit_and_starts_new(agent: User) -> None:
    ticket = new_ticket(actor=agent, waybills=[" sf123456 ", "SF123456"], tags=["加急"])

    assert ticket.status_category == StatusCategory.NEW
    assert ticket.version == 1
    assert list(ticket.waybills.values_list("waybill_no", flat=True)) == ["SF123456"]
    assert list(ticket.tags.values_list("name", flat=True)) == ["加急"]
    assert "sf123456" in ticket.search_text
    event = AuditEvent.objects.get(object_id=str(ticket.pk), content_type__model="ticket")
    assert (event.action, event.actor) == (AuditAction.CREATE, agent)


def test_create_with_assignee_starts_open(agent: User) -> None:
    assert new_ticket(actor=agent, assignee=agent).status_category == StatusCategory.OPEN


@pytest.mark.parametrize("code", ["delay", "damage", "loss"])
def test_logistics_category_requires_its_fields(agent: User, code: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        new_ticket(actor=agent, category=code)

    assert set(exc.value.fields) == REQUIRED
    assert Ticket.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_logistics_category_accepts_complete_fields(agent: User) -> None:
    ticket = new_ticket(actor=agent, category="delay", custom_fields=LOGISTICS_FIELDS)

    assert ticket.custom_fields == LOGISTICS_FIELDS


def test_bad_choice_is_named(agent: User) -> None:
    with pytest.raises(ValidationFailed) as exc:
        new_ticket(actor=agent, category="damage", custom_fields={**LOGISTICS_FIELDS, "cargo_type": "火箭"})

    assert list(exc.value.fields) == ["custom_fields.cargo_type"]
    assert Ticket.objects.count() == 0


def test_unknown_key_is_named(agent: User) -> None:
    with pytest.raises(ValidationFailed) as exc:
        new_ticket(actor=agent, custom_fields={"colour": "红"})

    assert list(exc.value.fields) == ["custom_fields.colour"]
    assert Ticket.objects.count() == 0


def test_invalid_basics_are_all_reported(agent: User) -> None:
    with pytest.raises(ValidationFailed) as exc:
        new_ticket(
            actor=agent, subject="  ", channel="fax", type="gossip", priority="asap", waybills=["SF 1"]
        )

    assert set(exc.value.fields) == {"subject", "channel", "type", "priority", "waybills"}
    assert Ticket.objects.count() == 0


def test_contact_of_another_customer_is_refused(agent: User) -> None:
    contact = new_contact()

    with pytest.raises(ValidationFailed) as exc:
        new_ticket(actor=agent, customer=new_customer(), contact=contact)

    assert list(exc.value.fields) == ["contact"]
    assert Ticket.objects.count() == 0


def test_customer_defaults_to_the_contacts(agent: User) -> None:
    contact = new_contact()

    assert new_ticket(actor=agent, contact=contact).customer == contact.customer


def test_tags_are_trimmed_deduplicated_and_new_ones_created(agent: User) -> None:
    existing = new_ticket(actor=agent, tags=["加急"])

    ticket = new_ticket(actor=agent, tags=[" 加急 ", "加急", "冷链", " "])

    assert sorted(ticket.tags.values_list("name", flat=True)) == ["冷链", "加急"]
    assert sorted(t.name for t in ticket.tags.all()) == ["冷链", "加急"]  # what the response shows
    assert list(existing.tags.values_list("name", flat=True)) == ["加急"]


def test_an_overlong_tag_is_refused_with_the_other_errors_and_nothing_is_stored(agent: User) -> None:
    before = Ticket.objects.count()

    with pytest.raises(ValidationFailed) as exc:
        new_ticket(actor=agent, subject=" ", tags=["超长" * 17])

    assert {"subject", "tags"} <= set(exc.value.fields)
    assert "超长" * 17 in exc.value.fields["tags"][0]
    assert Ticket.objects.count() == before


@pytest.mark.parametrize("value", [{"a": "x" * 1_000_000}, "x" * 1001, 12, ["备注"]])
def test_text_custom_field_takes_a_string_of_limited_length(agent: User, value: object) -> None:
    CustomField.objects.create(category=category("other"), key="remark", label="备注", kind=FieldKind.TEXT)

    with pytest.raises(ValidationFailed) as exc:
        new_ticket(actor=agent, category="other", custom_fields={"remark": value})

    assert exc.value.fields == {"custom_fields.remark": ["“备注”应为文本，最多 1000 个字"]}
    assert Ticket.objects.count() == 0


def test_text_custom_field_at_the_limit_and_typed_fields(agent: User) -> None:
    other = category("other")
    CustomField.objects.create(category=other, key="remark", label="备注", kind=FieldKind.TEXT)
    CustomField.objects.create(category=other, key="pieces", label="件数", kind=FieldKind.NUMBER)
    CustomField.objects.create(category=other, key="day", label="日期", kind=FieldKind.DATE)

    with pytest.raises(ValidationFailed) as exc:
        new_ticket(actor=agent, category="other", custom_fields={"pieces": True, "day": {"y": 2026}})
    assert exc.value.fields == {
        "custom_fields.pieces": ["必须是数字"],
        "custom_fields.day": ["日期格式应为 YYYY-MM-DD"],
    }

    ticket = new_ticket(actor=agent, category="other", custom_fields={"remark": "x" * 1000, "pieces": 3})
    assert ticket.custom_fields == {"remark": "x" * 1000, "pieces": 3}
