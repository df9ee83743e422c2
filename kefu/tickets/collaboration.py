"""Working on tickets together: cross-department work orders (协作单), merging duplicates, splitting a
conversation, links between tickets, and problem tickets with their incidents.

Same rules as ``services``: keyword-only, one transaction each, validation before any write, an audit
event with the actor and old → new, and the ticket's ``version`` bumped (via ``services._touch``) so a
reply or edit composed against the old state is held with a Conflict.

Locking: every service row-locks the tickets it writes; when it writes several it locks them in pk
order (``_lock_many``) so two merges of the same pair can never deadlock.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.models import User
from kefu.core import audit, reference
from kefu.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kefu.core.models import AuditAction, AuditEvent
from kefu.core.notifications import notify, register_kind
from kefu.tickets import services, text
from kefu.tickets.access import visible_tickets
from kefu.tickets.enums import (
    ACTIVE_CATEGORIES,
    SUBTASK_CLOSED,
    AuthorKind,
    CloseReason,
    Department,
    LinkKind,
    StatusCategory,
    SubtaskStatus,
    Visibility,
)
from kefu.tickets.models import Category, IncidentRule, Message, Subtask, Ticket, TicketLink, TicketWaybill
from kefu.tickets.waybills import waybills_clean

# Departments whose hand-off must say whom to call at the carrier and show the tracking evidence.
CARRIER_DEPARTMENTS = frozenset({Department.TRANSPORT, Department.CARRIER})
SUBTASK_EDITABLE = (
    "department",
    "title",
    "deadline",
    "problem_description",
    "support_needed",
    "current_progress",
    "assignee",
    "external_party",
    "mandatory",
    "carrier_contact",
    "tracking_evidence",
)
DONE_OR_CLOSED = (StatusCategory.RESOLVED, StatusCategory.CLOSED)
# The custom field (seeded on delay, damage and loss tickets) that automatic linking matches route nodes in.
ROUTE_FIELD = "exception_node"
MAX_RULE_WAYBILLS = 1000
# Shown in the reader's language when the notification is read (kefu.core.notifications).
WORK_ORDER_NOTICE = gettext_lazy("协作单「%(title)s」已分配给你（工单 %(number)s）")
register_kind("work_order", WORK_ORDER_NOTICE)
MAX_RULE_NODES = 50


def _lock_many(tickets: Iterable[Ticket]) -> dict[int, Ticket]:
    """Row-lock ``tickets`` in pk order (deadlock-free) and return fresh copies by pk."""
    pks = sorted({t.pk for t in tickets})
    return {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=pks).order_by("pk")}


def _system_note(ticket: Ticket, body: str) -> Message:
    """An internal note written by the system. Precondition: ``ticket`` is row-locked; the caller bumps
    its version."""
    safe = text.sanitize(body)
    return Message.objects.create(
        ticket=ticket,
        author_kind=AuthorKind.SYSTEM,
        visibility=Visibility.INTERNAL,
        body_html=safe,
        body_text=text.to_text(safe),
    )


def _user(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None


# --- subtasks (协作单) ------------------------------------------------------------------------------


def _handoff_errors(values: Mapping[str, Any], *, check_deadline: bool) -> dict[str, list[str]]:
    """The standard hand-off template: what the other department needs to act without calling back."""
    errors: dict[str, list[str]] = {}
    if values["department"] not in Department.values:
        errors["department"] = [_("取值 %(value)r 无效") % {"value": values["department"]}]
    title = str(values["title"] or "").strip()
    if not title:
        errors["title"] = [_("标题不能为空")]
    elif len(title) > 200:
        errors["title"] = [_("标题不能超过 200 字")]
    if not str(values["problem_description"] or "").strip():
        errors["problem_description"] = [_("请描述问题")]
    if not str(values["support_needed"] or "").strip():
        errors["support_needed"] = [_("请说明需要对方提供的支持")]
    if values["department"] in CARRIER_DEPARTMENTS:
        if not str(values["carrier_contact"] or "").strip():
            errors["carrier_contact"] = [_("交给运输或承运商时必须填写承运商联系人")]
        if not str(values["tracking_evidence"] or "").strip():
            errors["tracking_evidence"] = [_("交给运输或承运商时必须提供轨迹证据")]
    for name, limit in (("external_party", 100), ("carrier_contact", 100)):
        if len(str(values[name] or "")) > limit:
            errors[name] = [_("不能超过 %(limit)s 字") % {"limit": limit}]
    deadline = values["deadline"]
    if not isinstance(deadline, dt.datetime) or timezone.is_naive(deadline):
        errors["deadline"] = [_("请填写带时区的截止时间")]
    elif check_deadline and deadline <= timezone.now():
        errors["deadline"] = [_("截止时间必须晚于现在")]
    assignee = values["assignee"]
    if assignee is not None and (not assignee.is_active or assignee.is_portal_user):
        errors["assignee"] = [_("负责人必须是在职员工")]
    return errors


@transaction.atomic
def subtask_create(
    *,
    actor: Any,
    ticket: Ticket,
    department: str,
    title: str,
    deadline: dt.datetime,
    problem_description: str,
    support_needed: str,
    current_progress: str = "",
    assignee: User | None = None,
    external_party: str = "",
    mandatory: bool = True,
    carrier_contact: str = "",
    tracking_evidence: str = "",
) -> Subtask:
    """Hand part of a ticket to another department. The parent ticket cannot be resolved while a
    mandatory subtask is open (``services.ticket_resolve``)."""
    locked = services._lock(ticket)
    values: dict[str, Any] = {
        "department": department,
        "title": title,
        "deadline": deadline,
        "problem_description": problem_description,
        "support_needed": support_needed,
        "current_progress": current_progress,
        "assignee": assignee,
        "external_party": external_party,
        "mandatory": mandatory,
        "carrier_contact": carrier_contact,
        "tracking_evidence": tracking_evidence,
    }
    errors = _handoff_errors(values, check_deadline=True)
    if locked.status_category == StatusCategory.CLOSED:
        errors["ticket"] = [_("工单已关闭，不能再创建协作单")]
    if errors:
        raise ValidationFailed(_("协作单信息不完整或有误"), fields=errors)
    subtask = Subtask.objects.create(
        ticket=locked,
        created_by=_user(actor),
        **{k: v.strip() if isinstance(v, str) else v for k, v in values.items()},
    )
    audit.record_created(actor=actor, obj=subtask, fields=SUBTASK_EDITABLE)
    services._touch(locked, [])
    audit.record(
        actor=actor, action=AuditAction.UPDATE, obj=locked, changes={"subtasks": [None, subtask.title]}
    )
    _notify_owner(actor, subtask, locked)
    return subtask


def _notify_owner(actor: Any, subtask: Subtask, ticket: Ticket) -> None:
    """Tell a work order's new owner (not someone who assigned it to themselves) that it is theirs."""
    owner = subtask.assignee
    if owner is None or owner == actor:
        return
    params = {"title": subtask.title[:80], "number": ticket.number}
    notify(
        users=[owner],
        kind="work_order",
        title=str(WORK_ORDER_NOTICE) % params,
        params=params,
        url=f"/tickets/{ticket.number}/",
        key=f"work-order:{subtask.pk}:{subtask.version}",
    )


