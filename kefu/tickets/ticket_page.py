"""The ticket page (``tickets/detail.html``): what its template needs, for the ticket views and the
problem section's views alike — each renders it again, with its errors, when an action is refused."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from kefu.accounts.http import AuthedRequest
from kefu.core.models import AuditAction
from kefu.core.web import audit_for_display, form_errors
from kefu.customers import reveal as customer_reveal
from kefu.customers import selectors as customer_selectors
from kefu.customers import services as customer_services
from kefu.customers.access import may_view_personal_data
from kefu.tickets import console, drafts, reveal, selectors
from kefu.tickets.access import is_read_only_role
from kefu.tickets.enums import (
    ACTIVE_CATEGORIES,
    CloseReason,
    Department,
    LinkKind,
    Priority,
    StatusCategory,
    SubtaskStatus,
    TicketType,
    Visibility,
)
from kefu.tickets.models import Ticket
from kefu.tickets.services.problems import problem_overview
from kefu.tickets.services.rules import assignable_users


def _custom_field_rows(ticket: Ticket, fields: list[Any]) -> list[dict[str, Any]]:
    values = ticket.custom_fields or {}
    return [{"spec": f, "value": values.get(f.key, "")} for f in fields]


# Ticket changes the timeline leaves out (the header shows them) or labels itself.
_HIDDEN_CHANGES = {"status_category", "version", "search_text"}


_LABELS = {
    "subtasks": gettext_lazy("协作单"),
    "waybills": gettext_lazy("运单号"),
    "watchers": gettext_lazy("关注人"),
    "links": pgettext_lazy("ticket page card", "关联工单"),
    "merged_from": gettext_lazy("合并自"),
    "split_to": gettext_lazy("拆分为"),
    "messages": gettext_lazy("移入的消息"),
    "incidents": gettext_lazy("事件工单"),
    "incident_rule": gettext_lazy("自动关联规则"),
    "problem_update": gettext_lazy("群发更新"),
}


def _link_change(side: Any) -> Any:
    """A ``links`` audit value (``"related T2611250001"``) with the kind in words."""
    kind, _space, number = str(side or "").partition(" ")
    return f"{LinkKind(kind).label} {number}" if kind in LinkKind.values else side


def _shape_events(events: list[Any], *, reveal: bool, fields: list[Any], customer: Any = None) -> None:
    """Audit events ready for the ticket timeline: the creation without its field dump, custom fields
    by label, the contact's name masked unless the viewer may see personal data."""
    specs = {f.key: f for f in fields}

    def shown_field(key: str, value: Any) -> str:
        spec = specs.get(key)
        if spec is None:
            return _("%(label)s：%(value)s") % {"label": key, "value": value}
        return _("%(label)s：%(value)s") % {"label": spec.localized_label, "value": spec.choice_label(value)}

    for event in events:
        event.content_type = ContentType.objects.get_for_id(event.content_type_id)  # cached, no query
        changes = event.changes if isinstance(event.changes, dict) else {}
        if event.action == AuditAction.CREATE:
            changes = {}
        changes = {k: v for k, v in changes.items() if k not in _HIDDEN_CHANGES}
        for name, pair in list(changes.items()):
            if not isinstance(pair, list | tuple):
                continue
            if name == "custom_fields":
                changes[name] = [
                    _("、").join(shown_field(k, v) for k, v in side.items())
                    if isinstance(side, dict)
                    else side
                    for side in pair
                ]
            elif name == "contact" and not reveal:
                changes[name] = [
                    customer_selectors.contact_name(str(side), reveal=False, customer=customer)
                    if side
                    else side
                    for side in pair
                ]
            elif name == "links":
                changes[name] = [_link_change(side) for side in pair]
            elif name == "problem_update":
                # The stored value is the update's id (a retry is a no-op): say what it did instead.
                notified = changes.pop("incidents_notified", [None, 0])[1] or 0
                changes[name] = [
                    None,
                    ngettext("公开回复已发到 %(n)s 张事件工单", "公开回复已发到 %(n)s 张事件工单", notified)
                    % {"n": notified},
                ]
        event.changes = changes
    audit_for_display(events, reveal=reveal, labels=_LABELS)


def _assignees(user: Any, ticket: Ticket) -> list[Any]:
    """Whom the user may assign this ticket to, and its current assignee (kept selected)."""
    assignees = list(assignable_users(actor=user, team=ticket.team))
    if ticket.assignee is not None and ticket.assignee not in assignees:
        assignees.insert(0, ticket.assignee)
    return assignees


