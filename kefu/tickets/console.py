"""Writes and reads only the agent console needs: saved views, watching a ticket, who else has a ticket
open (presence, kept in the cache), bulk actions and the configuration lists of the forms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.models import Team, TeamMembership, User
from kefu.core import audit
from kefu.core.errors import KefuError, NotFound, ValidationFailed
from kefu.core.models import AuditAction
from kefu.tickets.access import access_ticket, require_agent_write, visible_tickets
from kefu.tickets.enums import LinkKind, Priority, Visibility
from kefu.tickets.models import Attachment, Category, CustomField, SavedView, Status, Ticket, TicketLink
from kefu.tickets.services import rules
from kefu.tickets.services.common import category_named
from kefu.tickets.services.create import TicketData, ticket_create
from kefu.tickets.services.edit import ticket_assign, ticket_update
from kefu.tickets.services.lifecycle import ticket_transition
from kefu.tickets.services.merge_split_link import ticket_merge
from kefu.tickets.services.messages import message_add

PRESENCE_POLL_SECONDS = 20  # the ticket page says "still here" this often (tickets/detail.html)
# Seconds a page view counts as "has it open": two missed polls and a margin. A page that is closed or
# left says so (presence_leave); this only covers a browser that could not (crashed, offline).
PRESENCE_TTL = 2 * PRESENCE_POLL_SECONDS + 5


# --- configuration lists --------------------------------------------------------------------------


def assignable_users() -> QuerySet[User]:
    """Everyone who handles tickets, of any team (bulk actions, work orders); one ticket's own list is
    ``rules.assignable_users``, which the services enforce."""
    return rules.assignable_users(actor=None, team=None)


def assignee_by_id(user_id: int) -> User:
    """The user a form or request body names as assignee; whether they may be assigned is the
    service's question (``rules.assignee_errors``), so every path gives the same answer."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise ValidationFailed.for_field("assignee", _("没有编号为 %(id)s 的员工") % {"id": user_id})
    return user


def teams_of(user: Any) -> QuerySet[Team]:
    """The user's teams: a ticket an agent opens goes to one of them, so the agent keeps seeing it."""
    return Team.objects.filter(memberships__user=user).order_by("name")


def teams() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def statuses() -> QuerySet[Status]:
    return Status.objects.all()


def categories() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).select_related("parent")


def category_fields(category: Category | None) -> list[CustomField]:
    return list(CustomField.objects.filter(category=category)) if category else []


def category_by_code(code: str) -> Category | None:
    return category_named(code) if code else None


# --- attachments ---------------------------------------------------------------------------------


def attachment_of(ticket: Ticket, public_id: str, *, public_only: bool) -> Attachment:
    """An attachment of ``ticket`` (for a customer: only one on a public message); 404 otherwise."""
    queryset = Attachment.objects.filter(public_id=public_id, message__ticket=ticket)
    if public_only:
        queryset = queryset.filter(message__visibility=Visibility.PUBLIC)
    attachment = queryset.first()
    if attachment is None:
        raise NotFound(_("附件不存在"))
    return attachment


# --- saved views ----------------------------------------------------------------------------------


def saved_views_for(user: Any) -> QuerySet[SavedView]:
    """Mine, and those shared by someone in one of my teams."""
    teammates = TeamMembership.objects.filter(
        team_id__in=TeamMembership.objects.filter(user=user).values("team_id")
    ).values("user_id")
    return SavedView.objects.filter(Q(owner=user) | Q(shared=True, owner_id__in=teammates)).select_related(
        "owner"
    )


def saved_view_create(*, actor: User, name: str, filters: Mapping[str, Any], shared: bool) -> SavedView:
    name = name.strip()
    if not name:
        raise ValidationFailed.for_field("name", _("请填写视图名称"))
    if len(name) > 64:
        raise ValidationFailed.for_field("name", _("名称不能超过 64 字"))
    clean = {
        str(k): [str(v) for v in (vs if isinstance(vs, list | tuple) else [vs]) if v]
        for k, vs in filters.items()
    }
    view = SavedView.objects.create(
        owner=actor, name=name, filters={k: v for k, v in clean.items() if v}, shared=shared
    )
    audit.record(actor=actor, action=AuditAction.CREATE, obj=view, changes={"name": [None, name]})
    return view


def saved_view_delete(*, actor: User, view_id: int) -> None:
    view = SavedView.objects.filter(pk=view_id, owner=actor).first()
    if view is None:
        raise NotFound(_("视图不存在"))
    audit.record(actor=actor, action=AuditAction.DELETE, obj=view, changes={"name": [view.name, None]})
    view.delete()