def _subtask_conflict(subtask: Subtask, version: int) -> Conflict:
    changed = sorted(
        {
            name
            for changes in audit.events_for(subtask)
            .exclude(action=AuditAction.CREATE)
            .values_list("changes", flat=True)[: max(subtask.version - version, 1)]
            for name in changes
        }
    )
    return Conflict(
        _(
            "协作单已被他人修改（你的版本 %(mine)s，当前版本 %(current)s），变更字段：%(fields)s。请刷新后重试。"
        )
        % {"mine": version, "current": subtask.version, "fields": _("、").join(changed) or "—"}
    )


@transaction.atomic
def subtask_update(*, actor: Any, subtask: Subtask, version: int | None, **changes: Any) -> Subtask:
    """Edit the hand-off record. ``version`` is the version the user edited (None: don't check).
    The deadline is only checked against now when it is changed."""
    unknown = set(changes) - set(SUBTASK_EDITABLE)
    if unknown:
        raise ValidationFailed(
            _("不支持修改的字段"), fields={n: [_("不允许修改此字段")] for n in sorted(unknown)}
        )
    locked = Subtask.objects.select_for_update().get(pk=subtask.pk)
    if version is not None and version != locked.version:
        raise _subtask_conflict(locked, version)
    if locked.status in SUBTASK_CLOSED:
        raise ValidationFailed.for_field("status", _("协作单已完成或已取消，不能再修改"))
    values = {name: changes.get(name, getattr(locked, name)) for name in SUBTASK_EDITABLE}
    errors = _handoff_errors(values, check_deadline="deadline" in changes)
    if errors:
        raise ValidationFailed(_("协作单信息不完整或有误"), fields=errors)
    before = audit.snapshot(locked, SUBTASK_EDITABLE)
    for name, value in changes.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    diff = audit.diff(before, locked)
    if diff:
        locked.version += 1
        locked.save(update_fields=[*SUBTASK_EDITABLE, "version"])
        audit.record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes=diff)
        if "assignee" in diff:
            _notify_owner(actor, locked, locked.ticket)
    return locked


