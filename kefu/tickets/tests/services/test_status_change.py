"""Every status change passes one lifecycle function (``services.lifecycle.status_change``): whichever
path moves a ticket — an agent's move, a reopen, a customer's message or answer to a resolution, an
assignment, a problem resolving its incidents, a merge closing its duplicate — leaves the same audit
event and is refused, naming the statuses and writing nothing, when the workflow does not allow it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kefu.accounts.models import User
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.models import Customer, PortalAccount
from kefu.customers.tests.factories import PortalAccountFactory, new_customer
from kefu.tickets import workflow
from kefu.tickets.enums import AuthorKind, StatusCategory, Visibility
from kefu.tickets.models import Attachment, Message, Status, Ticket, TicketLink
from kefu.tickets.services.edit import ticket_assign
from kefu.tickets.services.incidents import incident_link
from kefu.tickets.services.lifecycle import ticket_close, ticket_resolve, ticket_transition
from kefu.tickets.services.merge_split_link import ticket_merge, ticket_merge_errors
from kefu.tickets.services.messages import message_add
from kefu.tickets.services.problems import problem_mark, problem_resolve
from kefu.tickets.services.reopening import resolution_accept, resolution_reject, ticket_reopen
from kefu.tickets.tests.factories import new_ticket, resolved_ticket, status

pytestmark = pytest.mark.django_db

S = StatusCategory


@dataclass
class World:
    agent: User
    lead: User
    customer: User  # a portal user of ``org``, the tickets' customer
    org: Customer


@pytest.fixture
def world(agent: User, lead: User) -> World:
    account = cast(PortalAccount, PortalAccountFactory(customer=new_customer(name="华东快运有限公司")))
    return World(agent=agent, lead=lead, customer=account.user, org=account.customer)


def _open(w: World) -> Ticket:
    return new_ticket(actor=w.agent, assignee=w.agent, customer=w.org)


def _pending(w: World) -> Ticket:
    return ticket_transition(actor=w.agent, ticket=_open(w), status=status(S.PENDING))


def _resolved(w: World) -> Ticket:
    return resolved_ticket(actor=w.agent, assignee=w.agent, customer=w.org)


def _customer_says(w: World, ticket: Ticket) -> None:
    message_add(
        actor=w.customer,
        ticket=ticket,
        body="还是没收到货",
        visibility=Visibility.PUBLIC,
        author_kind=AuthorKind.CUSTOMER,
    )


def _incident(w: World) -> Ticket:
    """An open incident of an open problem, both the lead's."""
    problem = problem_mark(actor=w.lead, ticket=new_ticket(actor=w.lead, subject="华东分拨中心系统故障"))
    incident = new_ticket(actor=w.lead, assignee=w.lead, subject="包裹滞留分拨中心")
    incident_link(actor=w.lead, problem=problem, incidents=[incident])
    return incident


def _problem_resolves(w: World, incident: Ticket) -> None:
    assert incident.problem is not None
    problem_resolve(actor=w.lead, problem=incident.problem, solution_summary="分拨中心已恢复")


def _duplicate(w: World) -> Ticket:
    """An open ticket and the ticket it duplicates (the survivor, subject 同一票货)."""
    duplicate = _open(w)
    new_ticket(actor=w.agent, customer=duplicate.customer, subject="同一票货")
    return duplicate


def _merged_away(w: World, duplicate: Ticket) -> None:
    survivor = Ticket.objects.get(subject="同一票货")
    ticket_merge(actor=w.agent, source=duplicate, target=survivor)


@dataclass(frozen=True)
class Path:
    """One way a ticket's status changes: the ticket before, the act, who acts, and the move."""

    name: str
    ticket: Callable[[World], Ticket]
    act: Callable[[World, Ticket], Any]
    actor: Callable[[World], User]
    move: tuple[str, str]  # status categories: from, to


MERGE = "a merge closes the duplicate"
PATHS = [
    Path(
        "agent sets pending",
        _open,
        lambda w, t: ticket_transition(actor=w.agent, ticket=t, status=status(S.PENDING)),
        lambda w: w.agent,
        (S.OPEN, S.PENDING),
    ),
    Path(
        "agent resolves",
        _open,
        lambda w, t: ticket_resolve(actor=w.agent, ticket=t, solution_summary="已加急派送"),
        lambda w: w.agent,
        (S.OPEN, S.RESOLVED),
    ),
    Path(
        "agent closes",
        _resolved,
        lambda w, t: ticket_close(actor=w.agent, ticket=t, satisfaction_confirmed=True),
        lambda w: w.agent,
        (S.RESOLVED, S.CLOSED),
    ),
    Path(
        "agent reopens",
        _resolved,
        lambda w, t: ticket_reopen(actor=w.agent, ticket=t, reason="客户来电说没收到"),
        lambda w: w.agent,
        (S.RESOLVED, S.OPEN),
    ),
    Path(
        "customer replies to a resolved ticket",
        _resolved,
        _customer_says,
        lambda w: w.customer,
        (S.RESOLVED, S.OPEN),
    ),
    Path(
        "customer replies to a pending ticket",
        _pending,
        _customer_says,
        lambda w: w.customer,
        (S.PENDING, S.OPEN),
    ),
    Path(
        "customer accepts the resolution",
        _resolved,
        lambda w, t: resolution_accept(actor=w.customer, ticket=t),
        lambda w: w.customer,
        (S.RESOLVED, S.CLOSED),
    ),
    Path(
        "customer rejects the resolution",
        _resolved,
        lambda w, t: resolution_reject(actor=w.customer, ticket=t, reason="包裹还在转运中心"),
        lambda w: w.customer,
        (S.RESOLVED, S.OPEN),
    ),
    Path(
        "assigning a new ticket opens it",
        lambda w: new_ticket(actor=w.agent),
        lambda w, t: ticket_assign(actor=w.agent, ticket=t, assignee=w.agent),
        lambda w: w.agent,
        (S.NEW, S.OPEN),
    ),
    Path(
        "a problem resolves its incidents",
        _incident,
        _problem_resolves,
        lambda w: w.lead,
        (S.OPEN, S.RESOLVED),
    ),
    Path(MERGE, _duplicate, _merged_away, lambda w: w.agent, (S.OPEN, S.CLOSED)),
]


