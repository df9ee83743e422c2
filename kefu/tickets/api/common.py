"""What every tickets endpoint shares: who is asking, turning tickets and messages into response dicts,
and resolving the ids a request body names.

Responses are plain dicts validated once, by ninja, against the declared schema."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from kefu.accounts.models import Team, User
from kefu.core import reference
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.customers.access import may_view_personal_data, visible_customers
from kefu.customers.models import Contact, Customer
from kefu.customers.selectors import contact_name
from kefu.customers.services import record_pii_view
from kefu.tickets import console, selectors
from kefu.tickets.access import access_ticket, require_agent_write
from kefu.tickets.enums import Visibility
from kefu.tickets.models import Category, Message, Status, Ticket
from kefu.tickets.services.common import category_named

# The one router of /tickets: every endpoint module registers on it (kefu.tickets.api imports them).
router = Router(tags=["tickets"])


def is_portal(user: Any) -> bool:
    return bool(getattr(user, "is_portal_user", False))


def require_portal(user: Any) -> None:
    if not is_portal(user) or getattr(user, "portal_account", None) is None:
        raise PermissionDenied(_("只有客户门户用户可以确认或拒绝解决方案"))


# --- serializers ----------------------------------------------------------------------------------


def _internal(ticket: Ticket) -> dict[str, Any]:
    assignee, team = ticket.assignee, ticket.team
    return {
        "team": {"id": team.pk, "name": team.name} if team else None,
        "assignee": {"id": assignee.pk, "username": assignee.username, "full_name": assignee.full_name}
        if assignee
        else None,
        "tags": sorted(t.name for t in ticket.tags.all()),
        "is_problem": ticket.is_problem,
    }


def summary_out(ticket: Ticket, *, portal: bool) -> dict[str, Any]:
    category, customer, status = ticket.category, ticket.customer, ticket.status
    return {
        "id": ticket.public_id,
        "number": ticket.number,
        "subject": ticket.subject,
        "channel": ticket.channel,
        "type": ticket.type,
        "priority": ticket.priority,
        "category": {"code": category.code, "name": category.name} if category else None,
        "status": {"code": status.code, "name": status.name, "category": status.category},
        "customer": {"id": customer.public_id, "name": customer.name} if customer else None,
        "waybills": sorted(w.waybill_no for w in ticket.waybills.all()),
        "version": ticket.version,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "internal": None if portal else _internal(ticket),
    }


# The message counts of a ticket that has no messages yet (a ticket just created).
NO_MESSAGES = {"public": 0, "notes": 0, "attachments": 0}


def reveals_contact(user: Any, ticket: Ticket) -> bool:
    """Whether ``user`` sees the ticket's contact unmasked (the one masking policy,
    kefu.customers.selectors); staff's unmasked view of a contact is logged, as on the ticket page."""
    reveal = may_view_personal_data(user)
    contact = ticket.contact
    if reveal and contact is not None and not is_portal(user):
        record_pii_view(
            actor=user, customer=ticket.customer or contact.customer, contacts=[contact], where="api"
        )
    return reveal


def detail_out(
    ticket: Ticket, *, portal: bool, reveal: bool, counts: dict[str, int] | None = None
) -> dict[str, Any]:
    """The full ticket; the contact's name masked unless ``reveal`` (:func:`reveals_contact`)."""
    if counts is None:
        # distinct: the attachments join repeats a message once per file
        counts = ticket.messages.aggregate(
            public=Count("id", filter=Q(visibility=Visibility.PUBLIC), distinct=True),
            notes=Count("id", filter=Q(visibility=Visibility.INTERNAL), distinct=True),
            attachments=Count("attachments", filter=Q(visibility=Visibility.PUBLIC) if portal else Q()),
        )
    out = summary_out(ticket, portal=portal)
    contact = ticket.contact
    out.update(
        {
            "description": ticket.description,
            "contact": {
                "id": contact.public_id,
                "name": contact_name(contact.name, reveal=reveal, customer=ticket.customer),
            }
            if contact
            else None,
            "custom_fields": ticket.custom_fields,
            "solution_summary": ticket.solution_summary,
            "satisfaction_confirmed": ticket.satisfaction_confirmed,
            "close_reason": ticket.close_reason,
            "reopened_count": ticket.reopened_count,
            "first_response_at": ticket.first_response_at,
            "resolved_at": ticket.resolved_at,
            "closed_at": ticket.closed_at,
            "counts": {
                "messages": counts["public"] if portal else counts["public"] + counts["notes"],
                "attachments": counts["attachments"],
            },
        }
    )
    if not portal:
        problem, merged = ticket.problem, ticket.merged_into
        out["internal"].update(
            {
                "problem": problem.number if problem else None,
                "merged_into": merged.number if merged else None,
                "close_note": ticket.close_note,
                "notes": counts["notes"],
            }
        )
    return out