@transaction.atomic
def subtask_set_status(*, actor: Any, subtask: Subtask, status: str) -> Subtask:
    """Move a subtask; ``done`` stamps ``completed_at``, any other status clears it. The parent ticket's
    version is bumped because its resolvability may have changed."""
    if status not in SubtaskStatus.values:
        raise ValidationFailed.for_field("status", _("取值 %(value)r 无效") % {"value": status})
    ticket = services._lock(subtask.ticket)
    locked = Subtask.objects.select_for_update().get(pk=subtask.pk)
    if locked.status == status:
        return locked
    before = audit.snapshot(locked, ["status", "completed_at"])
    locked.status = status
    locked.completed_at = timezone.now() if status == SubtaskStatus.DONE else None
    locked.version += 1
    locked.save(update_fields=["status", "completed_at", "version"])
    audit.record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes=audit.diff(before, locked))
    services._touch(ticket, [])
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=ticket,
        changes={"subtasks": [f"{locked.title}: {before['status']}", f"{locked.title}: {status}"]},
    )
    return locked


def subtask_progress(ticket: Ticket) -> tuple[int, int]:
    """(done, total) of the ticket's subtasks; cancelled ones count in neither."""
    subtasks = ticket.subtasks.exclude(status=SubtaskStatus.CANCELLED)
    return subtasks.filter(status=SubtaskStatus.DONE).count(), subtasks.count()


# --- merge, split, link ---------------------------------------------------------------------------


def ticket_merge_errors(*, source: Ticket, target: Ticket) -> list[str]:
    """Why the duplicate ``source`` may not be merged into ``target`` (empty: it may). The merge
    refuses exactly these, and the ticket page asks the same question before the agent confirms."""
    if source.pk == target.pk:
        return [_("不能把工单合并到它自己")]
    errors: list[str] = []
    if source.merged_into_id is not None:
        errors.append(_("工单 %(number)s 已合并到其他工单") % {"number": source.number})
    if target.merged_into_id is not None:
        errors.append(_("目标工单 %(number)s 已合并到其他工单") % {"number": target.number})
    if target.status_category == StatusCategory.CLOSED:
        errors.append(_("目标工单 %(number)s 已关闭") % {"number": target.number})
    if source.status_category == StatusCategory.CLOSED:
        errors.append(_("工单 %(number)s 已关闭，无需合并") % {"number": source.number})
    if (
        source.customer_id is not None
        and target.customer_id is not None
        and source.customer_id != target.customer_id
    ):
        errors.append(_("不能合并不同客户的工单"))
    if source.is_problem and not target.is_problem:
        errors.append(_("问题工单只能合并到另一个问题工单"))
    if target.problem_id == source.pk:
        errors.append(_("不能把问题工单合并到它的事件工单"))
    return errors


