"""Full-text search (``selectors.search_q``): whole jieba tokens, Chinese and English, waybill and ticket
numbers, kept in step with every write — the same answers on SQLite (FTS5) and PostgreSQL (GIN)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from kefu.accounts.enums import Role
from kefu.tickets import selectors
from kefu.tickets.models import Ticket
from kefu.tickets.services.edit import ticket_update
from kefu.tickets.tests.factories import LOGISTICS_FIELDS, new_message, new_ticket

pytestmark = pytest.mark.django_db


def found(q: str) -> set[str]:
    return set(Ticket.objects.filter(selectors.search_q(q)).values_list("subject", flat=True))


@pytest.fixture
def corpus(make_user: Any) -> dict[str, Ticket]:
    agent = make_user(Role.AGENT)
    tickets = {
        "delay": new_ticket(
            actor=agent,
            subject="上海发往成都的冷冻海鲜延误三天未送达",
            description="物流轨迹停留在目的分拨，客户要求尽快派送。",
            category="delay",
            custom_fields=LOGISTICS_FIELDS,
            waybills=["SF1234567890123"],
        ),
        "damage": new_ticket(
            actor=agent,
            subject="签收时发现家具外包装破损",
            description="Customer reports damaged packaging, asks for a claim.",
            category="damage",
            custom_fields=LOGISTICS_FIELDS,
            waybills=["JD0099887766"],
        ),
        "billing": new_ticket(actor=agent, subject="月结账单多收 500 元附加费", description="Invoice wrong"),
    }
    new_message(ticket=tickets["billing"], actor=agent, body="已联系财务核实 DHL 偏远地区附加费。")
    return tickets


def test_chinese_words_match_whole_tokens(corpus: dict[str, Ticket]) -> None:
    assert found("延误") == {corpus["delay"].subject}
    assert found("冷冻海鲜 成都") == {corpus["delay"].subject}
    assert found("破损") == {corpus["damage"].subject}
    assert found("延误 破损") == set()  # every token must occur
    assert found("鲲鹏") == set()


def test_english_is_case_insensitive(corpus: dict[str, Ticket]) -> None:
    assert found("DAMAGED packaging") == {corpus["damage"].subject}
    assert found("invoice") == {corpus["billing"].subject}
    assert found("invoic") == set()  # whole words, not prefixes


def test_message_text_is_searchable(corpus: dict[str, Ticket]) -> None:
    assert found("dhl") == {corpus["billing"].subject}
    assert found("财务 核实") == {corpus["billing"].subject}


def test_waybill_and_ticket_numbers(corpus: dict[str, Ticket]) -> None:
    assert found("sf1234567890123") == {corpus["delay"].subject}
    assert found("JD0099887766") == {corpus["damage"].subject}
    assert found("SF012345") == set()  # part of a waybill number is not a token
    number = corpus["damage"].number
    assert found(number) == {corpus["damage"].subject}
    assert found(number.lower()) == {corpus["damage"].subject}


def test_punctuation_only_query_filters_nothing(corpus: dict[str, Ticket]) -> None:
    assert len(found("，。!")) == 3


def test_edits_and_deletes_keep_the_index_in_step(corpus: dict[str, Ticket], make_user: Any) -> None:
    agent = make_user(Role.AGENT)
    ticket = corpus["billing"]
    ticket_update(actor=agent, ticket=ticket, version=None, changes={"subject": "发票抬头错误"})
    assert found("发票") == {"发票抬头错误"}
    ticket.refresh_from_db()
    assert found("月结") == set()  # the old subject is no longer indexed
    corpus["delay"].delete()
    assert found("延误") == set()


def test_search_in_a_queue_list(corpus: dict[str, Ticket], make_user: Any) -> None:
    manager = make_user(Role.MANAGER)
    rows = selectors.ticket_list(manager, filters=selectors.TicketFilters(q="破损 家具"))
    assert [t.subject for t in rows] == [corpus["damage"].subject]


def test_the_index_is_used() -> None:
    sql = str(Ticket.objects.filter(selectors.search_q("延误")).query)
    if connection.vendor == "sqlite":
        assert "tickets_ticket_fts MATCH" in sql
    elif connection.vendor == "postgresql":
        assert "string_to_array" in sql


@pytest.mark.parametrize(
    ("fts_drive_limit", "few_hits"),
    [
        (10_000, 1000),  # SQLite: FTS5 drives; PostgreSQL: numbers looked up first
        (1, 0),  # SQLite: every match count is "many", tested per row; PostgreSQL: the plain GIN condition
    ],
)
def test_both_query_shapes_give_the_same_answers(
    corpus: dict[str, Ticket], monkeypatch: pytest.MonkeyPatch, fts_drive_limit: int, few_hits: int
) -> None:
    # The query's shape depends on how many tickets match (selectors.HasAllTokens); the answers must not.
    monkeypatch.setattr(selectors, "FTS_DRIVE_LIMIT", fts_drive_limit)
    monkeypatch.setattr(selectors, "FEW_HITS", few_hits)

    assert found("延误") == {corpus["delay"].subject}
    assert found("延误 破损") == set()
    assert found("DAMAGED packaging") == {corpus["damage"].subject}
    assert found("sf1234567890123") == {corpus["delay"].subject}
    assert found("SF012345") == set()
    assert found("JD0099887766 破损") == {corpus["damage"].subject}
    assert found("JD0099887766 延误") == set()