def message_out(message: Message, *, portal: bool) -> dict[str, Any]:
    author = message.author
    if author is None:
        name = str(message.get_author_kind_display())
    elif portal:
        name = author.full_name or str(message.get_author_kind_display())  # no usernames to customers
    else:
        name = author.full_name or author.username
    return {
        "id": message.pk,
        "visibility": message.visibility,
        "author_kind": message.author_kind,
        "author": name,
        "body_html": message.body_html,
        "body_text": message.body_text,
        "created_at": message.created_at,
        "attachments": [
            {"id": a.public_id, "name": a.name, "size": a.size, "content_type": a.content_type}
            for a in message.attachments.all()
        ],
    }


def shown(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    """The ticket a write just returned, as the caller may see it. Re-read with what it shows in one go
    (the write returns a bare locked row), but not through access: an agent who hands a ticket to
    another team still gets the result of what they did."""
    shaped = selectors.with_output_relations(Ticket.objects.all()).get(pk=ticket.pk)
    return detail_out(shaped, portal=is_portal(request.user), reveal=reveals_contact(request.user, shaped))


# --- references in request bodies -----------------------------------------------------------------


def category_ref(code: str | None) -> Category | None:
    if code is None:
        return None
    category = category_named(code)
    if category is None:
        raise ValidationFailed.for_field("category", _("没有代码为 %(code)s 的分类") % {"code": code})
    return category


def customer_ref(user: Any, public_id: str | None) -> Customer | None:
    if public_id is None:
        return None
    customer = visible_customers(user).filter(public_id=public_id).first()
    if customer is None:
        raise ValidationFailed.for_field("customer", _("客户不存在"))
    return customer


def contact_ref(
    public_id: str | None, *, customer: Customer | None, required_customer: bool
) -> Contact | None:
    """A contact of ``customer`` (any customer when ``required_customer`` is false and none is given)."""
    if public_id is None:
        return None
    contacts = Contact.objects.select_related("customer").filter(public_id=public_id)
    if customer is not None or required_customer:
        contacts = contacts.filter(customer=customer)
    contact = contacts.first()
    if contact is None:
        raise ValidationFailed.for_field("contact", _("联系人不存在或不属于该客户"))
    return contact


def team_ref(team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    # Teams are reference data (kefu.core.reference: a team's change renews the stamp): no query per write.
    team = reference.cached("teams-by-id", lambda: {t.pk: t for t in Team.objects.all()}).get(team_id)
    if team is None:
        raise ValidationFailed.for_field("team", _("没有编号为 %(id)s 的团队") % {"id": team_id})
    return team


def agent_ref(user_id: int | None) -> User | None:
    if user_id is None:
        return None
    return console.assignee_by_id(user_id)


def status_ref(code: str) -> Status:
    status = Status.objects.filter(code=code).first()
    if status is None:
        raise ValidationFailed.for_field("status", _("没有代码为 %(code)s 的状态") % {"code": code})
    return status


def writable(request: HttpRequest, ref: str) -> Ticket:
    """The ticket, for staff who may change tickets: 404 if not visible, then 403 if read-only."""
    ticket = access_ticket(request.user, ref)
    require_agent_write(request.user)
    return ticket