def ticket_merge_check(*, source: Ticket, target: Ticket) -> None:
    """Raise what :func:`ticket_merge_errors` finds, as the merge does (field ``target``)."""
    errors = ticket_merge_errors(source=source, target=target)
    if errors:
        raise ValidationFailed(errors[0], fields={"target": errors})


@transaction.atomic
def ticket_merge(*, actor: Any, source: Ticket, target: Ticket) -> Ticket:
    """Merge the duplicate ``source`` into ``target`` (the survivor) and return the target.

    Messages, waybills, tags, watchers, links and (for problem tickets) incidents move to the target.
    The source is closed with reason ``duplicate`` directly, bypassing ``workflow``: a duplicate was
    never resolved, and requiring resolve → close would force a fake solution summary and customer
    confirmation on a ticket nobody works on any more.
    """
    locked = _lock_many([source, target])
    src, dst = locked[source.pk], locked[target.pk]
    ticket_merge_check(source=src, target=dst)

    moved_messages = Message.objects.filter(ticket=src).update(ticket=dst)
    dst_waybills = set(dst.waybills.values_list("waybill_no", flat=True))
    src.waybills.filter(waybill_no__in=dst_waybills).delete()
    TicketWaybill.objects.filter(ticket=src).update(ticket=dst)
    dst.tags.add(*src.tags.all())
    src.tags.clear()
    dst.watchers.add(*src.watchers.all())
    src.watchers.clear()
    for link in TicketLink.objects.filter(Q(source=src) | Q(target=src)):
        other_id = link.target_id if link.source_id == src.pk else link.source_id
        new_source, new_target = (dst.pk, other_id) if link.source_id == src.pk else (other_id, dst.pk)
        duplicate = TicketLink.objects.filter(
            source_id=new_source, target_id=new_target, kind=link.kind
        ).exists()
        if other_id == dst.pk or duplicate:
            link.delete()
        else:
            TicketLink.objects.filter(pk=link.pk).update(source_id=new_source, target_id=new_target)
    if src.is_problem:
        Ticket.objects.filter(problem=src).update(problem=dst)
    TicketLink.objects.create(source=src, target=dst, kind=LinkKind.MERGED, created_by=_user(actor))

    dst_fields: list[str] = ["search_text", "internal_search_text"]
    if dst.customer_id is None and src.customer_id is not None:
        dst.customer_id, dst.contact_id = src.customer_id, src.contact_id
        dst_fields += ["customer", "contact"]
    # Internal-only stays what is internal-only on both: a word public in either ticket is public now.
    dst.internal_search_text = text.without(
        text.merged(dst.internal_search_text, src.internal_search_text),
        text.without(dst.search_text, dst.internal_search_text),
        text.without(src.search_text, src.internal_search_text),
    )
    dst.search_text = f"{dst.search_text} {src.search_text}".strip()
    _system_note(dst, _("工单 %(number)s 已合并到本工单") % {"number": src.number})
    services._touch(dst, dst_fields)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=dst,
        changes={"merged_from": [None, src.number], "messages": [None, moved_messages]},
    )
    _system_note(src, _("本工单已作为重复工单合并到 %(number)s") % {"number": dst.number})
    services._move(
        actor=actor,
        ticket=src,
        status=services.default_status(StatusCategory.CLOSED),
        extra={
            "merged_into": dst,
            "close_reason": CloseReason.DUPLICATE,
            "close_note": (_("合并到 %(number)s") % {"number": dst.number})[:255],
            "closed_at": timezone.now(),
        },
    )
    return dst


def ticket_split_errors(*, ticket: Ticket, message: Message) -> list[str]:
    """Why ``message`` may not be split off ``ticket`` into a new ticket (empty: it may)."""
    if message.ticket_id != ticket.pk:
        return [_("该工单没有这条消息")]
    if ticket.merged_into_id is not None:
        return [_("已合并的工单不能拆分")]
    if ticket.status_category == StatusCategory.CLOSED:
        return [_("工单已关闭，不能拆分")]
    if message.author_kind == AuthorKind.SYSTEM:
        return [_("系统消息不能拆分")]
    if not ticket.messages.exclude(pk=message.pk).exists():
        return [_("工单只有这一条消息，不能拆分")]
    return []