# --- watchers -------------------------------------------------------------------------------------


@transaction.atomic
def ticket_watch(*, actor: User, ticket: Ticket, watching: bool) -> None:
    require_agent_write(actor)
    if watching:
        ticket.watchers.add(actor)
    else:
        ticket.watchers.remove(actor)
    # Not audited and no version bump: watching is the watcher's own subscription, not a ticket edit.


# --- presence -------------------------------------------------------------------------------------


def _presence_key(ticket: Ticket) -> str:
    return f"ticket-presence:{ticket.pk}"


def _present(key: str, now: float) -> dict[str, Any]:
    return {uid: entry for uid, entry in (cache.get(key) or {}).items() if now - entry[0] < PRESENCE_TTL}


def presence_touch(ticket: Ticket, user: User) -> list[str]:
    """Record that ``user`` has ``ticket`` open now; return the names of the others who have it open."""
    now = timezone.now().timestamp()
    key = _presence_key(ticket)
    seen = _present(key, now)
    seen[str(user.pk)] = (now, str(user))
    cache.set(key, seen, PRESENCE_TTL)
    return sorted(name for uid, (_at, name) in seen.items() if uid != str(user.pk))


def presence_leave(ticket: Ticket, user: User) -> None:
    """``user`` left the ticket page (the page says so as it unloads): others stop seeing them at once
    instead of until their entry expires."""
    key = _presence_key(ticket)
    seen = _present(key, timezone.now().timestamp())
    if seen.pop(str(user.pk), None) is not None:
        cache.set(key, seen, PRESENCE_TTL)


# --- links, and naming another ticket -------------------------------------------------------------


def ticket_ref(value: str) -> str:
    """What an agent typed to name a ticket, as ``access_ticket`` takes it: ``t2611250001`` and
    `` T2611250001 `` are the ticket number ``T2611250001``; anything else is left as a public id."""
    ref = value.strip()[:64]
    return ref.upper() if ref[:1] in "Tt" and ref[1:].isdigit() else ref


def other_ticket(actor: Any, value: str, *, field: str) -> Ticket:
    """The ticket named in a form field; a ticket the actor cannot see is refused exactly like one that
    does not exist (a form error on ``field``, no hint that it exists)."""
    ref = ticket_ref(value)
    if not ref:
        raise ValidationFailed.for_field(field, _("请填写工单号"))
    try:
        return access_ticket(actor, ref)
    except NotFound:
        raise ValidationFailed.for_field(field, _("工单 %(ref)s 不存在") % {"ref": ref}) from None


def other_tickets(actor: Any, values: Sequence[str], *, field: str) -> list[Ticket]:
    """The tickets named in a list (numbers or public ids), in one query; the first one the actor
    cannot see is refused as :func:`other_ticket` refuses it."""
    refs = list(dict.fromkeys(ref for ref in map(ticket_ref, values) if ref))
    found = {
        key: ticket
        for ticket in visible_tickets(actor).filter(Q(number__in=refs) | Q(public_id__in=refs))
        for key in (ticket.number, ticket.public_id)
    }
    missing = [ref for ref in refs if ref not in found]
    if missing:
        raise ValidationFailed.for_field(field, _("工单 %(ref)s 不存在") % {"ref": missing[0]})
    return list(dict.fromkeys(found[ref] for ref in refs))


# The kinds an agent links by hand. ``merged`` and ``split`` links record what a merge or split did;
# creating or removing one by hand would make the record say something that did not happen.
MANUAL_LINK_KINDS: dict[str, Promise] = {
    LinkKind.RELATED: gettext_lazy("相关"),
    LinkKind.FOLLOW_UP: gettext_lazy("本工单是它的后续工单"),
}
# How the other ticket relates to this one, by kind: (this ticket is the link's source, its target).
_LINK_LABELS: dict[str, tuple[Promise, Promise]] = {
    LinkKind.RELATED: (gettext_lazy("相关"), gettext_lazy("相关")),
    LinkKind.MERGED: (gettext_lazy("已合并到"), gettext_lazy("合并自")),
    LinkKind.SPLIT: (gettext_lazy("拆分自"), gettext_lazy("拆分为")),
    LinkKind.FOLLOW_UP: (gettext_lazy("原工单"), gettext_lazy("后续工单")),
}


@dataclass(frozen=True)
class LinkedTicket:
    other: Ticket
    kind: str
    label: str
    removable: bool


