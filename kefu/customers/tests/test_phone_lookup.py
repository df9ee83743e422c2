"""Phone lookups by roles that see numbers masked: whole number or the last four digits only, limited
per user (KEFU_PHONE_LOOKUP_RATE) and written to the audit log."""

from __future__ import annotations

import pytest
from django.test import Client

from kefu.accounts.enums import Role
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers import selectors
from kefu.customers.tests.factories import new_contact

pytestmark = pytest.mark.django_db

PHONE = "+8613812345678"


@pytest.fixture
def contact():
    return new_contact(phone=PHONE, phone_rev=PHONE[1:][::-1])


def found(user, q):
    return [c.pk for c in selectors.customer_page(user, q=q).items]


def lookups(user):
    return list(
        AuditEvent.objects.filter(
            actor=user, action=AuditAction.VIEW_PII, changes__where=[None, "phone_search"]
        )
    )


@pytest.mark.parametrize("role", [Role.AGENT, Role.QA, Role.ANALYST])
def test_a_role_without_personal_data_access_finds_a_phone_by_whole_number_or_last_four_only(
    make_user, contact, role
):
    user = make_user(role)
    assert found(user, "138 1234 5678") == [contact.customer.pk]
    assert found(user, "+86 13812345678") == [contact.customer.pk]
    assert found(user, "5678") == [contact.customer.pk]
    # every other suffix would rebuild the masked number digit by digit
    for suffix in ("45678", "345678", "2345678", "12345678", "812345678", "3812345678"):
        assert found(user, suffix) == [], suffix


@pytest.mark.parametrize("role", [Role.LEAD, Role.MANAGER, Role.ADMIN])
def test_a_role_with_personal_data_access_still_finds_any_trailing_digits_unlogged(make_user, contact, role):
    user = make_user(role, is_superuser=role == Role.ADMIN)
    for q in ("5678", "45678", "2345678", "13812345678"):
        assert found(user, q) == [contact.customer.pk], q
    assert lookups(user) == []


def test_each_masked_lookup_is_logged_with_what_was_typed_and_how_many_matched(make_user, contact):
    agent = make_user(Role.AGENT)
    found(agent, "5678")
    found(agent, "0000")
    found(agent, "顺丰")  # not a phone query: not a lookup
    events = lookups(agent)
    assert sorted((e.changes["query"][1], e.changes["matches"][1]) for e in events) == [
        ("0000", 0),
        ("5678", 1),
    ]
    assert all(e.object_id == str(agent.pk) for e in events)


def test_masked_lookups_are_limited_per_user_and_the_api_answers_429(make_user, api_as, settings, contact):
    settings.KEFU_PHONE_LOOKUP_RATE = "3/h"
    agent, other = make_user(Role.AGENT), make_user(Role.AGENT)
    api = api_as(agent)
    for _ in range(3):
        assert api.get("/customers?q=5678").status_code == 200
    response = api.get("/customers?q=5678")
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "rate_limited"
    assert body["message"] == "按电话号码查找过于频繁，请稍后再试"
    assert len(lookups(agent)) == 3  # the refused one found nothing
    # a name search still works, and another agent has their own count
    assert api.get("/customers?q=物流").status_code == 200
    assert api_as(other).get("/customers?q=5678").status_code == 200


def test_the_english_api_says_why_in_english(make_user, api_as, settings, contact):
    settings.KEFU_PHONE_LOOKUP_RATE = "1/h"
    api = api_as(make_user(Role.AGENT))
    api.get("/customers?q=5678")
    response = api.get("/customers?q=5678", headers={"Accept-Language": "en"})
    assert response.status_code == 429
    assert response.json()["message"] == "Too many phone-number lookups; please try again later"


def test_the_customer_list_page_and_the_call_log_lookup_say_too_many(make_user, settings, contact):
    settings.KEFU_PHONE_LOOKUP_RATE = "1/h"
    client = Client()
    client.force_login(make_user(Role.AGENT))
    assert client.get("/customers/?q=5678").status_code == 200
    page = client.get("/customers/?q=5678")
    assert page.status_code == 429
    assert "按电话号码查找过于频繁，请稍后再试" in page.content.decode()
    partial = client.get("/customers/?q=5678", headers={"HX-Request": "true", "HX-Target": "customer-rows"})
    assert partial.status_code == 200
    assert 'data-testid="search-limited"' in partial.content.decode()
    lookup = client.get("/tickets/customers/lookup/?caller_number=5678", headers={"HX-Request": "true"})
    assert lookup.status_code == 200
    assert 'data-testid="lookup-limited"' in lookup.content.decode()


def test_an_unlimited_setting_turns_the_limit_off(make_user, settings, contact):
    settings.KEFU_PHONE_LOOKUP_RATE = ""
    agent = make_user(Role.AGENT)
    for _ in range(5):
        assert found(agent, "5678") == [contact.customer.pk]
