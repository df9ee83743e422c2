from __future__ import annotations

import pytest

from kefu.accounts.models import User
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.tests.factories import new_customer
from kefu.tickets.enums import AuthorKind, CloseReason, LinkKind, StatusCategory, Visibility
from kefu.tickets.models import Message, Ticket, TicketLink
from kefu.tickets.services.merge_split_link import ticket_link, ticket_merge, ticket_split, ticket_unlink
from kefu.tickets.services.reopening import ticket_reopen
from kefu.tickets.tests.factories import LOGISTICS_FIELDS, closed_ticket, new_message, new_ticket

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[int, int, int, list[tuple[int, int, str]]]:
    rows = list(Ticket.objects.order_by("pk").values_list("pk", "version", "status_category"))
    return Message.objects.count(), TicketLink.objects.count(), AuditEvent.objects.count(), rows


# --- merge ----------------------------------------------------------------------------------------


def test_merge_moves_everything_to_the_survivor(agent: User, colleague: User) -> None:
    # given a duplicate with a message, waybills, a tag, a watcher and a link
    customer = new_customer()
    target = new_ticket(actor=agent, customer=customer, waybills=["SF000001"], tags=["加急"])
    source = new_ticket(actor=agent, customer=customer, waybills=["SF000001", "SF000002"], tags=["投诉"])
    other = new_ticket(actor=agent)
    new_message(ticket=source, actor=agent, body="客户第二次来电")
    source.watchers.add(colleague)
    ticket_link(actor=agent, ticket=source, other=other)

    # when
    survivor = ticket_merge(actor=agent, source=source, target=target)

    # then
    assert survivor.pk == target.pk
    assert sorted(target.waybills.values_list("waybill_no", flat=True)) == ["SF000001", "SF000002"]
    assert sorted(target.tags.values_list("name", flat=True)) == ["加急", "投诉"]
    assert list(target.watchers.all()) == [colleague]
    assert TicketLink.objects.filter(source=target, target=other, kind=LinkKind.RELATED).exists()
    assert target.messages.filter(body_text="客户第二次来电").exists()
    assert target.messages.filter(author_kind=AuthorKind.SYSTEM, visibility=Visibility.INTERNAL).count() == 1
    source.refresh_from_db()
    assert source.merged_into == target
    assert (source.status_category, source.close_reason) == (StatusCategory.CLOSED, CloseReason.DUPLICATE)
    assert source.closed_at is not None
    note = source.messages.get()
    assert (note.author_kind, note.visibility) == (AuthorKind.SYSTEM, Visibility.INTERNAL)
    assert target.number in note.body_text
    assert TicketLink.objects.filter(source=source, target=target, kind=LinkKind.MERGED).exists()
    assert AuditEvent.objects.filter(object_id=str(target.pk), changes__has_key="merged_from").exists()


