"""Reopening a ticket (by an agent, within the reopen window, else a follow-up ticket) and the
customer's answer to a resolution (accept: closed; reject: reopened with their reason)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed
from kefu.tickets.enums import AuthorKind, StatusCategory, Visibility
from kefu.tickets.models import Ticket, TicketLink
from kefu.tickets.services.common import default_status, lock, user_of
from kefu.tickets.services.create import TicketData, ticket_create
from kefu.tickets.services.lifecycle import status_change, ticket_close
from kefu.tickets.services.messages import message_add


@transaction.atomic
def ticket_reopen(*, actor: Any, ticket: Ticket, reason: str) -> Ticket:
    """Reopen a resolved ticket, or a closed one within ``KEFU_REOPEN_WINDOW_DAYS``. After the window a
    new ticket is opened, linked to the old one, and returned instead."""
    locked = lock(ticket)
    if locked.status_category not in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
        raise ValidationFailed.for_field("status", _("只有已解决或已关闭的工单可以重新打开"))
    if locked.merged_into_id is not None:
        raise ValidationFailed.for_field("status", _("已合并的工单不能重新打开"))
    window = dt.timedelta(days=settings.KEFU_REOPEN_WINDOW_DAYS)
    if (
        locked.status_category == StatusCategory.CLOSED
        and locked.closed_at
        and timezone.now() - locked.closed_at > window
    ):
        follow_up = ticket_create(
            actor=actor,
            data=TicketData.continuing(
                locked,
                subject=locked.subject,
                description=reason or locked.description,
                category=locked.category,
                custom_fields=locked.custom_fields,
                assignee=locked.assignee if locked.assignee and locked.assignee.is_active else None,
                waybills=list(locked.waybills.values_list("waybill_no", flat=True)),
            ),
            origin=locked,
        )
        TicketLink.objects.create(
            source=follow_up, target=locked, kind="follow_up", created_by=user_of(actor)
        )
        return follow_up
    reopened = status_change(actor=actor, ticket=locked, to=default_status(StatusCategory.OPEN))
    if reason.strip():
        message_add(actor=actor, ticket=reopened, body=reason, visibility=Visibility.INTERNAL)
    return reopened


def _require_resolved(ticket: Ticket) -> None:
    if ticket.status_category != StatusCategory.RESOLVED:
        raise ValidationFailed.for_field("status", _("只有已解决的工单可以确认或拒绝"))


def resolution_accept(*, actor: Any, ticket: Ticket) -> Ticket:
    """The customer confirms a resolved ticket is solved: it closes, satisfied."""
    _require_resolved(ticket)
    return ticket_close(actor=actor, ticket=ticket, satisfaction_confirmed=True)


@transaction.atomic
def resolution_reject(*, actor: Any, ticket: Ticket, reason: str) -> Ticket:
    """The customer says a resolved ticket is not solved: it reopens, and their reason (required — the
    agent needs to know what is still wrong) is a public customer message, not the internal note
    ``ticket_reopen`` writes for staff reasons. Both or neither."""
    _require_resolved(ticket)
    if not reason.strip():
        raise ValidationFailed.for_field("reason", _("请说明问题还没有解决的原因"))
    reopened = ticket_reopen(actor=actor, ticket=ticket, reason="")
    message_add(
        actor=actor,
        ticket=reopened,
        body=reason,
        visibility=Visibility.PUBLIC,
        author_kind=AuthorKind.CUSTOMER,
        rejects_resolution=True,
    )
    reopened.refresh_from_db()
    return reopened
