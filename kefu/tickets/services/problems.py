"""Problem tickets (总工单): marking a ticket as the problem of an outage, one update to every open
incident, resolving the problem with its incidents, and what the ticket page shows of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from kefu.core import audit
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditAction, AuditEvent
from kefu.tickets import text
from kefu.tickets.access import visible_tickets
from kefu.tickets.enums import SUBTASK_CLOSED, StatusCategory, Visibility
from kefu.tickets.models import IncidentRule, Message, Ticket
from kefu.tickets.services.common import lock, touch
from kefu.tickets.services.incidents import lock_problem, require_problem_manager, rule_summary
from kefu.tickets.services.lifecycle import ticket_resolve
from kefu.tickets.services.messages import message_add

DONE_OR_CLOSED = (StatusCategory.RESOLVED, StatusCategory.CLOSED)


@transaction.atomic
def problem_mark(*, actor: Any, ticket: Ticket) -> Ticket:
    """Make ``ticket`` the problem ticket (总工单) of an outage, so incidents can be linked to it."""
    require_problem_manager(actor)
    locked = lock(ticket)
    if locked.is_problem:
        return locked
    if locked.problem_id is not None:
        raise ValidationFailed.for_field("ticket", _("该工单已是其他问题工单的事件，不能再设为问题工单"))
    if locked.merged_into_id is not None or locked.status_category == StatusCategory.CLOSED:
        raise ValidationFailed.for_field("ticket", _("已关闭的工单不能设为问题工单"))
    locked.is_problem = True
    touch(locked, ["is_problem"])
    audit.record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes={"is_problem": [False, True]})
    return locked


def _open_incidents(problem: Ticket, actor: Any) -> list[Ticket]:
    """The problem's unresolved incidents that ``actor`` may see: an update or a resolution reaches
    no ticket its author could not open (another team's incident stays as it is)."""
    return list(
        visible_tickets(actor)
        .filter(problem=problem)
        .exclude(status_category__in=DONE_OR_CLOSED)
        .order_by("pk")
    )


@transaction.atomic
def problem_post_update(*, actor: Any, problem: Ticket, body: str, update_id: str) -> list[Message]:
    """Post ``body`` as one public reply, authored by ``actor``, on every open incident of ``problem``
    that ``actor`` may see, and return the new messages. ``update_id`` (e.g. the form's idempotency key) makes a retry a no-op:
    the problem's audit trail records each update id it has posted."""
    require_problem_manager(actor)
    update_id = update_id.strip()
    if not update_id or len(update_id) > 64:
        raise ValidationFailed.for_field("update_id", _("缺少更新编号"))
    if not text.to_text(text.sanitize(body.strip())):
        raise ValidationFailed.for_field("body", _("内容不能为空"))
    locked = lock_problem(problem)
    already = AuditEvent.objects.filter(
        content_type__app_label="tickets",
        content_type__model="ticket",
        object_id=str(locked.pk),
        changes__problem_update__1=update_id,
    ).exists()
    if already:
        return []
    messages = [
        message_add(actor=actor, ticket=incident, body=body, visibility=Visibility.PUBLIC)
        for incident in _open_incidents(locked, actor)
    ]
    touch(locked, [])
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        changes={"problem_update": [None, update_id], "incidents_notified": [None, len(messages)]},
    )
    return messages


@dataclass
class ProblemResolution:
    problem: Ticket
    resolved: list[Ticket] = field(default_factory=list)
    # Incidents left open because a mandatory subtask of theirs is still open.
    skipped: list[Ticket] = field(default_factory=list)


@transaction.atomic
def problem_resolve(
    *, actor: Any, problem: Ticket, solution_summary: str, resolve_incidents: bool = True
) -> ProblemResolution:
    """Resolve the problem and, with ``resolve_incidents``, each open incident the actor may see with the
    same summary. Incidents with an open mandatory subtask are skipped and reported in ``skipped``."""
    require_problem_manager(actor)
    lock_problem(problem)
    resolved_problem = ticket_resolve(actor=actor, ticket=problem, solution_summary=solution_summary)
    result = ProblemResolution(problem=resolved_problem)
    if not resolve_incidents:
        return result
    for incident in _open_incidents(resolved_problem, actor):
        blocked = incident.subtasks.filter(mandatory=True).exclude(status__in=SUBTASK_CLOSED).exists()
        if blocked:
            result.skipped.append(incident)
            continue
        result.resolved.append(
            ticket_resolve(actor=actor, ticket=incident, solution_summary=solution_summary)
        )
    return result


@dataclass(frozen=True)
class ProblemOverview:
    total: int
    open: int
    incidents: list[Ticket]  # the most recently updated ones, for the ticket page
    rule: IncidentRule | None
    rule_summary: str


def problem_overview(problem: Ticket, *, user: Any, limit: int = 50) -> ProblemOverview:
    """What the ticket page shows of a problem to ``user``: the counts and latest of the incidents
    ``user`` may see, the rule."""
    incidents = visible_tickets(user).filter(problem=problem)
    counts = incidents.aggregate(
        total=Count("id"), open=Count("id", filter=~Q(status_category__in=DONE_OR_CLOSED))
    )
    latest = list(incidents.select_related("status", "customer").order_by("-updated_at", "-id")[:limit])
    rule = IncidentRule.objects.filter(problem=problem).prefetch_related("categories").first()
    return ProblemOverview(
        total=counts["total"],
        open=counts["open"],
        incidents=latest,
        rule=rule,
        rule_summary=rule_summary(rule) if rule is not None else "",
    )
