from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kefu.accounts.models import User
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.core.actors import BOT
from kefu.core.errors import Conflict, ValidationFailed
from kefu.core.models import AuditEvent, Notification
from kefu.core.notifications import notify
from kefu.customers.tests.factories import new_contact
from kefu.tickets.enums import AuthorKind, Priority, StatusCategory, Visibility
from kefu.tickets.models import Attachment, Message, Ticket
from kefu.tickets.services.edit import ticket_update
from kefu.tickets.services.lifecycle import ticket_resolve, ticket_transition
from kefu.tickets.tests.factories import closed_ticket, new_message, new_ticket, status

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _nothing_stored(ticket: Ticket, version: int) -> None:
    assert Message.objects.count() == 0
    assert Attachment.objects.count() == 0
    ticket.refresh_from_db()
    assert ticket.version == version


def test_public_reply_and_internal_note(agent: User) -> None:
    ticket = new_ticket(actor=agent)

    reply = new_message(ticket=ticket, actor=agent, body="已催促派送")
    note = new_message(ticket=ticket, actor=agent, body="网点电话打不通", visibility=Visibility.INTERNAL)

    assert (reply.visibility, reply.author, reply.author_kind) == ("public", agent, "agent")
    assert note.visibility == "internal"
    ticket.refresh_from_db()
    assert ticket.version == 3
    assert AuditEvent.objects.filter(content_type__model="message").count() == 2


def test_html_is_sanitised_and_text_kept(agent: User) -> None:
    body = (
        '<p>您好<script>alert(1)</script><img src=x onerror="alert(2)">'
        '<a href="javascript:alert(3)">点此</a> <a href="https://kefu.example.cn/x">查看</a></p>'
    )

    message = new_message(ticket=new_ticket(actor=agent), actor=agent, body=body)

    assert "<script" not in message.body_html
    assert "onerror" not in message.body_html
    assert "javascript:" not in message.body_html
    assert 'href="https://kefu.example.cn/x"' in message.body_html
    assert message.body_text == "您好 点此 查看"


def test_plain_text_is_escaped(agent: User) -> None:
    message = new_message(ticket=new_ticket(actor=agent), actor=agent, body="a & b\n第二行 > 1")

    assert message.body_html == "a &amp; b<br>第二行 &gt; 1"


def test_empty_body_is_refused(agent: User) -> None:
    ticket = new_ticket(actor=agent)

    with pytest.raises(ValidationFailed) as exc:
        new_message(ticket=ticket, actor=agent, body="<script>alert(1)</script>")

    assert list(exc.value.fields) == ["body"]
    _nothing_stored(ticket, 1)


def test_reply_to_closed_ticket_is_refused_but_note_allowed(agent: User) -> None:
    ticket = closed_ticket(actor=agent)
    version = ticket.version

    with pytest.raises(ValidationFailed) as exc:
        new_message(ticket=ticket, actor=agent, body="还有问题吗？")

    assert list(exc.value.fields) == ["status"]
    _nothing_stored(ticket, version)
    assert new_message(ticket=ticket, actor=agent, body="归档备注", visibility=Visibility.INTERNAL).pk


def test_customer_cannot_write_internal_note(agent: User) -> None:
    ticket = new_ticket(actor=agent)

    with pytest.raises(ValidationFailed):
        new_message(ticket=ticket, body="x", visibility=Visibility.INTERNAL, author_kind=AuthorKind.CUSTOMER)

    _nothing_stored(ticket, 1)


def test_allowed_image_is_stored_with_content_type(agent: User) -> None:
    upload = SimpleUploadedFile("破损照片.png", PNG, content_type="application/octet-stream")

    message = new_message(
        ticket=new_ticket(actor=agent), actor=agent, body="照片见附件", attachments=[upload]
    )

    attachment = message.attachments.get()
    assert (attachment.name, attachment.size, attachment.content_type) == (
        "破损照片.png",
        len(PNG),
        "image/png",
    )
    assert attachment.is_image
    assert attachment.file.read() == PNG