def _state() -> tuple[Any, ...]:
    """Everything a status change could write."""
    return (
        list(
            Ticket.objects.order_by("pk").values_list(
                "pk", "version", "status_id", "status_category", "merged_into_id", "solution_summary"
            )
        ),
        Message.objects.count(),
        Attachment.objects.count(),
        TicketLink.objects.count(),
        AuditEvent.objects.count(),
    )


def _status_events(ticket: Ticket, after: int) -> list[AuditEvent]:
    events = AuditEvent.objects.filter(content_type__model="ticket", object_id=str(ticket.pk), pk__gt=after)
    return [e for e in events.order_by("pk") if "status" in (e.changes or {})]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_every_path_leaves_one_status_event_with_from_to_and_actor(world: World, path: Path) -> None:
    start = Ticket.objects.select_related("status").get(pk=path.ticket(world).pk)
    assert start.status_category == path.move[0]
    last = AuditEvent.objects.latest("pk").pk

    path.act(world, start)

    after = Ticket.objects.select_related("status").get(pk=start.pk)
    assert after.status_category == path.move[1]
    [event] = _status_events(start, last)
    assert event.changes["status"] == [start.status.name, after.status.name]
    assert event.changes["status_category"] == list(path.move)
    assert event.actor == path.actor(world)
    old, new = event.changes["version"]
    assert new == old + 1


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_every_path_is_refused_when_the_workflow_forbids_the_move(
    world: World, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = Ticket.objects.select_related("status").get(pk=path.ticket(world).pk)
    current, target = path.move
    if path.name == MERGE:  # a duplicate is closed by its own rule
        monkeypatch.setattr(workflow, "DUPLICATE_CLOSES_FROM", workflow.DUPLICATE_CLOSES_FROM - {current})
    else:
        monkeypatch.setitem(workflow.TRANSITIONS, current, workflow.TRANSITIONS[current] - {target})
    before = _state()

    with pytest.raises(ValidationFailed) as refused:
        path.act(world, start)

    assert refused.value.message == f"不能从“{start.status.name}”变为“{status(target).name}”"
    assert _state() == before


def test_the_merge_preview_asks_the_same_workflow(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    duplicate = _duplicate(world)
    monkeypatch.setattr(workflow, "DUPLICATE_CLOSES_FROM", frozenset({S.NEW, S.PENDING, S.RESOLVED}))

    errors = ticket_merge_errors(source=duplicate, target=Ticket.objects.get(subject="同一票货"))

    assert errors == [f"不能从“{duplicate.status.name}”变为“{status(S.CLOSED).name}”"]


def test_a_refused_customer_reply_stores_no_file(
    world: World, monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    ticket = _pending(world)
    monkeypatch.setitem(workflow.TRANSITIONS, S.PENDING, frozenset({S.PENDING, S.RESOLVED}))
    before = _state()

    with pytest.raises(ValidationFailed):
        message_add(
            actor=world.customer,
            ticket=ticket,
            body="补充照片",
            visibility=Visibility.PUBLIC,
            author_kind=AuthorKind.CUSTOMER,
            attachments=[SimpleUploadedFile("破损.jpg", b"\xff\xd8\xff", content_type="image/jpeg")],
        )

    assert _state() == before
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_refused_move_names_the_statuses_as_the_desk_calls_them(
    api_as: Callable[[User], Any], agent: User
) -> None:
    waiting = Status.objects.create(
        code="waiting-warehouse", name="等待仓库回复", name_en="Waiting on the warehouse", category=S.PENDING
    )
    ticket = ticket_transition(actor=agent, ticket=new_ticket(actor=agent, assignee=agent), status=waiting)
    new = status(S.NEW)
    api = api_as(agent)
    before = _state()

    chinese = api.post(f"/tickets/{ticket.number}/transition", {"status": new.code})
    english = api.post(
        f"/tickets/{ticket.number}/transition", {"status": new.code}, headers={"Accept-Language": "en"}
    )

    assert chinese.status_code == english.status_code == 422
    assert chinese.json()["fields"]["status"] == [f"不能从“等待仓库回复”变为“{new.name}”"]
    assert english.json()["fields"]["status"] == [
        f"Cannot change from “Waiting on the warehouse” to “{new.name_en}”"
    ]
    assert _state() == before
