"""Status changes. :func:`status_change` is the one place a ticket's status changes once the ticket
exists: every path — the agent's moves below, reopening, a customer's message, a merge closing its
duplicate, a problem resolving its incidents, an assignment opening a new ticket — calls it, and it
checks the workflow, applies the move and writes its audit event. ``ticket_transition``,
``ticket_resolve`` and ``ticket_close`` are the agent's moves."""

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

# What a reopen clears: the resolution and the close no longer hold (the audit event keeps the old values).
REOPEN_CLEARS: dict[str, Any] = {
    "resolved_at": None,
    "closed_at": None,
    "solution_summary": "",
    "satisfaction_confirmed": None,
    "close_reason": "",
    "close_note": "",
}


def status_change_errors(*, ticket: Ticket, to: Status, duplicate: bool = False) -> list[str]:
    """Why ``ticket`` may not move to ``to`` (empty: it may), by the workflow's table
    (``workflow.TRANSITIONS``; ``duplicate``: closed by a merge into its survivor). The refusal names
    the ticket's status and the one asked for, as the desk calls them."""
    if workflow.allows(ticket.status_category, to.category, duplicate=duplicate):
        return []
    return [_("不能从“%(current)s”变为“%(target)s”") % {"current": ticket.status, "target": to}]


def status_change_check(*, ticket: Ticket, to: Status, duplicate: bool = False) -> None:
    """Raise what :func:`status_change_errors` finds (field ``status``). :func:`status_change` asks it
    itself; a service that validates more (a summary, a reason) or writes before the move (a message,
    a merge) asks it first, so the workflow's answer comes first and a refusal writes nothing."""
    errors = status_change_errors(ticket=ticket, to=to, duplicate=duplicate)
    if errors:
        raise ValidationFailed.for_field("status", errors[0])


def status_change(
    *,
    actor: Any,
    ticket: Ticket,
    to: Status,
    changes: Mapping[str, Any] | None = None,
    save_also: Sequence[str] = (),
    duplicate: bool = False,
) -> Ticket:
    """Move ``ticket`` to the status ``to`` for ``actor``. Precondition: ``ticket`` is row-locked,
    inside the caller's transaction.

    Refused (ValidationFailed on ``status``, before anything is written) unless the workflow allows it
    (:func:`status_change_check`). Leaving resolved or closed for an active status is a reopen: the
    reopen count goes up and :data:`REOPEN_CLEARS` is applied. ``changes`` are the fields that belong
    to the move (a solution summary, a close reason); ``save_also`` names fields the caller already set
    on ``ticket`` for its own reasons, saved with the same version bump but not part of this event.
    One audit event by ``actor`` says what changed: ``status`` and ``status_category`` as
    ``[from, to]``, the fields of ``changes`` and of a reopen, and the version it made; the domain
    event ``StatusChanged`` tells the subscribers the same move (old and new status and category)."""
    status_change_check(ticket=ticket, to=to, duplicate=duplicate)
    moved = dict(changes or {})
    if workflow.is_reopen(ticket.status_category, to.category):
        moved = {"reopened_count": ticket.reopened_count + 1, **REOPEN_CLEARS, **moved}
    fields = ["status", "status_category", *moved]
    before = audit.snapshot(ticket, fields)
    old_status_id, old_category = ticket.status_id, ticket.status_category
    ticket.status = to
    ticket.status_category = to.category
    for name, value in moved.items():
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
            new_status_id=to.pk,
            old_category=old_category,
            new_category=to.category,
        )
    )
    return ticket


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
    return status_change(actor=actor, ticket=locked, to=status)


@transaction.atomic
def ticket_resolve(
    *, actor: Any, ticket: Ticket, solution_summary: str, version: int | None = None
) -> Ticket:
    locked = lock(ticket)
    check_version(locked, version, fields=("status", "solution_summary"), actor=actor)
    summary = solution_summary.strip()
    if not summary:
        raise ValidationFailed.for_field("solution_summary", _("解决工单需要填写解决方案摘要"))
    resolved = default_status(StatusCategory.RESOLVED)
    status_change_check(ticket=locked, to=resolved)
    open_mandatory = locked.subtasks.filter(mandatory=True).exclude(status__in=("done", "cancelled"))
    if open_mandatory.exists():
        titles = _("、").join(open_mandatory.values_list("title", flat=True))
        raise ValidationFailed.for_field(
            "subtasks", _("还有必须完成的协作单未完成：%(titles)s") % {"titles": titles}
        )
    return status_change(
        actor=actor,
        ticket=locked,
        to=resolved,
        changes={"solution_summary": summary, "resolved_at": timezone.now()},
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
    closed = default_status(StatusCategory.CLOSED)
    status_change_check(ticket=locked, to=closed)
    if not satisfaction_confirmed and (reason == CloseReason.CONFIRMED or reason not in CloseReason.values):
        raise ValidationFailed.for_field("reason", _("客户未确认满意时需要说明原因"))
    if not satisfaction_confirmed and not note.strip():
        raise ValidationFailed.for_field("note", _("请记录未确认满意的情况（例如联系了几次）"))
    return status_change(
        actor=actor,
        ticket=locked,
        to=closed,
        changes={
            "satisfaction_confirmed": satisfaction_confirmed,
            "close_reason": CloseReason.CONFIRMED if satisfaction_confirmed else reason,
            "close_note": note.strip()[:255],
            "closed_at": timezone.now(),
        },
    )
