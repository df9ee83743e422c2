"""Cross-department work orders (协作单): the hand-off record another department acts on. The parent ticket
cannot be resolved while a mandatory work order is open (``lifecycle.ticket_resolve``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import audit
from kefu.core.errors import Conflict, ValidationFailed
from kefu.core.events import publish
from kefu.core.models import AuditAction
from kefu.tickets.enums import SUBTASK_CLOSED, Department, StatusCategory, SubtaskStatus
from kefu.tickets.events import WorkOrderAssigned, WorkOrderClosed, WorkOrderOpened, about
from kefu.tickets.models import Subtask, Ticket
from kefu.tickets.services.common import lock, touch, user_of

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


# Shown in the reader's language when the notification is read (kefu.core.notifications).


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
    mandatory subtask is open (``ticket_resolve``)."""
    locked = lock(ticket)
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
        created_by=user_of(actor),
        **{k: v.strip() if isinstance(v, str) else v for k, v in values.items()},
    )
    audit.record_created(actor=actor, obj=subtask, fields=SUBTASK_EDITABLE)
    touch(locked, [])
    audit.record(
        actor=actor, action=AuditAction.UPDATE, obj=locked, changes={"subtasks": [None, subtask.title]}
    )
    publish(
        WorkOrderOpened(
            **about(locked, actor),
            work_order_id=subtask.pk,
            department=subtask.department,
            assignee_id=subtask.assignee_id,
            deadline=subtask.deadline,
        )
    )
    _publish_owner(actor, subtask, locked)
    return subtask


def _publish_owner(actor: Any, subtask: Subtask, ticket: Ticket) -> None:
    """A work order has a new owner (the notices tell them, unless they assigned it to themselves)."""
    if subtask.assignee_id is not None:
        publish(
            WorkOrderAssigned(
                **about(ticket, actor),
                work_order_id=subtask.pk,
                version=subtask.version,
                title=subtask.title,
                assignee_id=subtask.assignee_id,
            )
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
            _publish_owner(actor, locked, locked.ticket)
    return locked


@transaction.atomic
def subtask_set_status(*, actor: Any, subtask: Subtask, status: str) -> Subtask:
    """Move a subtask; ``done`` stamps ``completed_at``, any other status clears it. The parent ticket's
    version is bumped because its resolvability may have changed."""
    if status not in SubtaskStatus.values:
        raise ValidationFailed.for_field("status", _("取值 %(value)r 无效") % {"value": status})
    ticket = lock(subtask.ticket)
    locked = Subtask.objects.select_for_update().get(pk=subtask.pk)
    if locked.status == status:
        return locked
    before = audit.snapshot(locked, ["status", "completed_at"])
    locked.status = status
    locked.completed_at = timezone.now() if status == SubtaskStatus.DONE else None
    locked.version += 1
    locked.save(update_fields=["status", "completed_at", "version"])
    audit.record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes=audit.diff(before, locked))
    touch(ticket, [])
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=ticket,
        changes={"subtasks": [f"{locked.title}: {before['status']}", f"{locked.title}: {status}"]},
    )
    if status in SUBTASK_CLOSED and before["status"] not in SUBTASK_CLOSED:
        publish(WorkOrderClosed(**about(ticket, actor), work_order_id=locked.pk, status=status))
    return locked


def subtask_progress(ticket: Ticket) -> tuple[int, int]:
    """(done, total) of the ticket's subtasks; cancelled ones count in neither."""
    subtasks = ticket.subtasks.exclude(status=SubtaskStatus.CANCELLED)
    return subtasks.filter(status=SubtaskStatus.DONE).count(), subtasks.count()