def problem_context(user: Any, ticket: Ticket) -> dict[str, Any]:
    """What ``_problem.html`` needs, for the ticket page. No query unless ``ticket`` is a problem (an
    incident's banner uses ``ticket.problem``, which the detail selector already joins)."""
    may_manage = (
        user.has_perm("tickets.manage_problem")
        and user.has_perm("tickets.change_ticket")
        and not is_read_only_role(user)
    )
    context: dict[str, Any] = {"can_manage_problem": may_manage, "problem_overview": None}
    if ticket.is_problem:
        context["problem_overview"] = problem_overview(ticket, user=user)
        if may_manage:
            context.update(
                {
                    "problem_saved_views": list(console.saved_views_for(user)),
                    "problem_categories": console.categories(),
                    # A fresh id per page view: a double-submitted update is posted once.
                    "problem_update_id": uuid.uuid4().hex,
                }
            )
    return context


def detail_context(request: AuthedRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    user = request.user
    reveal_all = may_view_personal_data(user)
    timeline = selectors.ticket_timeline(ticket, for_customer=False)
    fields = console.category_fields(ticket.category)
    customer = ticket.customer
    _shape_events(
        [item.event for item in timeline if item.event is not None],
        reveal=reveal_all,
        fields=fields,
        customer=customer,
    )
    contact = None
    recent: list[Ticket] = []
    if customer is not None:
        person = reveal.callback_contact(ticket)
        if person is not None:
            contact = customer_selectors.contact_view(person, reveal=reveal_all, customer=customer)
            if reveal_all:
                customer_services.record_pii_view(
                    actor=user, customer=customer, contacts=[person], where="ticket"
                )
        recent = list(selectors.customer_recent_tickets(request.user, customer.pk, exclude=ticket.pk))
    subtasks = list(ticket.subtasks.all())
    read_only = is_read_only_role(user) or not user.has_perm("tickets.change_ticket")
    draft = None if read_only else drafts.draft_for(ticket, user)
    workable = (
        not read_only and ticket.merged_into_id is None and ticket.status_category != StatusCategory.CLOSED
    )
    context = {
        "ticket": ticket,
        "timeline": timeline,
        "custom_fields": _custom_field_rows(ticket, fields),
        "category_fields": fields,
        "customer": customer,
        "contact": contact,
        # A masked phone the viewer may reveal with a reason (tickets/_contact_phone.html).
        "can_reveal": bool(contact and contact.phone and not reveal_all and customer_reveal.may_reveal(user)),
        "recent": recent,
        "subtasks": subtasks,
        "subtasks_done": sum(1 for s in subtasks if s.status == SubtaskStatus.DONE),
        "subtasks_total": sum(1 for s in subtasks if s.status != SubtaskStatus.CANCELLED),
        "can_create_subtasks": True,
        "departments": Department.choices,
        "subtask_statuses": SubtaskStatus.choices,
        "watching": any(w.pk == user.pk for w in ticket.watchers.all()),
        "read_only": read_only,
        "links": console.ticket_links(user, ticket),
        "link_kinds": list(console.MANUAL_LINK_KINDS.items()),
        # The services refuse to merge or split a closed ticket, and to split off a ticket's only message.
        "can_merge": workable,
        "can_split": workable and sum(1 for item in timeline if item.kind == "message") > 1,
        "merge_target": None,
        "posted": {},
        "assignees": _assignees(user, ticket),
        "statuses": [s for s in console.statuses() if s.category in ACTIVE_CATEGORIES],
        "categories": console.categories(),
        "types": TicketType.choices,
        "priorities": Priority.choices,
        "close_reasons": CloseReason.choices,
        "others": console.presence_touch(ticket, user),
        "presence_poll": console.PRESENCE_POLL_SECONDS,
        "waybills_value": ", ".join(w.waybill_no for w in ticket.waybills.all()),
        "edit_values": {
            "subject": ticket.subject,
            "type": ticket.type,
            "priority": ticket.priority,
            "category": ticket.category.code if ticket.category else "",
            "waybills": ", ".join(w.waybill_no for w in ticket.waybills.all()),
            **{f"cf_{key}": value for key, value in (ticket.custom_fields or {}).items()},
        },
        # The split form starts from this ticket's category and fields (split_* after a refused split).
        "ticket_fields": fields,
        "ticket_values": {f"cf_{key}": value for key, value in (ticket.custom_fields or {}).items()},
        "split_message": None,
        "split_fields": [],
        "draft": draft.body if draft else "",
        "draft_visibility": draft.visibility if draft else Visibility.PUBLIC,
        "draft_files": list(draft.attachments.all()) if draft else [],
        "action": "",
        **form_errors(None),
        **problem_context(user, ticket),
    }
    context.update(extra)
    return context
