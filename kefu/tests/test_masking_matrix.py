"""One masking policy on every surface: role × surface × field (docs/security.md "Masking policy").

Roles with personal-data access (lead, manager, admin; portal users for their own organization) see
details unmasked; agents, QA and analysts see them masked; lists are masked for all staff; a consumer's
own name is never masked. Each surface is read as its user would read it (JSON, HTML, the .xlsx)."""

from __future__ import annotations

import io
import json
from typing import Any, cast

import pytest
from django.test import Client
from openpyxl import load_workbook

from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.core.masking import mask_address, mask_email
from kefu.customers.enums import CustomerKind
from kefu.customers.models import PortalAccount
from kefu.customers.tests.factories import PortalAccountFactory, new_contact, new_customer
from kefu.tickets.tests.factories import new_ticket

pytestmark = pytest.mark.django_db

PHONE, PHONE_SHOWN, PHONE_MASKED = "+8613812345678", "138 1234 5678", "138******78"
EMAIL = "wang.xiaoming@example.cn"
ADDRESS = "上海市浦东新区张江路88号3号楼1202室"
CONTACT, CONTACT_MASKED = "王小明", "王*明"
CONSUMER, CONSUMER_MASKED = "李雷雷", "李*雷"

# field → (unmasked, masked) as a reader sees them
FIELDS: dict[str, tuple[str, str]] = {
    "phone": (PHONE_SHOWN, PHONE_MASKED),
    "email": (EMAIL, mask_email(EMAIL)),
    "address": (ADDRESS, mask_address(ADDRESS)),
    "contact_name": (CONTACT, CONTACT_MASKED),
    "consumer_name": (CONSUMER, CONSUMER_MASKED),
}
# surface → the fields it shows
SHOWN = {
    "customers_api": {"phone", "email", "address", "contact_name", "consumer_name"},
    "tickets_api": {"contact_name", "consumer_name"},
    "customer_page": {"phone", "email", "address", "contact_name", "consumer_name"},
    "ticket_page": {"phone", "email", "contact_name", "consumer_name"},
    "list": {"phone", "contact_name", "consumer_name"},
    "export": {"phone", "email", "address", "contact_name", "consumer_name"},
}
UNMASKED_ROLES = {Role.LEAD, Role.MANAGER, Role.ADMIN, Role.CUSTOMER}
# The portal has no list or export of customers, and its ticket pages show no contact details.
PORTAL_SURFACES = {"customers_api", "tickets_api", "customer_page"}
EXPORTERS = {Role.LEAD, Role.MANAGER, Role.ADMIN, Role.ANALYST}
ROLES = [Role.AGENT, Role.LEAD, Role.MANAGER, Role.QA, Role.ANALYST, Role.ADMIN, Role.CUSTOMER]


def expected(role: Role, surface: str, field: str) -> str:
    """ "clear" or "masked"."""
    if field == "consumer_name":
        return "clear"  # a consumer's own name is the customer's name
    if surface == "list" or role not in UNMASKED_ROLES:
        return "masked"
    return "clear"


def cases() -> list[Any]:
    out = []
    for role in ROLES:
        for surface in SHOWN:
            if role == Role.CUSTOMER and surface not in PORTAL_SURFACES:
                continue
            if surface == "export" and role not in EXPORTERS:
                continue
            out.append(pytest.param(role, surface, id=f"{role.value}-{surface}"))
    return out


@pytest.fixture
def world(make_user: Any) -> dict[str, Any]:
    team = TeamFactory(name="华东一组")
    org = new_customer(name="华东快运有限公司", address=ADDRESS)
    contact = new_contact(customer=org, name=CONTACT, phone=PHONE, phone_rev=PHONE[1:][::-1], email=EMAIL)
    consumer = new_customer(name=CONSUMER, kind=CustomerKind.CONSUMER, address=ADDRESS)
    self_contact = new_contact(customer=consumer, name=CONSUMER, phone="+8613900001111", email="")
    return {
        "team": team,
        "org": org,
        "consumer": consumer,
        "org_ticket": new_ticket(subject="延误", customer=org, contact=contact, team=team),
        "consumer_ticket": new_ticket(subject="破损", customer=consumer, contact=self_contact, team=team),
    }


