"""Editing a ticket's fields, tags and waybills (optimistic locking per field), and assigning it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.core import audit
from kefu.core.errors import ValidationFailed
from kefu.core.events import publish
from kefu.core.models import AuditAction
from kefu.tickets import text
from kefu.tickets.enums import Priority, StatusCategory, TicketType, Visibility
from kefu.tickets.events import TicketAssigned, TicketClassified, about
from kefu.tickets.models import Ticket, TicketWaybill
from kefu.tickets.services.common import check_choice, default_status, lock, touch, versioned
from kefu.tickets.services.conflicts import check_version
from kefu.tickets.services.lifecycle import status_change
from kefu.tickets.services.rules import handling_errors, validate_custom_fields
from kefu.tickets.services.tags import set_tags
from kefu.tickets.waybills import waybills_clean

EDITABLE = (
    "subject",
    "description",
    "type",
    "category",
    "priority",
    "team",
    "assignee",
    "custom_fields",
    "contact",
)
# The changes published as TicketClassified. A ticket's customer is set when it is created and no
# service changes it (not in EDITABLE): when one does, it publishes the change here too.
CLASSIFYING = ("priority", "type", "category_id")


def _reindex(ticket: Ticket) -> None:
    """Rebuild ``search_text`` from the ticket's fields, waybills and messages (``message_add`` appends a
    message's tokens; a rebuild must keep them, or an edit would make the conversation unsearchable),
    and ``internal_search_text``: the tokens only internal notes hold, which portal searches leave out."""
    waybills = " ".join(ticket.waybills.values_list("waybill_no", flat=True))
    public: list[str] = []
    internal: list[str] = []
    if ticket.pk:
        for body, visibility in ticket.messages.values_list("body_text", "visibility"):
            (public if visibility == Visibility.PUBLIC else internal).append(body)
    public_tokens = text.tokens(ticket.number, ticket.subject, ticket.description, waybills, *public)
    internal_tokens = text.tokens(*internal)
    ticket.search_text = text.merged(public_tokens, internal_tokens)
    ticket.internal_search_text = text.without(internal_tokens, public_tokens)


@transaction.atomic
def ticket_update(
    *,
    actor: Any,
    ticket: Ticket,
    version: int | None,
    changes: Mapping[str, Any],
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
    waybills: Sequence[str] | None = None,
) -> Ticket:
    """Change editable fields. ``version`` is the version the user edited (None: don't check — bulk
    actions and integrations that want last-writer-wins on the fields they name)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(
            _("不支持修改的字段"), fields={n: [_("不允许修改此字段")] for n in sorted(unknown)}
        )
    locked = lock(ticket)
    if locked.status_category == StatusCategory.CLOSED:
        raise ValidationFailed.for_field("status", _("工单已关闭，请先重新打开"))
    errors: dict[str, list[str]] = {}
    if "subject" in changes and not str(changes["subject"] or "").strip():
        errors["subject"] = [_("主题不能为空")]
    elif "subject" in changes and len(str(changes["subject"]).strip()) > 200:
        errors["subject"] = [_("主题不能超过 200 字")]
    team = changes.get("team", locked.team)
    errors.update(
        handling_errors(
            actor=actor,
            team=team,
            team_chosen="team" in changes and team != locked.team,
            assignee=changes.get("assignee") if changes.get("assignee") != locked.assignee else None,
        )
    )
    contact = changes.get("contact")
    if contact is not None and locked.customer_id is not None and contact.customer_id != locked.customer_id:
        errors["contact"] = [_("联系人不属于该客户")]
    if "type" in changes:
        check_choice(changes["type"], TicketType, "type", errors)
    if "priority" in changes:
        check_choice(changes["priority"], Priority, "priority", errors)
    category = changes.get("category", locked.category)
    custom = changes.get("custom_fields", locked.custom_fields)
    if "category" in changes or "custom_fields" in changes:
        try:
            custom = validate_custom_fields(category, custom)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("工单信息有误"), fields=errors)
    before = audit.snapshot(locked, EDITABLE)
    handled_before = (locked.assignee_id, locked.team_id)
    classes_before = {name: getattr(locked, name) for name in CLASSIFYING}
    for name, value in changes.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    locked.custom_fields = custom
    diff = audit.diff(before, locked)
    wanted: list[str] = []
    current: list[str] = []
    if waybills is not None:
        wanted = waybills_clean(waybills)
        current = sorted(locked.waybills.values_list("waybill_no", flat=True))
        if sorted(wanted) != current:
            diff["waybills"] = [current, sorted(wanted)]
    # Only what this edit changes can conflict; tags are added and removed, never overwritten.
    check_version(locked, version, fields=diff.keys(), actor=actor)
    added, removed = set_tags(locked, add=add_tags, remove=remove_tags)
    if added or removed:
        diff["tags"] = [removed, added]
    if "waybills" in diff:
        locked.waybills.exclude(waybill_no__in=wanted).delete()
        TicketWaybill.objects.bulk_create(
            [TicketWaybill(ticket=locked, waybill_no=w) for w in wanted if w not in current]
        )
    if diff:
        _reindex(locked)
        touch(locked, [*EDITABLE, "search_text", "internal_search_text"])
        audit.record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes=versioned(diff, locked))
        _publish_changes(actor, locked, handled_before, classes_before)
    return locked


def _publish_changes(
    actor: Any, ticket: Ticket, handled_before: tuple[int | None, int | None], classes_before: dict[str, Any]
) -> None:
    if (ticket.assignee_id, ticket.team_id) != handled_before:
        publish(
            TicketAssigned(
                **about(ticket, actor),
                version=ticket.version,
                old_assignee_id=handled_before[0],
                assignee_id=ticket.assignee_id,
                old_team_id=handled_before[1],
                team_id=ticket.team_id,
            )
        )
    classified = {
        name.removesuffix("_id"): [old, getattr(ticket, name)]
        for name, old in classes_before.items()
        if getattr(ticket, name) != old
    }
    if classified:
        publish(TicketClassified(**about(ticket, actor), changes=classified))


@transaction.atomic
def ticket_assign(
    *, actor: Any, ticket: Ticket, assignee: User | None, team: Team | None = None, version: int | None = None
) -> Ticket:
    """Give the ticket to ``assignee`` (and ``team``), as :func:`assignable_users` and
    :func:`movable_teams` allow ``actor``; a new ticket becomes open."""
    changes: dict[str, Any] = {"assignee": assignee}
    if team is not None:
        changes["team"] = team
    updated = ticket_update(actor=actor, ticket=ticket, version=version, changes=changes)
    if assignee is not None and updated.status_category == StatusCategory.NEW:
        updated = status_change(actor=actor, ticket=updated, to=default_status(StatusCategory.OPEN))
    return updated
