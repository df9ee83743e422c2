"""Tickets: list, incremental changes, create (idempotent), detail, edit and the lifecycle — including the
portal's accept / reject of a resolution."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query
from ninja.params import HeaderEx, P

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.idempotency import HEADER as IDEMPOTENCY_HEADER
from kefu.core.idempotency import MAX_KEY_LENGTH, run_idempotent
from kefu.core.pagination import encode_time_cursor, keyset_page
from kefu.customers.access import may_view_personal_data
from kefu.customers.selectors import contact_name
from kefu.tickets import reveal, selectors
from kefu.tickets.access import access_ticket
from kefu.tickets.api.common import (
    NO_MESSAGES,
    agent_ref,
    category_ref,
    contact_ref,
    customer_ref,
    detail_out,
    is_portal,
    require_portal,
    reveals_contact,
    router,
    shown,
    status_ref,
    summary_out,
    team_ref,
    writable,
)
from kefu.tickets.api.schemas import (
    NOT_NULL,
    AssignIn,
    ChangesPage,
    ChangesQuery,
    CloseIn,
    RejectIn,
    ReopenIn,
    ResolveIn,
    RevealIn,
    RevealOut,
    TicketIn,
    TicketOut,
    TicketPage,
    TicketPatch,
    TicketQuery,
    TransitionIn,
    aware,
)
from kefu.tickets.enums import AuthorKind, Channel, Priority
from kefu.tickets.models import Category, Ticket
from kefu.tickets.services.create import TicketData, ticket_create
from kefu.tickets.services.edit import ticket_assign, ticket_update
from kefu.tickets.services.lifecycle import ticket_close, ticket_resolve, ticket_transition
from kefu.tickets.services.reopening import resolution_accept, resolution_reject, ticket_reopen

# --- list, changes, create ------------------------------------------------------------------------


@router.get("", response=TicketPage, summary="List tickets of a queue, filtered (newest activity first)")
def list_tickets(request: HttpRequest, query: Query[TicketQuery]) -> dict[str, Any]:
    tickets = selectors.ticket_list(request.user, queue=query.queue, filters=query.to_filters())
    page = keyset_page(
        tickets.prefetch_related("tags", "waybills"), cursor=query.cursor, limit=query.limit, by="updated_at"
    )
    portal = is_portal(request.user)
    return {"items": [summary_out(t, portal=portal) for t in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/changes",
    response=ChangesPage,
    summary="Tickets changed since a time, oldest change first (incremental export)",
)
def ticket_changes(request: HttpRequest, query: Query[ChangesQuery]) -> dict[str, Any]:
    """Every ticket you may see whose last change is at or after ``since`` — merged ones too, so a
    mirror learns about the merge. Keep calling with ``cursor=next_cursor``: when nothing is left,
    ``has_more`` is false and ``next_cursor`` still marks where the next poll resumes. A ticket changed
    again after you read it comes back later with its new state. A change is listed once it is
    ``KEFU_CHANGES_SETTLE_SECONDS`` (10) old, so none is skipped while its transaction commits."""
    since = aware(query.since, field="since")
    tickets = selectors.ticket_changes(request.user, since=since)
    page = keyset_page(tickets, cursor=query.cursor, limit=query.limit, by="updated_at", descending=False)
    portal = is_portal(request.user)
    resume = query.cursor
    if page.items:
        last = page.items[-1]
        resume = encode_time_cursor(last.updated_at, last.pk)
    return {
        "items": [summary_out(t, portal=portal) for t in page.items],
        "next_cursor": resume,
        "has_more": page.next_cursor is not None,
    }


def _created_out(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    reveal = reveals_contact(request.user, ticket)
    return detail_out(ticket, portal=is_portal(request.user), reveal=reveal, counts=NO_MESSAGES)


def _ticket_data(user: Any, payload: TicketIn, *, category: Category | None, portal: bool) -> TicketData:
    """The API's new ticket. A portal user's is its own organization's, on the web channel whatever
    the body says; everything else the body says goes to the service, which refuses what a customer
    may not set (customer_ticket_errors) — the portal's form is held to the same rule."""
    customer = user.portal_account.customer if portal else customer_ref(user, payload.customer)
    return TicketData(
        subject=payload.subject,
        description=payload.description,
        channel=Channel.WEB if portal else payload.channel,
        type=payload.type,
        category=category,
        priority=payload.priority or Priority.NORMAL,
        customer=customer,
        contact=contact_ref(payload.contact, customer=customer, required_customer=portal),
        team=team_ref(payload.team),
        assignee=agent_ref(payload.assignee),
        custom_fields=payload.custom_fields,
        tags=payload.tags,
        waybills=payload.waybills,
    )


def _create(request: HttpRequest, payload: TicketIn) -> Ticket:
    user: Any = request.user
    category = category_ref(payload.category)
    portal = is_portal(user)
    if portal and getattr(user, "portal_account", None) is None:
        raise PermissionDenied(_("没有权限创建工单"))
    if not portal and not user.has_perm("tickets.add_ticket"):
        raise PermissionDenied(_("没有权限创建工单"))
    data = _ticket_data(user, payload, category=category, portal=portal)
    author_kind = AuthorKind.CUSTOMER if portal else AuthorKind.AGENT
    return ticket_create(actor=user, data=data, author_kind=author_kind)


