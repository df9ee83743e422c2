"""customer_page: the union-of-branches search pages exactly like one OR query would."""

import pytest

from kefu.accounts.enums import Role
from kefu.core.actors import SYSTEM
from kefu.customers import selectors, services
from kefu.customers.models import Customer
from kefu.customers.tests.factories import CustomerFactory, new_contact, new_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(make_user):
    return make_user(Role.LEAD)


def walk(user, **filters):
    """Every page of a search, as customer numbers, newest first."""
    seen, cursor = [], None
    while True:
        page = selectors.customer_page(user, cursor=cursor, limit=3, **filters)
        seen += [c.customer_no for c in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_paging_a_query_that_matches_by_name_number_and_phone_returns_each_match_once(lead):
    # given customers matching "8866" by name, by customer-number prefix and by phone 尾号, and others
    by_name = [new_customer(name=f"8866 物流 {i}") for i in range(4)]
    by_number = [new_customer(customer_no=f"8866-{i}") for i in range(3)]
    by_phone = [new_contact(phone=f"+861380000{i}8866").customer for i in range(4)]
    CustomerFactory.create_batch(5)
    expected = sorted(by_name + by_number + by_phone, key=lambda c: -c.pk)

    # when the user walks every page of 3
    found = walk(lead, q="8866")

    # then each match appears exactly once, newest first, like the single OR query
    assert found == [c.customer_no for c in expected]
    assert found == [c.customer_no for c in selectors.customer_search(lead, q="8866").order_by("-pk")]


def test_a_landline_typed_with_area_code_finds_its_customer(lead):
    contact = new_contact(phone="+862168881234")
    assert walk(lead, q="021 6888 1234") == [contact.customer.customer_no]
    assert walk(lead, q="02168881234") == [contact.customer.customer_no]


def test_a_number_shaped_query_matches_numbers_not_names(lead):
    numbered = new_customer(customer_no="KH0012345", name="恒达冷链")
    new_customer(customer_no="ZZ1", name="KH0012345 仓库")
    assert walk(lead, q="KH00123") == [numbered.customer_no]
    assert walk(lead, q="kh00123") == [numbered.customer_no]


def test_other_filters_apply_to_every_branch(lead):
    vip = new_customer(name="顺达 VIP", tier="vip")
    new_customer(name="顺达 普通", tier="standard")
    assert walk(lead, q="顺达", tier="vip") == [vip.customer_no]


def test_automatic_assignment_keeps_a_customer_with_its_current_agent(make_user):
    first = make_user(Role.AGENT)
    customer = services.customer_create(actor=SYSTEM, name="恒达冷链")
    assert customer.account_agent == first
    assert customer.version == 1  # the first assignment is part of creation
    make_user(Role.AGENT)  # a second, idle agent appears

    services.customer_assign_account_agent(actor=SYSTEM, customer=customer)

    customer = Customer.objects.get(pk=customer.pk)
    assert customer.account_agent == first
    assert customer.version == 1
