"""The call log: one clear choice of what happens to tickets, an unknown caller saved as a customer, and
the number the agent typed shown back to them."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.accounts.enums import Role
from kefu.core.models import AuditEvent
from kefu.customers.models import Contact, Customer
from kefu.customers.tests.factories import new_customer
from kefu.tickets.enums import AuthorKind, CallOutcome, Visibility
from kefu.tickets.models import CallLog, Message, Ticket
from kefu.tickets.tests.factories import LOGISTICS_FIELDS, UserClient, new_ticket

pytestmark = pytest.mark.django_db

CALL = {"caller_number": "138 1234 5678", "summary": "询问到货时间", "outcome": "resolved"}


def _nothing_stored() -> bool:
    return not (CallLog.objects.exists() or Ticket.objects.exists() or Customer.objects.exists())


@pytest.mark.parametrize(
    ("typed", "mode"),
    [
        ({"subject": "丢件投诉"}, "none"),
        ({"waybills": "SF1001"}, "none"),
        ({"category": "loss", "cf_cargo_type": "普通货物"}, "none"),
        ({"subject": "丢件投诉"}, "existing"),
        ({"existing_ticket": "T2612010001"}, "none"),
        ({"existing_ticket": "T2612010001"}, "new"),
    ],
)
def test_input_typed_for_a_choice_not_made_is_refused_not_dropped(as_agent, typed, mode):
    response = as_agent.post("/tickets/calls/", {**CALL, **typed, "ticket_mode": mode})

    assert response.status_code == 422
    assert list(response.context["field_errors"]) == ["ticket_mode"]
    assert "show-all" in response.text  # every section shown, so the agent sees what they typed
    for value in typed.values():
        assert value in response.text
    assert _nothing_stored()


def test_log_only_records_the_call_and_no_ticket(as_agent):
    response = as_agent.post("/tickets/calls/", {**CALL, "ticket_mode": "none"})

    assert response.status_code == 302
    call = CallLog.objects.get()
    assert (call.ticket, call.outcome) == (None, CallOutcome.RESOLVED)
    assert not Ticket.objects.exists()


def test_a_call_is_added_to_an_existing_ticket_as_an_internal_note(as_agent, agent, team):
    ticket = new_ticket(actor=agent, subject="冷链货物延误", team=team)

    response = as_agent.post(
        "/tickets/calls/",
        {
            **CALL,
            "outcome": "callback",
            "callback_due_at": "2026-12-03T10:00",
            "ticket_mode": "existing",
            "existing_ticket": ticket.number.lower(),
        },
    )

    assert response.status_code == 302
    assert response.url == f"/tickets/{ticket.number}/"
    call = CallLog.objects.get()
    assert (call.ticket, call.outcome) == (ticket, CallOutcome.CALLBACK)
    note = ticket.messages.get()
    assert (note.visibility, note.author_kind) == (Visibility.INTERNAL, AuthorKind.AGENT)
    assert "询问到货时间" in note.body_text
    assert Ticket.objects.count() == 1


def test_an_existing_ticket_the_agent_cannot_see_looks_unknown(as_agent):
    foreign = new_ticket(subject="别组的工单")

    response = as_agent.post(
        "/tickets/calls/", {**CALL, "ticket_mode": "existing", "existing_ticket": foreign.number}
    )

    assert response.status_code == 422
    assert response.context["field_errors"] == {"existing_ticket": [f"工单 {foreign.number} 不存在"]}
    assert not CallLog.objects.exists()
    assert not Message.objects.exists()


def test_an_unknown_caller_is_saved_as_a_new_customer_and_gets_a_ticket(as_agent, agent):
    response = as_agent.post(
        "/tickets/calls/",
        {
            **CALL,
            "new_customer_name": "王建国",
            "new_customer_kind": "consumer",
            "ticket_mode": "new",
            "subject": "包裹丢失",
            "category": "loss",
            **{f"cf_{k}": v for k, v in LOGISTICS_FIELDS.items()},
        },
        follow=True,
    )

    customer = Customer.objects.get()
    contact = Contact.objects.get()
    call = CallLog.objects.get()
    assert call.ticket is not None
    assert (customer.name, customer.kind) == ("王建国", "consumer")
    assert (contact.customer, contact.name, contact.phone) == (customer, "王建国", "+8613812345678")
    assert (call.customer, call.contact, call.ticket.customer, call.ticket.contact) == (
        customer,
        contact,
        customer,
        contact,
    )
    assert response.redirect_chain == [(f"/tickets/{call.ticket.number}/", 302)]
    assert "138 1234 5678" in response.text  # the flash names the number the agent typed
    assert AuditEvent.objects.filter(content_type__model="customer", object_id=str(customer.pk)).exists()


def test_a_new_customer_needs_a_valid_number_and_a_name(as_agent):
    response = as_agent.post(
        "/tickets/calls/",
        {**CALL, "caller_number": "12345", "new_contact_name": "王先生", "ticket_mode": "none"},
    )

    assert response.status_code == 422
    errors = response.context["field_errors"]
    assert errors["new_customer_name"] == ["客户名称不能为空"]
    assert errors["caller_number"] == ["电话号码无效：12345"]
    assert _nothing_stored()


def test_a_chosen_customer_and_a_new_one_are_not_both_taken(as_agent):
    known = new_customer(name="顺达物流")

    response = as_agent.post(
        "/tickets/calls/",
        {**CALL, "customer": known.public_id, "new_customer_name": "王建国", "ticket_mode": "none"},
    )

    assert response.status_code == 422
    assert response.context["field_errors"] == {"new_customer_name": ["已选择了客户：不能同时保存为新客户"]}
    assert Customer.objects.count() == 1
    assert not CallLog.objects.exists()


def _number_shown(client: UserClient, query: dict[str, Any]) -> str:
    page = client.get("/tickets/calls/", query)
    return page.text.split('data-testid="call-number">', 1)[1].split("<", 1)[0]


def test_the_agent_sees_the_number_they_typed_and_others_see_the_policy(as_agent, make_user):
    response = as_agent.post("/tickets/calls/", {**CALL, "ticket_mode": "none"})
    call = CallLog.objects.get()
    assert response.url == f"/tickets/calls/?logged={call.pk}"

    page = as_agent.get("/tickets/calls/", {"logged": call.pk})
    assert 'data-testid="just-logged"' in page.text  # the call just logged stands out
    assert _number_shown(as_agent, {"logged": call.pk}) == "138 1234 5678"
    # Someone else sees the policy's masking: they did not type it.
    qa = UserClient(make_user(Role.QA))
    assert _number_shown(qa, {"logged": call.pk}) == "138******78"