def test_merge_into_itself_is_refused(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    before = _snapshot()

    with pytest.raises(ValidationFailed, match="自己"):
        ticket_merge(actor=agent, source=ticket, target=ticket)

    assert _snapshot() == before


def test_merge_across_customers_is_refused(agent: User) -> None:
    source = new_ticket(actor=agent, customer=new_customer())
    target = new_ticket(actor=agent, customer=new_customer())
    new_message(ticket=source, actor=agent, body="消息")
    before = _snapshot()

    with pytest.raises(ValidationFailed, match="不同客户"):
        ticket_merge(actor=agent, source=source, target=target)

    assert _snapshot() == before
    assert source.messages.count() == 1


def test_merge_fills_the_customer_of_an_anonymous_target(agent: User) -> None:
    customer = new_customer()
    target = new_ticket(actor=agent)

    ticket_merge(actor=agent, source=new_ticket(actor=agent, customer=customer), target=target)

    target.refresh_from_db()
    assert target.customer == customer


def test_merge_into_closed_or_merged_ticket_is_refused(agent: User) -> None:
    closed = closed_ticket(actor=agent)
    merged = new_ticket(actor=agent)
    ticket_merge(actor=agent, source=merged, target=new_ticket(actor=agent))
    source = new_ticket(actor=agent)
    before = _snapshot()

    with pytest.raises(ValidationFailed, match="已关闭"):
        ticket_merge(actor=agent, source=source, target=closed)
    with pytest.raises(ValidationFailed, match="已合并"):
        ticket_merge(actor=agent, source=source, target=merged)
    with pytest.raises(ValidationFailed, match="已合并"):
        ticket_merge(actor=agent, source=merged, target=source)

    assert _snapshot() == before


def test_merged_ticket_cannot_be_reopened(agent: User) -> None:
    source = new_ticket(actor=agent)
    ticket_merge(actor=agent, source=source, target=new_ticket(actor=agent))

    with pytest.raises(ValidationFailed, match="已合并"):
        ticket_reopen(actor=agent, ticket=source, reason="")


# --- split ----------------------------------------------------------------------------------------


def test_split_moves_the_message_to_a_new_linked_ticket(agent: User) -> None:
    customer = new_customer()
    original = new_ticket(actor=agent, customer=customer, category="delay", custom_fields=LOGISTICS_FIELDS)
    new_message(ticket=original, actor=agent, body="第一件货延误")
    second = new_message(
        ticket=original, actor=agent, body="另一票 SF000009 也破损了", visibility=Visibility.INTERNAL
    )

    new = ticket_split(actor=agent, message=second, subject="SF000009 破损")

    assert (new.subject, new.customer, new.channel, new.type) == (
        "SF000009 破损",
        customer,
        "phone",
        "inquiry",
    )
    assert (new.category, new.custom_fields) == (original.category, LOGISTICS_FIELDS)
    second.refresh_from_db()
    assert second.ticket == new
    assert list(new.messages.all()) == [second]
    assert TicketLink.objects.filter(source=new, target=original, kind=LinkKind.SPLIT).exists()
    assert original.messages.filter(author_kind=AuthorKind.SYSTEM, body_text__contains=new.number).exists()


def test_split_of_the_only_message_is_refused(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    only = new_message(ticket=ticket, actor=agent)
    before = _snapshot()

    with pytest.raises(ValidationFailed, match="只有这一条"):
        ticket_split(actor=agent, message=only, subject="拆分")

    assert _snapshot() == before


def test_split_needs_a_subject(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    new_message(ticket=ticket, actor=agent)
    message = new_message(ticket=ticket, actor=agent, body="另一件事")
    before = _snapshot()

    with pytest.raises(ValidationFailed):
        ticket_split(actor=agent, message=message, subject=" ")

    assert _snapshot() == before


# --- link -----------------------------------------------------------------------------------------


def test_link_and_unlink(agent: User) -> None:
    first, second = new_ticket(actor=agent), new_ticket(actor=agent)

    link = ticket_link(actor=agent, ticket=first, other=second)
    assert (link.source, link.target, link.kind, link.created_by) == (first, second, "related", agent)
    ticket_unlink(actor=agent, ticket=second, other=first)

    assert TicketLink.objects.count() == 0
    first.refresh_from_db()
    assert first.version == 2


def test_self_and_duplicate_links_are_refused(agent: User) -> None:
    first, second = new_ticket(actor=agent), new_ticket(actor=agent)
    ticket_link(actor=agent, ticket=first, other=second)
    before = _snapshot()

    with pytest.raises(ValidationFailed, match="自己"):
        ticket_link(actor=agent, ticket=first, other=first)
    with pytest.raises(ValidationFailed, match="已与"):
        ticket_link(actor=agent, ticket=first, other=second)
    with pytest.raises(ValidationFailed, match="已与"):
        ticket_link(actor=agent, ticket=second, other=first)
    with pytest.raises(ValidationFailed):
        ticket_link(actor=agent, ticket=first, other=second, kind="cousin")

    assert _snapshot() == before


def test_unlink_of_missing_link_is_not_found(agent: User) -> None:
    first, second = new_ticket(actor=agent), new_ticket(actor=agent)
    before = _snapshot()

    with pytest.raises(NotFound):
        ticket_unlink(actor=agent, ticket=first, other=second)

    assert _snapshot() == before