class _Inherit(enum.Enum):
    INHERIT = "inherit"


# ``ticket_split(category=INHERIT)``: the new ticket keeps the original's category and custom fields.
INHERIT = _Inherit.INHERIT


@transaction.atomic
def ticket_split(
    *,
    actor: Any,
    message: Message,
    subject: str,
    category: Category | _Inherit | None = INHERIT,
    custom_fields: Mapping[str, Any] | None = None,
) -> Ticket:
    """Move ``message`` into a new ticket of the same customer (same contact, channel, type, priority and
    team) and return it. Its category is ``category`` with ``custom_fields`` — checked against the
    category's required fields as on create; with ``INHERIT``, the original's category and fields
    (``custom_fields`` then replaces the fields). Internal notes may be split; the only message of a
    ticket may not (that is just the ticket)."""
    original = services._lock(message.ticket)
    locked_message = Message.objects.select_for_update().get(pk=message.pk)
    errors = ticket_split_errors(ticket=original, message=locked_message)
    if errors:
        raise ValidationFailed.for_field("message", errors[0])
    if isinstance(category, _Inherit):
        category = original.category
        fields = dict(original.custom_fields) if custom_fields is None else dict(custom_fields)
    else:
        fields = dict(custom_fields or {})
    new = services.ticket_create(
        actor=actor,
        data=services.TicketData(
            subject=subject,
            description=locked_message.body_text,
            channel=original.channel,
            type=original.type,
            category=category,
            priority=original.priority,
            customer=original.customer,
            contact=original.contact,
            team=original.team,
            custom_fields=fields,
        ),
        origin=original,
    )
    Message.objects.filter(pk=locked_message.pk).update(ticket=new)
    TicketLink.objects.create(source=new, target=original, kind=LinkKind.SPLIT, created_by=_user(actor))
    _system_note(original, _("一条消息已拆分为新工单 %(number)s") % {"number": new.number})
    services._touch(original, [])
    audit.record(
        actor=actor, action=AuditAction.UPDATE, obj=original, changes={"split_to": [None, new.number]}
    )
    return new


def _existing_link(ticket: Ticket, other: Ticket, kind: str) -> Q:
    return Q(source=ticket, target=other, kind=kind) | Q(source=other, target=ticket, kind=kind)


@transaction.atomic
def ticket_link(*, actor: Any, ticket: Ticket, other: Ticket, kind: str = LinkKind.RELATED) -> TicketLink:
    """Link two tickets. A link counts in both directions: linking B to A after A to B is a duplicate."""
    if kind not in LinkKind.values:
        raise ValidationFailed.for_field("kind", _("取值 %(value)r 无效") % {"value": kind})
    if ticket.pk == other.pk:
        raise ValidationFailed.for_field("other", _("工单不能关联自己"))
    locked = _lock_many([ticket, other])
    if TicketLink.objects.filter(_existing_link(ticket, other, kind)).exists():
        raise ValidationFailed.for_field(
            "other", _("已与工单 %(number)s 关联") % {"number": locked[other.pk].number}
        )
    link = TicketLink.objects.create(
        source=locked[ticket.pk], target=locked[other.pk], kind=kind, created_by=_user(actor)
    )
    services._touch(locked[ticket.pk], [])
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked[ticket.pk],
        changes={"links": [None, f"{kind} {locked[other.pk].number}"]},
    )
    return link


@transaction.atomic
def ticket_unlink(*, actor: Any, ticket: Ticket, other: Ticket, kind: str = LinkKind.RELATED) -> None:
    locked = _lock_many([ticket, other])
    deleted, _rows = TicketLink.objects.filter(_existing_link(ticket, other, kind)).delete()
    if not deleted:
        raise NotFound(_("两个工单之间没有这种关联"))
    services._touch(locked[ticket.pk], [])
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked[ticket.pk],
        changes={"links": [f"{kind} {locked[other.pk].number}", None]},
    )


# --- problems and incidents -----------------------------------------------------------------------