def _json(response: Any) -> str:
    assert response.status_code == 200, response.content
    return json.dumps(response.json(), ensure_ascii=False)


def _html(response: Any) -> str:
    assert response.status_code == 200, response.content
    return str(response.content.decode())


def read_surface(role: Role, surface: str, world: dict[str, Any], make_user: Any, api_as: Any) -> str:
    """Everything ``role`` reads on ``surface`` about both customers, as one text."""
    if role == Role.CUSTOMER:  # each customer's own portal user
        users = {
            "org": cast(PortalAccount, PortalAccountFactory(customer=world["org"])).user,
            "consumer": cast(PortalAccount, PortalAccountFactory(customer=world["consumer"])).user,
        }
    else:
        user: User = make_user(role, is_superuser=role == Role.ADMIN)
        MembershipFactory(team=world["team"], user=user)
        users = {"org": user, "consumer": user}
    texts = []
    for side, ticket_key in (("org", "org_ticket"), ("consumer", "consumer_ticket")):
        user, customer, ticket = users[side], world[side], world[ticket_key]
        client = Client()
        client.force_login(user)
        if surface == "customers_api":
            texts.append(_json(api_as(user).get(f"/customers/{customer.public_id}")))
        elif surface == "tickets_api":
            texts.append(_json(api_as(user).get(f"/tickets/{ticket.number}")))
        elif surface == "customer_page":
            url = "/portal/" if role == Role.CUSTOMER else f"/customers/{customer.public_id}/"
            texts.append(_html(client.get(url)))
        elif surface == "ticket_page":
            texts.append(_html(client.get(f"/tickets/{ticket.number}/")))
        elif surface == "list":
            texts.append(_html(client.get("/customers/", {"q": customer.name})))
            texts.append(_html(client.get("/tickets/", {"queue": "all"})))
        elif surface == "export":
            response = client.get("/customers/export.xlsx", {"q": customer.name})
            assert response.status_code == 200
            sheet = load_workbook(io.BytesIO(response.getvalue())).active
            assert sheet is not None
            texts.append(
                "\n".join(" | ".join(str(c) for c in row) for row in sheet.iter_rows(values_only=True))
            )
    return "\n".join(texts)


@pytest.mark.parametrize(("role", "surface"), cases())
def test_personal_data_is_masked_by_one_policy_on_every_surface(
    role: Role, surface: str, world: dict[str, Any], make_user: Any, api_as: Any
) -> None:
    text = read_surface(role, surface, world, make_user, api_as)
    for field in sorted(SHOWN[surface]):
        clear, masked = FIELDS[field]
        if expected(role, surface, field) == "clear":
            assert clear in text, f"{role}/{surface}/{field}: {clear!r} not shown"
            assert masked not in text, f"{role}/{surface}/{field}: masked {masked!r} shown"
        else:
            assert masked in text, f"{role}/{surface}/{field}: {masked!r} not shown"
            assert clear not in text, f"{role}/{surface}/{field}: {clear!r} leaked"


def test_the_call_log_shows_the_agent_the_number_they_typed_and_others_a_masked_one(make_user: Any) -> None:
    from kefu.tickets import calls

    team = TeamFactory(name="华东一组")
    agent = make_user(Role.AGENT)
    MembershipFactory(team=team, user=agent)
    calls.call_log_create(actor=agent, caller_number="138 1234 5678", summary="咨询运费", outcome="resolved")
    mine = Client()
    mine.force_login(agent)
    assert PHONE_SHOWN in _html(mine.get("/tickets/calls/"))
    qa = Client()
    qa.force_login(make_user(Role.QA))
    calls_page = _html(qa.get("/tickets/calls/"))
    assert PHONE_MASKED in calls_page
    assert PHONE_SHOWN not in calls_page
    # the QA home page lists the call's audit event: its name (the number) is masked too
    home = _html(qa.get("/"))
    assert "138******78" in home
    assert "13812345678" not in home