@router.post(
    "",
    response={201: TicketOut},
    summary="Create a ticket (send an Idempotency-Key header to make retries safe)",
)
def create_ticket(
    request: HttpRequest,
    payload: TicketIn,
    idempotency_key: HeaderEx[str | None, P(alias=IDEMPOTENCY_HEADER, max_length=MAX_KEY_LENGTH)] = None,
) -> Any:
    user: Any = request.user
    outcome = run_idempotent(
        user=user,
        scope="tickets.create",
        key=idempotency_key,
        request=payload.model_dump(mode="json"),
        status=201,
        action=lambda: _created_out(request, _create(request, payload)),
    )
    if outcome.replayed:
        # The first answer is replayed only while the caller may still see the ticket (moved to
        # another team since, or the caller left the team: 404 like any ticket they cannot see).
        access_ticket(user, outcome.body["id"])
    return outcome.body


# --- one ticket -----------------------------------------------------------------------------------


@router.get("/{ref}", response=TicketOut, summary="One ticket (public id or ticket number)")
def get_ticket(request: HttpRequest, ref: str) -> dict[str, Any]:
    ticket = selectors.ticket_detail(request.user, ref, page=False)
    return detail_out(ticket, portal=is_portal(request.user), reveal=reveals_contact(request.user, ticket))


@router.patch("/{ref}", response=TicketOut, summary="Change a ticket (`version` required; 409 when stale)")
def update_ticket(request: HttpRequest, ref: str, payload: TicketPatch) -> dict[str, Any]:
    ticket = writable(request, ref)
    given = payload.model_dump(exclude_unset=True)
    nulls = sorted(name for name in NOT_NULL if name in given and given[name] is None)
    if nulls:
        raise ValidationFailed(
            _("请求数据有误，请检查各字段"), fields={name: [_("不能为空")] for name in nulls}
        )
    changes: dict[str, Any] = {
        name: given[name]
        for name in ("subject", "description", "type", "priority", "custom_fields")
        if name in given
    }
    if "category" in given:
        changes["category"] = category_ref(given["category"])
    if "contact" in given:
        changes["contact"] = contact_ref(given["contact"], customer=ticket.customer, required_customer=True)
    updated = ticket_update(
        actor=request.user,
        ticket=ticket,
        version=payload.version,
        changes=changes,
        add_tags=payload.add_tags,
        remove_tags=payload.remove_tags,
        waybills=payload.waybills,
    )
    return shown(request, updated)


@router.post("/{ref}/assign", response=TicketOut, summary="Assign to an agent (and optionally a team)")
def assign_ticket(request: HttpRequest, ref: str, payload: AssignIn) -> dict[str, Any]:
    ticket = writable(request, ref)
    updated = ticket_assign(
        actor=request.user,
        ticket=ticket,
        assignee=agent_ref(payload.assignee),
        team=team_ref(payload.team),
        version=payload.version,
    )
    return shown(request, updated)


@router.post("/{ref}/transition", response=TicketOut, summary="Move to a new, open or pending status")
def transition_ticket(request: HttpRequest, ref: str, payload: TransitionIn) -> dict[str, Any]:
    ticket = writable(request, ref)
    updated = ticket_transition(
        actor=request.user, ticket=ticket, status=status_ref(payload.status), version=payload.version
    )
    return shown(request, updated)


@router.post("/{ref}/resolve", response=TicketOut, summary="Resolve with a solution summary")
def resolve_ticket(request: HttpRequest, ref: str, payload: ResolveIn) -> dict[str, Any]:
    ticket = writable(request, ref)
    updated = ticket_resolve(
        actor=request.user, ticket=ticket, solution_summary=payload.solution_summary, version=payload.version
    )
    return shown(request, updated)


@router.post("/{ref}/close", response=TicketOut, summary="Close a resolved ticket")
def close_ticket(request: HttpRequest, ref: str, payload: CloseIn) -> dict[str, Any]:
    ticket = writable(request, ref)
    updated = ticket_close(
        actor=request.user,
        ticket=ticket,
        satisfaction_confirmed=payload.satisfaction_confirmed,
        reason=payload.reason,
        note=payload.note,
        version=payload.version,
    )
    return shown(request, updated)


@router.post(
    "/{ref}/reopen",
    response=TicketOut,
    summary="Reopen (after the reopen window: answers with the new, linked follow-up ticket)",
)
def reopen_ticket(request: HttpRequest, ref: str, payload: ReopenIn) -> dict[str, Any]:
    ticket = writable(request, ref)
    updated = ticket_reopen(actor=request.user, ticket=ticket, reason=payload.reason)
    return shown(request, updated)


@router.post("/{ref}/accept", response=TicketOut, summary="Portal: accept the resolution (closes, satisfied)")
def accept_resolution(request: HttpRequest, ref: str) -> dict[str, Any]:
    ticket = access_ticket(request.user, ref)
    require_portal(request.user)
    return shown(request, resolution_accept(actor=request.user, ticket=ticket))


@router.post(
    "/{ref}/reject", response=TicketOut, summary="Portal: reject the resolution with a reason (reopens)"
)
def reject_resolution(request: HttpRequest, ref: str, payload: RejectIn) -> dict[str, Any]:
    ticket = access_ticket(request.user, ref)
    require_portal(request.user)
    reopened = resolution_reject(actor=request.user, ticket=ticket, reason=payload.reason)
    return shown(request, reopened)


@router.post(
    "/{ref}/reveal-phone",
    response=RevealOut,
    summary="Staff: the whole phone number of the ticket's contact, with a reason (logged, rate-limited)",
)
def reveal_phone(request: HttpRequest, ref: str, payload: RevealIn) -> dict[str, Any]:
    ticket = selectors.ticket_detail(request.user, ref, page=False)
    revealed = reveal.contact_phone_reveal(actor=request.user, ticket=ticket, reason=payload.reason)
    contact = revealed.contact
    # The reveal is of the number: the name stays as the policy shows it to this user.
    name = contact_name(contact.name, reveal=may_view_personal_data(request.user), customer=ticket.customer)
    return {"contact": {"id": contact.public_id, "name": name}, "phone": revealed.phone}