def test_forbidden_type_is_refused(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    upload = SimpleUploadedFile("invoice.exe", b"MZ" + b"\0" * 10)

    with pytest.raises(ValidationFailed) as exc:
        new_message(ticket=ticket, actor=agent, body="发票", attachments=[upload])

    assert list(exc.value.fields) == ["attachments"]
    assert "invoice.exe" in exc.value.message
    _nothing_stored(ticket, 1)


def test_oversized_attachment_is_refused(agent: User, settings: Any) -> None:
    settings.KEFU_ATTACHMENT_MAX_BYTES = len(PNG) - 1
    ticket = new_ticket(actor=agent)

    with pytest.raises(ValidationFailed) as exc:
        new_message(ticket=ticket, actor=agent, body="照片", attachments=[SimpleUploadedFile("a.png", PNG)])

    assert list(exc.value.fields) == ["attachments"]
    _nothing_stored(ticket, 1)


def test_mention_notifies_the_colleague_once(agent: User, colleague: User) -> None:
    team = TeamFactory()
    MembershipFactory(team=team, user=colleague)
    ticket = new_ticket(team=team)  # routed to the colleague's team (the agent may not hand it there)

    message = new_message(
        ticket=ticket,
        actor=agent,
        body="@wangfang 请看一下 @wangfang @xiaoli @nobody",
        visibility=Visibility.INTERNAL,
    )

    assert list(message.mentions.order_by("username")) == [colleague, agent]
    notification = Notification.objects.get()
    assert (notification.user, notification.kind) == (colleague, "mention")
    assert ticket.number in notification.title
    # a retried delivery of the same mention is a no-op
    assert notify(users=[colleague], kind="mention", title="x", url="/", key=f"mention:{message.pk}") == 0
    assert Notification.objects.count() == 1


def test_a_mention_notifies_only_people_who_may_see_the_ticket(agent: User, colleague: User) -> None:
    # given a ticket of a team the colleague is not in
    ticket = new_ticket(team=TeamFactory())  # routed there by the system

    # when the agent mentions the colleague
    message = new_message(
        ticket=ticket, actor=agent, body="@wangfang 请看一下", visibility=Visibility.INTERNAL
    )

    # then the mention is recorded, but no notice names a ticket the colleague cannot open
    assert list(message.mentions.all()) == [colleague]
    assert Notification.objects.count() == 0


def test_first_response_is_the_first_public_agent_reply(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    contact = new_contact()
    new_message(ticket=ticket, actor=agent, body="内部备注", visibility=Visibility.INTERNAL)
    new_message(ticket=ticket, actor=BOT, body="自动回复", author_kind=AuthorKind.BOT)
    new_message(ticket=ticket, body="我的货呢", author_kind=AuthorKind.CUSTOMER, contact=contact)
    ticket.refresh_from_db()
    assert ticket.first_response_at is None

    first = new_message(ticket=ticket, actor=agent, body="正在查询")
    new_message(ticket=ticket, actor=agent, body="已查到")

    ticket.refresh_from_db()
    assert ticket.first_response_at == first.created_at


@pytest.mark.parametrize("waiting", [StatusCategory.PENDING, StatusCategory.RESOLVED])
def test_customer_reply_moves_waiting_ticket_back_to_open(agent: User, waiting: str) -> None:
    ticket = new_ticket(actor=agent)
    if waiting == StatusCategory.PENDING:
        ticket = ticket_transition(actor=agent, ticket=ticket, status=status(StatusCategory.PENDING))
    else:
        ticket = ticket_resolve(actor=agent, ticket=ticket, solution_summary="已派送")

    new_message(ticket=ticket, body="还是没收到", author_kind=AuthorKind.CUSTOMER)

    ticket.refresh_from_db()
    assert ticket.status_category == StatusCategory.OPEN


def test_held_reply_after_someone_else_wrote(agent: User, colleague: User) -> None:
    # given: the agent read version 1 and started typing; a colleague then answered the customer
    colleague.full_name = "王芳"
    colleague.save()
    ticket = new_ticket(actor=agent)
    new_message(ticket=ticket, actor=colleague, body="已安排今天派送")

    # when: the agent sends with the version seen
    with pytest.raises(Conflict) as exc:
        new_message(ticket=ticket, actor=agent, body="预计明天送达", seen_version=1)

    # then: nothing was sent, and the agent is told who wrote meanwhile
    assert "王芳 在 " in exc.value.message
    assert "回复了客户" in exc.value.message
    assert Message.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.version == 2


def test_a_reply_is_not_held_by_an_unrelated_change(agent: User, colleague: User) -> None:
    # given: the agent read version 1; a colleague then changed the priority
    ticket = new_ticket(actor=agent)
    ticket_update(actor=colleague, ticket=ticket, version=None, changes={"priority": Priority.URGENT})

    # when / then: the reply goes out
    assert new_message(ticket=ticket, actor=agent, body="预计明天送达", seen_version=1).pk


def test_mention_of_someone_who_may_not_see_the_ticket_notifies_nobody(agent: User, colleague: User) -> None:
    # given: a ticket of a team the colleague is not in
    ticket = new_ticket(team=TeamFactory())

    new_message(ticket=ticket, actor=agent, body="@wangfang 请看一下", visibility=Visibility.INTERNAL)

    assert Notification.objects.count() == 0


def test_reply_with_current_version_is_sent(agent: User) -> None:
    ticket = new_ticket(actor=agent)

    assert new_message(ticket=ticket, actor=agent, body="好的", seen_version=1).pk
