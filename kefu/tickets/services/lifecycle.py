"""Status changes: :func:`status_change` applies one and audits it, :func:`reopen` brings a resolved or
closed ticket back to open; ticket_transition, ticket_resolve and ticket_close are the agent's moves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import audit
from kefu.core.errors import ValidationFailed
from kefu.core.events import publish
from kefu.core.models import AuditAction
from kefu.tickets import workflow
from kefu.tickets.enums import CloseReason, StatusCategory
from kefu.tickets.events import StatusChanged, about
from kefu.tickets.models import Status, Ticket
from kefu.tickets.services.common import default_status, lock, touch, versioned
from kefu.tickets.services.conflicts import check_version


def status_change(
    *,
    actor: Any,
    ticket: Ticket,
    status: Status,
    extra: Mapping[str, Any] | None = None,
    save_also: Sequence[str] = (),
) -> Ticket:
    """Precondition: ``ticket`` is row-locked. Apply an allowed status change, audit it and publish it
    (``StatusChanged``); ``save_also`` names fields the caller already set on ``ticket`` that are saved
    with it (one version bump) but are not part of the status change's audit event."""
    fields = ["status", "status_category", *(extra or {})]
    before = audit.snapshot(ticket, fields)
    old_status_id, old_category = ticket.status_id, ticket.status_category
    ticket.status = status
    ticket.status_category = status.category
    for name, value in (extra or {}).items():
        setattr(ticket, name, value)
    touch(ticket, list(dict.fromkeys([*fields, *save_also])))
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=ticket,
        changes=versioned(audit.diff(before, ticket), ticket),
    )
    publish(
        StatusChanged(
            **about(ticket, actor),
            old_status_id=old_status_id,
            new_status_id=status.pk,
            old_category=old_category,
            new_category=status.category,
        )
    )
    return ticket


def reopen(*, actor: Any, ticket: Ticket, save_also: Sequence[str] = ()) -> Ticket:
    """Precondition: ``ticket`` is row-locked, resolved or closed. Back to open through the workflow:
    the resolution and the close (summary, satisfaction, reason, note) no longer hold, so they are
    cleared — the audit event keeps their old values."""
    workflow.check_transition(ticket.status_category, StatusCategory.OPEN)
    return status_change(
        actor=actor,
        ticket=ticket,
        status=default_status(StatusCategory.OPEN),
        extra={
            "reopened_count": ticket.reopened_count + 1,
            "resolved_at": None,
            "closed_at": None,
            "solution_summary": "",
            "satisfaction_confirmed": None,
            "close_reason": "",
            "close_note": "",
        },
        save_also=save_also,
    )


@transaction.atomic
def ticket_transition(*, actor: Any, ticket: Ticket, status: Status, version: int | None = None) -> Ticket:
    """Move to an open, pending or new status. Resolving, closing and reopening have their own services
    because they need more than a status (a summary, a confirmation, the reopen window)."""
    locked = lock(ticket)
    check_version(locked, version, fields=("status",), actor=actor)
    if status.category in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
        raise ValidationFailed.for_field("status", _("请使用“解决”或“关闭”操作"))
    if locked.status_category in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
        raise ValidationFailed.for_field("status", _("请使用“重新打开”操作"))
    workflow.check_transition(locked.status_category, status.category)
    return status_change(actor=actor, ticket=locked, status=status)


@transaction.atomic
def ticket_resolve(
    *, actor: Any, ticket: Ticket, solution_summary: str, version: int | None = None
) -> Ticket:
    locked = lock(ticket)
    check_version(locked, version, fields=("status", "solution_summary"), actor=actor)
    summary = solution_summary.strip()
    if not summary:
        raise ValidationFailed.for_field("solution_summary", _("解决工单需要填写解决方案摘要"))
    workflow.check_transition(locked.status_category, StatusCategory.RESOLVED)
    open_mandatory = locked.subtasks.filter(mandatory=True).exclude(status__in=("done", "cancelled"))
    if open_mandatory.exists():
        titles = _("、").join(open_mandatory.values_list("title", flat=True))
        raise ValidationFailed.for_field(
            "subtasks", _("还有必须完成的协作单未完成：%(titles)s") % {"titles": titles}
        )
    return status_change(
        actor=actor,
        ticket=locked,
        status=default_status(StatusCategory.RESOLVED),
        extra={"solution_summary": summary, "resolved_at": timezone.now()},
    )


@transaction.atomic
def ticket_close(
    *,
    actor: Any,
    ticket: Ticket,
    satisfaction_confirmed: bool,
    reason: str = CloseReason.CONFIRMED,
    note: str = "",
    version: int | None = None,
) -> Ticket:
    """Close a resolved ticket: the customer confirmed satisfaction, or the reason why not
    (e.g. unreachable after N attempts, with the attempts in ``note``)."""
    locked = lock(ticket)
    check_version(locked, version, fields=("status",), actor=actor)
    workflow.check_transition(locked.status_category, StatusCategory.CLOSED)
    if not satisfaction_confirmed and (reason == CloseReason.CONFIRMED or reason not in CloseReason.values):
        raise ValidationFailed.for_field("reason", _("客户未确认满意时需要说明原因"))
    if not satisfaction_confirmed and not note.strip():
        raise ValidationFailed.for_field("note", _("请记录未确认满意的情况（例如联系了几次）"))
    return status_change(
        actor=actor,
        ticket=locked,
        status=default_status(StatusCategory.CLOSED),
        extra={
            "satisfaction_confirmed": satisfaction_confirmed,
            "close_reason": CloseReason.CONFIRMED if satisfaction_confirmed else reason,
            "close_note": note.strip()[:255],
            "closed_at": timezone.now(),
        },
    )