def _require_problem_manager(actor: Any) -> None:
    if not isinstance(actor, User) or not actor.has_perm("tickets.manage_problem"):
        raise PermissionDenied(_("没有管理问题工单的权限"))


def _locked_problem(problem: Ticket) -> Ticket:
    locked = services._lock(problem)
    if not locked.is_problem:
        raise ValidationFailed.for_field(
            "problem", _("工单 %(number)s 不是问题工单") % {"number": locked.number}
        )
    return locked


@transaction.atomic
def problem_mark(*, actor: Any, ticket: Ticket) -> Ticket:
    """Make ``ticket`` the problem ticket (总工单) of an outage, so incidents can be linked to it."""
    _require_problem_manager(actor)
    locked = services._lock(ticket)
    if locked.is_problem:
        return locked
    if locked.problem_id is not None:
        raise ValidationFailed.for_field("ticket", _("该工单已是其他问题工单的事件，不能再设为问题工单"))
    if locked.merged_into_id is not None or locked.status_category == StatusCategory.CLOSED:
        raise ValidationFailed.for_field("ticket", _("已关闭的工单不能设为问题工单"))
    locked.is_problem = True
    services._touch(locked, ["is_problem"])
    audit.record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes={"is_problem": [False, True]})
    return locked


@transaction.atomic
def incident_link(*, actor: Any, problem: Ticket, incidents: Iterable[Ticket]) -> list[Ticket]:
    """Link tickets (picked by hand, or a queryset from a bulk filter) to ``problem`` as its incidents
    and return the newly linked ones. Tickets already linked to this problem are skipped; anything
    invalid refuses the whole batch — a ticket the actor may not see as if it did not exist."""
    _require_problem_manager(actor)
    wanted = list(incidents)
    seen = set(visible_tickets(actor).filter(pk__in=[t.pk for t in wanted]).values_list("pk", flat=True))
    hidden = [t for t in wanted if t.pk not in seen]
    if hidden:
        raise ValidationFailed.for_field("incidents", _("工单 %(ref)s 不存在") % {"ref": hidden[0].number})
    return _link_incidents(actor=actor, problem=problem, incidents=wanted)


def _link_incidents(*, actor: Any, problem: Ticket, incidents: Iterable[Ticket]) -> list[Ticket]:
    """``incident_link`` without the permission check: also the path of automatic linking (actor None,
    the system), so both write the same audit events. Precondition: inside a transaction."""
    wanted = list(incidents)
    if any(t.pk == problem.pk for t in wanted):
        raise ValidationFailed.for_field("incidents", _("问题工单不能关联自己"))
    locked_problem = _locked_problem(problem)
    locked = _lock_many(wanted)
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
        services._touch(ticket, ["problem"])
        audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=ticket,
            changes={"problem": [None, str(locked_problem)]},
        )
        linked.append(ticket)
    if linked:
        services._touch(locked_problem, [])
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
    _require_problem_manager(actor)
    update_id = update_id.strip()
    if not update_id or len(update_id) > 64:
        raise ValidationFailed.for_field("update_id", _("缺少更新编号"))
    if not text.to_text(text.sanitize(body.strip())):
        raise ValidationFailed.for_field("body", _("内容不能为空"))
    locked = _locked_problem(problem)
    already = AuditEvent.objects.filter(
        content_type__app_label="tickets",
        content_type__model="ticket",
        object_id=str(locked.pk),
        changes__problem_update__1=update_id,
    ).exists()
    if already:
        return []
    messages = [
        services.message_add(actor=actor, ticket=incident, body=body, visibility=Visibility.PUBLIC)
        for incident in _open_incidents(locked, actor)
    ]
    services._touch(locked, [])
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
    _require_problem_manager(actor)
    _locked_problem(problem)
    resolved_problem = services.ticket_resolve(actor=actor, ticket=problem, solution_summary=solution_summary)
    result = ProblemResolution(problem=resolved_problem)
    if not resolve_incidents:
        return result
    for incident in _open_incidents(resolved_problem, actor):
        blocked = incident.subtasks.filter(mandatory=True).exclude(status__in=SUBTASK_CLOSED).exists()
        if blocked:
            result.skipped.append(incident)
            continue
        result.resolved.append(
            services.ticket_resolve(actor=actor, ticket=incident, solution_summary=solution_summary)
        )
    return result


