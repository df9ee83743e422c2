"""Keyset pagination over any queryset: newest first, opaque cursors, bounded limits."""

from __future__ import annotations

import base64

import pytest

from kefu.core.errors import ValidationFailed
from kefu.core.pagination import MAX_LIMIT, decode_cursor, encode_cursor, keyset_page
from kefu.customers.models import Customer
from kefu.customers.tests.factories import CustomerFactory


@pytest.mark.parametrize("last_id", [1, 42, 2**40])
def test_cursor_round_trips(last_id):
    assert decode_cursor(encode_cursor(last_id)) == last_id


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "not base64 at all",
        base64.urlsafe_b64encode(b"[1]").decode(),
        base64.urlsafe_b64encode(b'{"pk": 1}').decode(),
        base64.urlsafe_b64encode(b'{"id": "7"}').decode(),
        base64.urlsafe_b64encode(b'{"id": 1.5}').decode(),
        base64.urlsafe_b64encode(b'{"id": true}').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "游标",
    ],
)
def test_invalid_cursor_names_the_cursor(cursor):
    with pytest.raises(ValidationFailed) as exc:
        decode_cursor(cursor)

    assert exc.value.fields == {"cursor": ["分页游标无效"]}


@pytest.mark.django_db
def test_pages_cover_every_row_once_newest_first():
    customers = CustomerFactory.create_batch(11)
    seen, cursor, pages = [], None, 0

    while True:
        page = keyset_page(Customer.objects.all(), cursor=cursor, limit=4)
        seen += [c.pk for c in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == [c.pk for c in reversed(customers)]
    assert pages == 3


@pytest.mark.django_db
def test_rows_added_while_paging_do_not_shift_later_pages():
    first = CustomerFactory.create_batch(6)
    page1 = keyset_page(Customer.objects.all(), cursor=None, limit=3)

    CustomerFactory.create_batch(2)  # newer rows appear at the front, not in the middle
    page2 = keyset_page(Customer.objects.all(), cursor=page1.next_cursor, limit=3)

    assert [c.pk for c in page2.items] == [c.pk for c in reversed(first[:3])]
    assert page2.next_cursor is None


@pytest.mark.django_db
def test_cursor_past_the_end_gives_an_empty_page():
    CustomerFactory.create_batch(2)

    page = keyset_page(Customer.objects.all(), cursor=encode_cursor(1), limit=5)

    assert page.items == []
    assert page.next_cursor is None


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1])
def test_limit_out_of_range(limit):
    with pytest.raises(ValidationFailed) as exc:
        keyset_page(Customer.objects.all(), cursor=None, limit=limit)

    assert list(exc.value.fields) == ["limit"]


@pytest.mark.django_db
def test_cursor_beyond_any_id_is_accepted():
    customers = CustomerFactory.create_batch(2)

    page = keyset_page(Customer.objects.all(), cursor=encode_cursor(2**70), limit=5)

    assert [c.pk for c in page.items] == [c.pk for c in reversed(customers)]
