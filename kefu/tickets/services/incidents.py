"""A problem's incidents: linking them by hand, by waybill or in bulk, and automatically by the problem's
incident rule when a ticket is created (:func:`incident_autolink`, a subscriber of ``TicketCreated``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import audit, reference
from kefu.core.actors import automation_rule
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.models import AuditAction
from kefu.tickets.access import visible_tickets
from kefu.tickets.enums import ACTIVE_CATEGORIES, StatusCategory
from kefu.tickets.events import TicketCreated
from kefu.tickets.models import Category, IncidentRule, Ticket
from kefu.tickets.services.common import lock, lock_many, touch, user_of
from kefu.tickets.waybills import waybills_clean

# The custom field (seeded on delay, damage and loss tickets) that automatic linking matches route nodes in.
ROUTE_FIELD = "exception_node"


MAX_RULE_WAYBILLS = 1000


MAX_RULE_NODES = 50


def require_problem_manager(actor: Any) -> None:
    if not isinstance(actor, User) or not actor.has_perm("tickets.manage_problem"):
        raise PermissionDenied(_("没有管理问题工单的权限"))


def lock_problem(problem: Ticket) -> Ticket:
    locked = lock(problem)
    if not locked.is_problem:
        raise ValidationFailed.for_field(
            "problem", _("工单 %(number)s 不是问题工单") % {"number": locked.number}
        )
    return locked


@transaction.atomic
def incident_link(*, actor: Any, problem: Ticket, incidents: Iterable[Ticket]) -> list[Ticket]:
    """Link tickets (picked by hand, or a queryset from a bulk filter) to ``problem`` as its incidents
    and return the newly linked ones. Tickets already linked to this problem are skipped; anything
    invalid refuses the whole batch — a ticket the actor may not see as if it did not exist."""
    require_problem_manager(actor)
    wanted = list(incidents)
    seen = set(visible_tickets(actor).filter(pk__in=[t.pk for t in wanted]).values_list("pk", flat=True))
    hidden = [t for t in wanted if t.pk not in seen]
    if hidden:
        raise ValidationFailed.for_field("incidents", _("工单 %(ref)s 不存在") % {"ref": hidden[0].number})
    return link_incidents(actor=actor, problem=problem, incidents=wanted)


def link_incidents(*, actor: Any, problem: Ticket, incidents: Iterable[Ticket]) -> list[Ticket]:
    """``incident_link`` without the permission check: also the path of automatic linking (actor None,
    the system), so both write the same audit events. Precondition: inside a transaction."""
    wanted = list(incidents)
    if any(t.pk == problem.pk for t in wanted):
        raise ValidationFailed.for_field("incidents", _("问题工单不能关联自己"))
    locked_problem = lock_problem(problem)
    locked = lock_many(wanted)
    errors: list[str] = []
    for ticket in locked.values():
        if ticket.is_problem:
            errors.append(_("%(number)s 是问题工单，不能作为事件") % {"number": ticket.number})
        elif ticket.problem_id not in (None, locked_problem.pk):
            errors.append(_("%(number)s 已属于其他问题工单") % {"number": ticket.number})
        elif ticket.merged_into_id is not None:
            errors.append(_("%(number)s 已合并到其他工单") % {"number": ticket.number})
    if errors:
        raise ValidationFailed(errors[0], fields={"incidents": errors})
    linked = []
    for ticket in locked.values():
        if ticket.problem_id == locked_problem.pk:
            continue
        ticket.problem = locked_problem
        touch(ticket, ["problem"])
        audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=ticket,
            changes={"problem": [None, str(locked_problem)]},
        )
        linked.append(ticket)
    if linked:
        touch(locked_problem, [])
        audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=locked_problem,
            changes={"incidents": [None, [t.number for t in linked]]},
        )
    return linked


@transaction.atomic
def incidents_link_by_waybill(*, actor: Any, problem: Ticket, waybill_nos: Sequence[str]) -> list[Ticket]:
    """Bulk-link the not-yet-linked, unclosed tickets about any of ``waybill_nos`` that the actor may see
    (another team's ticket about the same waybill is not reached)."""
    numbers = waybills_clean(waybill_nos)
    if not numbers:
        raise ValidationFailed.for_field("waybills", _("请至少填写一个运单号"))
    candidates = (
        visible_tickets(actor)
        .filter(waybills__waybill_no__in=numbers, problem=None, is_problem=False, merged_into=None)
        .exclude(pk=problem.pk)
        .exclude(status_category=StatusCategory.CLOSED)
        .distinct()
    )
    return incident_link(actor=actor, problem=problem, incidents=candidates)


def rule_summary(rule: IncidentRule) -> str:
    """The rule in one line, as the audit trail and the ticket page show it."""
    parts = []
    if rule.waybills:
        parts.append(_("运单号：%(values)s") % {"values": _("、").join(rule.waybills)})
    if rule.route_nodes:
        parts.append(_("路由节点：%(values)s") % {"values": _("、").join(rule.route_nodes)})
    names = [c.name for c in rule.categories.all()]
    if names:
        parts.append(_("分类：%(values)s") % {"values": _("、").join(names)})
    if rule.ends_at:
        parts.append(_("截止：%(at)s") % {"at": timezone.localtime(rule.ends_at).strftime("%Y-%m-%d %H:%M")})
    return _("；").join(parts)


def _clean_nodes(route_nodes: Iterable[str], errors: dict[str, list[str]]) -> list[str]:
    nodes = list(dict.fromkeys(n.strip() for n in route_nodes if n and n.strip()))
    too_long = [n for n in nodes if len(n) > 64]
    if too_long:
        errors["route_nodes"] = [_("路由节点不能超过 64 字：%(node)s") % {"node": too_long[0][:70]}]
    elif len(nodes) > MAX_RULE_NODES:
        errors["route_nodes"] = [_("路由节点最多 %(max)s 个") % {"max": MAX_RULE_NODES}]
    return nodes


@transaction.atomic
def incident_rule_set(
    *,
    actor: Any,
    problem: Ticket,
    waybills: Sequence[str] = (),
    route_nodes: Sequence[str] = (),
    categories: Sequence[Category] = (),
    ends_at: dt.datetime | None = None,
) -> IncidentRule:
    """Set (create or replace) the rule that links tickets created from now on to ``problem``. The rule
    acts for ``actor`` from now on (``IncidentRule.set_by``): it links only tickets they may see.

    A new ticket matches when it is about one of ``waybills`` or its exception node contains one of
    ``route_nodes`` (at least one of the two must be given), and — if ``categories`` is not empty — it is
    in one of them. The rule holds while the problem is new, open or pending and until ``ends_at``.
    Tickets created before are not touched: link those by waybill or in bulk."""
    require_problem_manager(actor)
    errors: dict[str, list[str]] = {}
    numbers: list[str] = []
    try:
        numbers = waybills_clean(waybills)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if len(numbers) > MAX_RULE_WAYBILLS:
        errors["waybills"] = [_("运单号最多 %(max)s 个") % {"max": MAX_RULE_WAYBILLS}]
    nodes = _clean_nodes(route_nodes, errors)
    if not numbers and not nodes and not errors:
        message = _("请至少填写一个运单号或路由节点")
        errors["waybills"] = [message]
        errors["route_nodes"] = [message]
    now = timezone.now()
    if ends_at is not None and (timezone.is_naive(ends_at) or ends_at <= now):
        errors["ends_at"] = [_("截止时间必须晚于现在")]
    locked = lock_problem(problem)
    if locked.status_category not in ACTIVE_CATEGORIES or locked.merged_into_id is not None:
        errors["problem"] = [_("问题工单已解决或关闭，不能设置自动关联规则")]
    if errors:
        raise ValidationFailed(_("自动关联规则有误"), fields=errors)
    rule = IncidentRule.objects.filter(problem=locked).first()
    before = rule_summary(rule) if rule is not None else None
    if rule is None:
        rule = IncidentRule(problem=locked)
    rule.waybills, rule.route_nodes, rule.updated_at = numbers, nodes, now
    rule.set_by = user_of(actor)
    rule.ends_at = ends_at.astimezone(dt.UTC) if ends_at is not None else None  # as read back
    rule.save()
    rule.categories.set(categories)
    after = rule_summary(rule)
    if after != before:
        touch(locked, [])
        audit.record(
            actor=actor, action=AuditAction.UPDATE, obj=locked, changes={"incident_rule": [before, after]}
        )
    return rule


@transaction.atomic
def incident_rule_clear(*, actor: Any, problem: Ticket) -> None:
    """Stop linking new tickets to ``problem`` automatically (no rule: nothing to do)."""
    require_problem_manager(actor)
    locked = lock_problem(problem)
    rule = IncidentRule.objects.filter(problem=locked).first()
    if rule is None:
        return
    before = rule_summary(rule)
    rule.delete()
    touch(locked, [])
    audit.record(
        actor=actor, action=AuditAction.UPDATE, obj=locked, changes={"incident_rule": [before, None]}
    )


@dataclass(frozen=True)
class _Rule:
    """An incident rule as the hot path reads it (cached between requests: kefu.core.reference)."""

    problem_id: int
    set_by_id: int | None  # the rule links only tickets this user may see
    waybills: frozenset[str]
    route_nodes: tuple[str, ...]  # case-folded
    categories: frozenset[int]  # empty: any
    ends_at: dt.datetime | None

    def matches(self, *, category_id: int | None, waybills: set[str], node: str, written: str) -> bool:
        """In force for the ticket's category and, before its end, a shared waybill; or a route node
        (a hub or city) named in the exception-node field or written in the subject or description
        (``郑州转运中心`` matches "包裹在郑州转运中心滞留三天", not "广州转运中心 … 郑州发出的货")."""
        if self.ends_at is not None and self.ends_at <= timezone.now():
            return False
        if self.categories and category_id not in self.categories:
            return False
        if waybills.intersection(self.waybills):
            return True
        return any((node and n in node) or n in written for n in self.route_nodes)


def _rules() -> list[_Rule]:
    return [
        _Rule(
            problem_id=rule.problem_id,
            set_by_id=rule.set_by_id,
            waybills=frozenset(rule.waybills),
            route_nodes=tuple(n.casefold() for n in rule.route_nodes),
            categories=frozenset(c.pk for c in rule.categories.all()),
            ends_at=rule.ends_at,
        )
        for rule in IncidentRule.objects.prefetch_related("categories").order_by("problem_id")
    ]


def incident_autolink(event: TicketCreated) -> None:
    """Link the ticket just created to the first open problem (oldest first) whose rule it matches and
    whose rule's author (``set_by``, still active) may see the ticket, through the same path (and audit
    events) as linking by hand, by the rule (an automation-rule actor naming the problem and the author).

    A subscriber of ``TicketCreated`` (``TicketsConfig.ready``), so it runs inside the creating
    transaction on every entry path. The rules are cached between requests (kefu.core.reference;
    saving or deleting a rule invalidates them), so a create reads none; a match reads its problem,
    which must still be an open problem, the rule's author and what they may see, and the ticket."""
    rules = reference.cached("incident-rules", _rules)
    if not rules:
        return
    node = str((event.custom_fields or {}).get(ROUTE_FIELD) or "").strip().casefold()
    written = f"{event.subject}\n{event.description}".casefold()
    wanted = set(event.waybills)
    for rule in rules:
        if not rule.matches(category_id=event.category_id, waybills=wanted, node=node, written=written):
            continue
        problem = Ticket.objects.filter(
            pk=rule.problem_id, is_problem=True, status_category__in=ACTIVE_CATEGORIES, merged_into=None
        ).first()
        author = _rule_author_reaching(rule, event.ticket_id) if problem is not None else None
        if problem is not None and author is not None:
            rule_actor = automation_rule(
                f"incident rule {problem.number} · {author.get_full_name() or author}"
            )
            link_incidents(
                actor=rule_actor, problem=problem, incidents=Ticket.objects.filter(pk=event.ticket_id)
            )
            return


def _rule_author_reaching(rule: _Rule, ticket_id: int) -> User | None:
    """The rule's author, when still active and allowed to see the ticket (the rule acts in their scope)."""
    if rule.set_by_id is None:
        return None
    author = User.objects.filter(pk=rule.set_by_id, is_active=True).first()
    return author if author is not None and visible_tickets(author).filter(pk=ticket_id).exists() else None