# --- automatic linking: a problem's incident rule -------------------------------------------------


def _rule_summary(rule: IncidentRule) -> str:
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
    _require_problem_manager(actor)
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
    locked = _locked_problem(problem)
    if locked.status_category not in ACTIVE_CATEGORIES or locked.merged_into_id is not None:
        errors["problem"] = [_("问题工单已解决或关闭，不能设置自动关联规则")]
    if errors:
        raise ValidationFailed(_("自动关联规则有误"), fields=errors)
    rule = IncidentRule.objects.filter(problem=locked).first()
    before = _rule_summary(rule) if rule is not None else None
    if rule is None:
        rule = IncidentRule(problem=locked)
    rule.waybills, rule.route_nodes, rule.updated_at = numbers, nodes, now
    rule.set_by = _user(actor)
    rule.ends_at = ends_at.astimezone(dt.UTC) if ends_at is not None else None  # as read back
    rule.save()
    rule.categories.set(categories)
    after = _rule_summary(rule)
    if after != before:
        services._touch(locked, [])
        audit.record(
            actor=actor, action=AuditAction.UPDATE, obj=locked, changes={"incident_rule": [before, after]}
        )
    return rule


@transaction.atomic
def incident_rule_clear(*, actor: Any, problem: Ticket) -> None:
    """Stop linking new tickets to ``problem`` automatically (no rule: nothing to do)."""
    _require_problem_manager(actor)
    locked = _locked_problem(problem)
    rule = IncidentRule.objects.filter(problem=locked).first()
    if rule is None:
        return
    before = _rule_summary(rule)
    rule.delete()
    services._touch(locked, [])
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

    def matches(self, ticket: Ticket, *, waybills: set[str], node: str, written: str) -> bool:
        """In force for the ticket's category and, before its end, a shared waybill; or a route node
        (a hub or city) named in the exception-node field or written in the subject or description
        (``郑州转运中心`` matches "包裹在郑州转运中心滞留三天", not "广州转运中心 … 郑州发出的货")."""
        if self.ends_at is not None and self.ends_at <= timezone.now():
            return False
        if self.categories and ticket.category_id not in self.categories:
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


def incident_autolink(*, ticket: Ticket, waybills: Sequence[str]) -> Ticket | None:
    """Link the just-created ``ticket`` to the first open problem (oldest first) whose rule it matches
    and whose rule's author (``set_by``, still active) may see the ticket, through the same path (and
    audit events) as linking by hand, by the system; return that problem.

    Called by ``services.ticket_create`` inside its transaction, so every entry path links. The rules
    are cached between requests (kefu.core.reference; saving or deleting a rule invalidates them), so a
    create reads none; a match reads its problem, which must still be an open problem, and the rule's
    author and what they may see."""
    rules = reference.cached("incident-rules", _rules)
    if not rules:
        return None
    node = str((ticket.custom_fields or {}).get(ROUTE_FIELD) or "").strip().casefold()
    written = f"{ticket.subject}\n{ticket.description}".casefold()
    wanted = set(waybills)
    for rule in rules:
        if not rule.matches(ticket, waybills=wanted, node=node, written=written):
            continue
        problem = Ticket.objects.filter(
            pk=rule.problem_id, is_problem=True, status_category__in=ACTIVE_CATEGORIES, merged_into=None
        ).first()
        if problem is not None and _rule_may_reach(rule, ticket):
            _link_incidents(actor=None, problem=problem, incidents=[ticket])
            return problem
    return None


def _rule_may_reach(rule: _Rule, ticket: Ticket) -> bool:
    if rule.set_by_id is None:
        return False
    author = User.objects.filter(pk=rule.set_by_id, is_active=True).first()
    return author is not None and visible_tickets(author).filter(pk=ticket.pk).exists()


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
        rule_summary=_rule_summary(rule) if rule is not None else "",
    )
