"""The conversation: public replies and internal notes, with attachments and @mentions. A customer's
message moves the ticket back to the agent (pending → open, resolved → reopened)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import audit
from kefu.core.errors import ValidationFailed
from kefu.core.events import publish
from kefu.core.models import AuditAction
from kefu.customers.models import Contact
from kefu.tickets import text
from kefu.tickets.enums import AuthorKind, StatusCategory, Visibility
from kefu.tickets.events import MessageAdded, about
from kefu.tickets.models import Attachment, Message, Ticket
from kefu.tickets.services.common import default_status, lock, touch, user_of
from kefu.tickets.services.conflicts import check_version
from kefu.tickets.services.lifecycle import status_change, status_change_check


@dataclass(frozen=True)
class AttachmentLimits:
    max_bytes: int
    allowed_types: frozenset[str]


def attachment_limits() -> AttachmentLimits:
    return AttachmentLimits(
        max_bytes=settings.KEFU_ATTACHMENT_MAX_BYTES, allowed_types=frozenset(settings.KEFU_ATTACHMENT_TYPES)
    )


def _check_attachment(upload: File[Any]) -> str:
    import mimetypes

    limits = attachment_limits()
    name = upload.name or "file"
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type not in limits.allowed_types:
        raise ValidationFailed.for_field(
            "attachments", _("不允许的附件类型：%(name)s（%(type)s）") % {"name": name, "type": content_type}
        )
    if (upload.size or 0) > limits.max_bytes:
        raise ValidationFailed.for_field(
            "attachments",
            _("附件 %(name)s 超过上限 %(limit)s MB")
            % {"name": name, "limit": limits.max_bytes // (1024 * 1024)},
        )
    return content_type


@transaction.atomic
def message_add(
    *,
    actor: Any,
    ticket: Ticket,
    body: str,
    visibility: str,
    author_kind: str = AuthorKind.AGENT,
    contact: Contact | None = None,
    attachments: Sequence[File[Any]] = (),
    seen_version: int | None = None,
    rejects_resolution: bool = False,
) -> Message:
    """Add a public reply or an internal note. A reply composed while the ticket changed in a way that
    matters to it (``seen_version`` older than a status change or another person's message) is held:
    Conflict naming the change, nothing sent. Published as ``MessageAdded`` (the notices subscribe: the
    people @mentioned, the assignee of a customer's message — ``rejects_resolution`` says "rejected"
    instead of "replied"), before the status change a customer's message makes."""
    locked = lock(ticket)
    check_version(locked, seen_version, fields=("status", "messages"), actor=actor)
    if visibility not in Visibility.values:
        raise ValidationFailed.for_field("visibility", _("取值 %(value)r 无效") % {"value": visibility})
    if author_kind in (AuthorKind.CUSTOMER,) and visibility != Visibility.PUBLIC:
        raise ValidationFailed.for_field("visibility", _("客户不能添加内部备注"))
    if locked.status_category == StatusCategory.CLOSED and visibility == Visibility.PUBLIC:
        raise ValidationFailed.for_field("status", _("工单已关闭，不能再回复；请重新打开或新建工单"))
    safe = text.sanitize(body.strip())
    plain = text.to_text(safe)
    if not plain and not attachments:
        raise ValidationFailed.for_field("body", _("内容不能为空"))
    if len(body) > 50_000:
        raise ValidationFailed.for_field("body", _("内容不能超过 50000 字"))
    types = [_check_attachment(upload) for upload in attachments]
    # The customer answered: the ticket needs the agent again (after a resolution, that is a reopen).
    # The workflow is asked before anything, files included, is written.
    back_to = (
        default_status(StatusCategory.OPEN)
        if author_kind == AuthorKind.CUSTOMER
        and locked.status_category in (StatusCategory.PENDING, StatusCategory.RESOLVED)
        else None
    )
    if back_to is not None:
        status_change_check(ticket=locked, to=back_to)
    message = Message.objects.create(
        ticket=locked,
        author_kind=author_kind,
        author=user_of(actor),
        contact=contact,
        visibility=visibility,
        body_html=safe,
        body_text=plain,
        ticket_version=locked.version + 1,  # the version the save below gives the ticket
    )
    for upload, content_type in zip(attachments, types, strict=True):
        Attachment.objects.create(
            message=message,
            file=upload,
            name=(upload.name or "file")[:255],
            size=upload.size or 0,
            content_type=content_type,
        )
    mentioned = list(
        User.objects.filter(username__in=text.MENTION.findall(plain), is_active=True).exclude(role="customer")
    )
    if mentioned:
        message.mentions.set(mentioned)
    publish(
        MessageAdded(
            **about(locked, actor),
            message_id=message.pk,
            visibility=visibility,
            author_kind=author_kind,
            mentioned_ids=tuple(u.pk for u in mentioned),
            assignee_id=locked.assignee_id,
            rejects_resolution=rejects_resolution,
        )
    )
    fields = ["search_text", "internal_search_text"]
    added = text.tokens(plain)
    if visibility == Visibility.PUBLIC:
        locked.internal_search_text = text.without(locked.internal_search_text, added)
    else:
        locked.internal_search_text = text.internal_only(
            search_text=locked.search_text,
            internal_search_text=locked.internal_search_text,
            note_tokens=added,
        )
    locked.search_text = f"{locked.search_text} {added}".strip()
    if (
        visibility == Visibility.PUBLIC
        and author_kind == AuthorKind.AGENT
        and locked.first_response_at is None
    ):
        locked.first_response_at = message.created_at
        fields.append("first_response_at")
    if back_to is not None:
        status_change(actor=actor, ticket=locked, to=back_to, save_also=fields)
    else:
        touch(locked, fields)
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=message,
        changes={"ticket": [None, locked.number], "visibility": [None, visibility]},
    )
    return message
