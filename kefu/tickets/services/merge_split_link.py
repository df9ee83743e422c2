"""Merging a duplicate into its survivor, splitting a message off into a new ticket, and links between
tickets. Tickets written together are locked in pk order (``common.lock_many``)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import audit
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.models import AuditAction
from kefu.tickets import text
from kefu.tickets.enums import AuthorKind, CloseReason, LinkKind, StatusCategory
from kefu.tickets.models import Category, Message, Ticket, TicketLink, TicketWaybill
from kefu.tickets.services.common import default_status, lock, lock_many, system_note, touch, user_of
from kefu.tickets.services.create import TicketData, ticket_create
from kefu.tickets.services.lifecycle import status_change, status_change_errors


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
    else:  # the merge closes it: as the workflow allows a duplicate to be closed
        errors += status_change_errors(
            ticket=source, to=default_status(StatusCategory.CLOSED), duplicate=True
        )
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
    The source is closed with reason ``duplicate`` through the lifecycle, as the workflow closes a
    duplicate (``workflow.DUPLICATE_CLOSES_FROM``: from any status but closed, with no solution summary
    or customer confirmation — nobody works on it any more).
    """
    locked = lock_many([source, target])
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
    TicketLink.objects.create(source=src, target=dst, kind=LinkKind.MERGED, created_by=user_of(actor))

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
    system_note(dst, _("工单 %(number)s 已合并到本工单") % {"number": src.number})
    touch(dst, dst_fields)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=dst,
        changes={"merged_from": [None, src.number], "messages": [None, moved_messages]},
    )
    system_note(src, _("本工单已作为重复工单合并到 %(number)s") % {"number": dst.number})
    status_change(
        actor=actor,
        ticket=src,
        to=default_status(StatusCategory.CLOSED),
        duplicate=True,
        changes={
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
    original = lock(message.ticket)
    locked_message = Message.objects.select_for_update().get(pk=message.pk)
    errors = ticket_split_errors(ticket=original, message=locked_message)
    if errors:
        raise ValidationFailed.for_field("message", errors[0])
    if isinstance(category, _Inherit):
        category = original.category
        fields = original.custom_fields if custom_fields is None else custom_fields
    else:
        fields = custom_fields or {}
    new = ticket_create(
        actor=actor,
        data=TicketData.continuing(
            original,
            subject=subject,
            description=locked_message.body_text,
            category=category,
            custom_fields=fields,
        ),
        origin=original,
    )
    Message.objects.filter(pk=locked_message.pk).update(ticket=new)
    TicketLink.objects.create(source=new, target=original, kind=LinkKind.SPLIT, created_by=user_of(actor))
    system_note(original, _("一条消息已拆分为新工单 %(number)s") % {"number": new.number})
    touch(original, [])
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
    locked = lock_many([ticket, other])
    if TicketLink.objects.filter(_existing_link(ticket, other, kind)).exists():
        raise ValidationFailed.for_field(
            "other", _("已与工单 %(number)s 关联") % {"number": locked[other.pk].number}
        )
    link = TicketLink.objects.create(
        source=locked[ticket.pk], target=locked[other.pk], kind=kind, created_by=user_of(actor)
    )
    touch(locked[ticket.pk], [])
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked[ticket.pk],
        changes={"links": [None, f"{kind} {locked[other.pk].number}"]},
    )
    return link


@transaction.atomic
def ticket_unlink(*, actor: Any, ticket: Ticket, other: Ticket, kind: str = LinkKind.RELATED) -> None:
    locked = lock_many([ticket, other])
    deleted, _rows = TicketLink.objects.filter(_existing_link(ticket, other, kind)).delete()
    if not deleted:
        raise NotFound(_("两个工单之间没有这种关联"))
    touch(locked[ticket.pk], [])
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked[ticket.pk],
        changes={"links": [f"{kind} {locked[other.pk].number}", None]},
    )
