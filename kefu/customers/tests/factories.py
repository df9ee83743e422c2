from __future__ import annotations

from typing import cast

import factory

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import UserFactory
from kefu.core.phones import reversed_digits
from kefu.customers.models import Contact, Customer, PortalAccount


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    customer_no = factory.Sequence(lambda n: f"KH9{n:06d}")
    name = factory.Sequence(lambda n: f"测试物流有限公司{n}")
    city = "上海"
    province = "上海"
    address = "上海市浦东新区张江路88号3号楼1202室"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = "王小明"
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")
    phone_rev = factory.LazyAttribute(lambda o: reversed_digits(o.phone))
    email = factory.Sequence(lambda n: f"contact{n}@example.cn")
    is_primary = True


class PortalAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PortalAccount

    user = factory.SubFactory(UserFactory, role=Role.CUSTOMER)
    customer = factory.SubFactory(CustomerFactory)


def new_customer(**fields: object) -> Customer:
    """A saved customer, typed (factory_boy's call is untyped)."""
    return cast(Customer, CustomerFactory(**fields))


def new_contact(**fields: object) -> Contact:
    return cast(Contact, ContactFactory(**fields))