def ticket_links(user: Any, ticket: Ticket) -> list[LinkedTicket]:
    """The tickets linked to ``ticket`` in either direction that ``user`` may see, oldest link first
    (a link to a ticket of another team is left out: its subject is not the user's to read). One query
    for the links, and when there are any, one for those of the other tickets the user may see — by
    their ids, so the access scope tests a handful of rows; most tickets have no links, and compiling
    the scope into an ``EXISTS`` per direction cost more than the lookup (docs/performance.md)."""
    links = list(TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket)).order_by("created_at", "pk"))
    if not links:
        return []
    other_ids = {link.target_id if link.source_id == ticket.pk else link.source_id for link in links}
    shown = {
        other.pk: other for other in visible_tickets(user).filter(pk__in=other_ids).select_related("status")
    }
    rows = []
    for link in links:
        outgoing = link.source_id == ticket.pk
        other = shown.get(link.target_id if outgoing else link.source_id)
        if other is None:
            continue
        labels = _LINK_LABELS.get(link.kind, (link.kind, link.kind))
        rows.append(
            LinkedTicket(
                other=other,
                kind=link.kind,
                label=str(labels[0] if outgoing else labels[1]),
                removable=link.kind in MANUAL_LINK_KINDS,
            )
        )
    return rows


# --- bulk actions ---------------------------------------------------------------------------------

BULK_ACTIONS = ("assign", "status", "priority", "tag", "merge")


@dataclass(frozen=True)
class BulkResult:
    number: str
    ok: bool
    message: str = ""


def bulk_apply(*, actor: User, numbers: Sequence[str], action: str, value: str) -> list[BulkResult]:
    """Apply one action to each ticket through the ordinary services, each in its own transaction, so
    one refusal (no access, a forbidden transition) does not stop the others."""
    require_agent_write(actor)
    if action not in BULK_ACTIONS:
        raise ValidationFailed.for_field("action", _("请选择批量操作"))
    target: Any = None
    if action == "assign":
        target = assignable_users().filter(pk=int(value)).first() if value.isdigit() else None
        if target is None and value != "none":
            raise ValidationFailed.for_field("value", _("请选择处理人"))
    elif action == "status":
        target = Status.objects.filter(code=value).first()
        if target is None:
            raise ValidationFailed.for_field("value", _("请选择状态"))
    elif action == "priority" and value not in Priority.values:
        raise ValidationFailed.for_field("value", _("请选择优先级"))
    elif action == "tag" and not value.strip():
        raise ValidationFailed.for_field("value", _("请填写标签"))
    elif action == "merge":
        target = other_ticket(actor, value, field="value")
        # Selecting the survivor together with its duplicates is the natural way to pick them.
        others = [n for n in numbers if n != target.number]
        if numbers and not others:
            raise ValidationFailed.for_field(
                "tickets", _("请勾选要合并到 %(number)s 的其他工单") % {"number": target.number}
            )
        numbers = others
    results: list[BulkResult] = []
    for number in dict.fromkeys(numbers):
        try:
            ticket = access_ticket(actor, number)
            if action == "merge":
                ticket_merge(actor=actor, source=ticket, target=target)
            elif action == "assign":
                ticket_assign(actor=actor, ticket=ticket, assignee=target)
            elif action == "status":
                ticket_transition(actor=actor, ticket=ticket, status=target)
            elif action == "priority":
                ticket_update(actor=actor, ticket=ticket, version=None, changes={"priority": value})
            else:
                ticket_update(actor=actor, ticket=ticket, version=None, changes={}, add_tags=[value.strip()])
        except KefuError as exc:
            results.append(BulkResult(number, ok=False, message=exc.message))
        else:
            results.append(BulkResult(number, ok=True))
    return results


# --- creating with attachments --------------------------------------------------------------------


@transaction.atomic
def ticket_create_with_attachments(
    *,
    actor: Any,
    data: TicketData,
    attachments: Sequence[Any] = (),
    author_kind: str = "agent",
) -> Ticket:
    """A new ticket and, when files come with it, a first public message carrying them — all or nothing
    (a refused attachment leaves no ticket behind)."""
    ticket = ticket_create(actor=actor, data=data, author_kind=author_kind)
    if attachments:
        message_add(
            actor=actor,
            ticket=ticket,
            body=data.description or data.subject,
            visibility="public",
            author_kind=author_kind,
            contact=data.contact,
            attachments=attachments,
        )
    return ticket
