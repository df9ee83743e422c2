"""In-app notifications about tickets, written by subscribers of the ticket events (``kefu.tickets.events``,
registered in ``TicketsConfig.ready``) in the transaction of the change: a notification is a row of the
database, so it commits with the change or not at all, and the bell shows it at once.

Who is told: the new assignee of a ticket (on creation or assignment) and of a work order, the people
@mentioned in a message, the assignee when the customer writes — nobody about what they did themselves,
and each only if they may open the ticket (``access.users_who_may_see``: ``visible_tickets``, the one
predicate): a notice
must not name a ticket, or link to one, its reader is not allowed to see.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy

from kefu.accounts.models import User
from kefu.core.events import subscribe
from kefu.core.notifications import notify, register_kind
from kefu.tickets.access import users_who_may_see
from kefu.tickets.enums import AuthorKind
from kefu.tickets.events import MessageAdded, TicketAssigned, TicketCreated, TicketEvent, WorkOrderAssigned

# What each notification says, filled in the reader's language when it is shown (kefu.core.notifications).
NOTICES = {
    "assigned": gettext_lazy("%(actor)s 把工单 %(number)s 分配给了你：%(subject)s"),
    "mention": gettext_lazy("%(actor)s 在工单 %(number)s 中提到了你"),
    "customer_reply": gettext_lazy("客户回复了你的工单 %(number)s：%(subject)s"),
    "resolution_rejected": gettext_lazy("客户认为工单 %(number)s 还没有解决：%(subject)s"),
    "work_order": gettext_lazy("协作单「%(title)s」已分配给你（工单 %(number)s）"),
}


def _readers(event: TicketEvent, user_ids: Iterable[int | None]) -> list[User]:
    """The users ``user_ids`` (in that order, without the actor) who may open the ticket."""
    ids = [i for i in dict.fromkeys(user_ids) if i is not None and i != event.actor.id]
    if not ids:
        return []
    return users_who_may_see(
        event.ticket_id, sorted(User.objects.filter(pk__in=ids), key=lambda u: ids.index(u.pk))
    )


def _notify(
    event: TicketEvent, users: list[User], *, kind: str, key: str, anchor: str = "", **extra: str
) -> None:
    if not users:
        return
    params = {"actor": event.actor.label, "number": event.number, "subject": event.subject[:80], **extra}
    notify(
        users=users,
        kind=kind,
        title=str(NOTICES[kind]) % params,
        params=params,
        url=f"/tickets/{event.number}/{anchor}",
        key=key,
    )


def on_created(event: TicketCreated) -> None:
    _notify(event, _readers(event, [event.assignee_id]), kind="assigned", key=f"assigned:{event.ticket_id}:0")


def on_assigned(event: TicketAssigned) -> None:
    if event.assignee_id is None or event.assignee_id == event.old_assignee_id:
        return
    _notify(
        event,
        _readers(event, [event.assignee_id]),
        kind="assigned",
        key=f"assigned:{event.ticket_id}:{event.version}",
    )


def on_message(event: MessageAdded) -> None:
    anchor = f"#m{event.message_id}"
    _notify(
        event,
        _readers(event, event.mentioned_ids),
        kind="mention",
        key=f"mention:{event.message_id}",
        anchor=anchor,
    )
    if event.author_kind == AuthorKind.CUSTOMER:
        _notify(
            event,
            _readers(event, [event.assignee_id]),
            kind="resolution_rejected" if event.rejects_resolution else "customer_reply",
            key=f"customer_reply:{event.message_id}",
            anchor=anchor,
        )


def on_work_order_assigned(event: WorkOrderAssigned) -> None:
    """The owner of a work order sees its ticket (access: work-order owners), so no visibility check."""
    if event.assignee_id == event.actor.id:
        return
    owner = User.objects.filter(pk=event.assignee_id).first()
    if owner is not None:
        _notify(
            event,
            [owner],
            kind="work_order",
            key=f"work-order:{event.work_order_id}:{event.version}",
            title=event.title[:80],
        )


def register() -> None:
    for kind, template in NOTICES.items():
        register_kind(kind, template)
    subscribe(TicketCreated, on_created)
    subscribe(TicketAssigned, on_assigned)
    subscribe(MessageAdded, on_message)
    subscribe(WorkOrderAssigned, on_work_order_assigned)
