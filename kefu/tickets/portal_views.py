"""The customer portal's tickets: a portal user sees, opens and writes only its organization's tickets,
and only their public conversation."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kefu.accounts.http import AuthedRequest
from kefu.core.errors import Conflict, KefuError, ValidationFailed
from kefu.core.web import form_errors, portal_view
from kefu.tickets import console, forms, selectors, waybills
from kefu.tickets.access import access_ticket
from kefu.tickets.enums import (
    AuthorKind,
    Channel,
    Priority,
    TicketType,
    Visibility,
)
from kefu.tickets.models import Ticket
from kefu.tickets.services.create import TicketData
from kefu.tickets.services.messages import message_add
from kefu.tickets.services.reopening import resolution_accept, resolution_reject
from kefu.tickets.views import attachment_response


@portal_view
def portal_ticket_list(request: AuthedRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in selectors.PORTAL_STATES:
        state = selectors.PORTAL_DEFAULT_STATE
    filters = selectors.portal_state_filters(state, q=request.GET.get("q", "")[:100])
    tickets = selectors.ticket_list(request.user, queue="all", filters=filters)
    try:
        rows, next_cursor = forms.page_of(tickets, request.GET.get("cursor", ""))
    except KefuError:
        rows, next_cursor = forms.page_of(tickets, "")
    counts = selectors.portal_state_counts(request.user)
    return render(
        request,
        "tickets/portal_list.html",
        {
            "rows": rows,
            "next_cursor": next_cursor,
            "state": state,
            "q": filters.q,
            "states": [(key, label, counts[key]) for key, (label, _c) in selectors.PORTAL_STATES.items()],
            "awaiting": counts["resolved"],
        },
    )


def _detail(request: AuthedRequest, ticket: Ticket, *, status: int = 200, **extra: object) -> HttpResponse:
    context = {
        "ticket": ticket,
        "timeline": selectors.ticket_timeline(ticket, for_customer=True),
        "custom_fields": [
            {"spec": f, "value": (ticket.custom_fields or {}).get(f.key, "")}
            for f in console.category_fields(ticket.category)
        ],
        "draft": "",
        "action": "",
        **form_errors(None),
    }
    context.update(extra)
    return render(request, "tickets/portal_detail.html", context, status=status)


@portal_view
def portal_ticket_detail(request: AuthedRequest, number: str) -> HttpResponse:
    return _detail(request, selectors.ticket_detail(request.user, number))


@portal_view
def portal_ticket_attachment(request: AuthedRequest, number: str, public_id: str) -> FileResponse:
    ticket = access_ticket(request.user, number)
    return attachment_response(console.attachment_of(ticket, public_id, public_only=True))


@require_http_methods(["GET", "POST"])
@portal_view
def portal_ticket_action(request: AuthedRequest, number: str, action: str) -> HttpResponse:
    """POST: the action, then back to the ticket. A refused one shows the ticket with the errors at this
    address; a GET of it shows the ticket, so the address loads after an error too."""
    ticket = access_ticket(request.user, number)
    user = request.user
    if action not in ("reply", "accept", "reject"):
        return render(request, "404.html", status=404)
    if request.method == "GET":
        return _detail(request, selectors.ticket_detail(user, number), action=action)
    result: Ticket | None = None
    try:
        if action == "reply":
            message_add(
                actor=user,
                ticket=ticket,
                body=request.POST.get("body", ""),
                visibility=Visibility.PUBLIC,
                author_kind=AuthorKind.CUSTOMER,
                attachments=request.FILES.getlist("attachments"),
            )
            done = _("回复已发送")
        elif action == "accept":
            resolution_accept(actor=user, ticket=ticket)
            done = _("感谢确认，工单已关闭")
        else:
            result = resolution_reject(actor=user, ticket=ticket, reason=request.POST.get("reason", ""))
            done = _("已重新打开工单，客服会尽快跟进")
    except (ValidationFailed, Conflict) as exc:
        return _detail(
            request,
            selectors.ticket_detail(user, number),
            status=422,
            draft=request.POST.get("body", ""),
            action=action,
            **form_errors(exc),
        )
    messages.success(request, done)
    return redirect("portal-ticket-detail", number=result.number if result else number)


@portal_view
def portal_ticket_new(request: AuthedRequest) -> HttpResponse:
    account = request.user.portal_account
    post = request.POST
    error: KefuError | None = None
    category = console.category_by_code(post.get("category", request.GET.get("category", "")))
    fields = console.category_fields(category)
    if request.method == "POST":
        data = TicketData(
            subject=post.get("subject", ""),
            description=post.get("description", ""),
            channel=Channel.WEB,
            type=post.get("type", TicketType.INQUIRY),
            category=category,
            priority=Priority.NORMAL,
            customer=account.customer,
            custom_fields=forms.parse_custom_fields(post, fields),
            waybills=waybills.split(post.get("waybills", "")),
        )
        try:
            ticket = console.ticket_create_with_attachments(
                actor=request.user,
                data=data,
                attachments=request.FILES.getlist("attachments"),
                author_kind=AuthorKind.CUSTOMER,
            )
        except ValidationFailed as exc:
            error = exc
        else:
            messages.success(request, _("工单 %(number)s 已提交，我们会尽快处理") % {"number": ticket.number})
            return redirect("portal-ticket-detail", number=ticket.number)
    return render(
        request,
        "tickets/portal_new.html",
        {
            "categories": console.categories(),
            "category": category,
            "fields": fields,
            "values": post,
            "types": [(v, label) for v, label in TicketType.choices if v not in ("claim", "exception")],
            **form_errors(error),
        },
        status=422 if error else 200,
    )


@portal_view
def portal_category_fields(request: AuthedRequest) -> HttpResponse:
    category = console.category_by_code(request.GET.get("category", ""))
    return render(
        request,
        "tickets/_custom_fields.html",
        {"fields": console.category_fields(category), "values": {}, "field_errors": {}},
    )
