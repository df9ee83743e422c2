"""Optimistic locking for tickets: a write that carries the version the user read is refused (409) when
a change made since touched what it writes, naming who changed what, when, in plain words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core.errors import Conflict
from kefu.core.models import AuditAction, AuditEvent
from kefu.tickets.enums import AuthorKind, Visibility
from kefu.tickets.models import Message, Status, Ticket


def check_version(
    ticket: Ticket, version: int | None, *, fields: Iterable[str] | None = None, actor: Any = None
) -> None:
    """Precondition: ``ticket`` is row-locked. 409 when the ticket changed since ``version`` in one of
    ``fields`` (``None``: in anything), saying who changed what and when in plain words. A change to
    other fields is no conflict: the caller's write goes on top of it (someone else's assignment does
    not hold back a status change). ``"messages"`` in ``fields`` means another person's message.

    Which changes came after ``version``: ticket audit events carry the version they made
    (``changes["version"]``, hidden in the timeline) and messages the ticket version they made
    (``Message.ticket_version``). Events without that mark (written before it existed, or by
    collaboration writes that bump the version without touching the fields a form edits) count as
    newer when they are among the latest ``ticket.version - version`` events — the safe side."""
    if version is None or version >= ticket.version:
        return
    wanted = None if fields is None else set(fields)
    news = [sentence for _at, sentence in _changes_since(ticket, version, wanted, actor=actor)]
    if wanted is not None and not news:
        return
    if not news:
        news = [
            _("工单在你打开之后有了新变更（版本 %(mine)s → %(current)s）")
            % {"mine": version, "current": ticket.version}
        ]
    raise Conflict(
        _("你打开页面之后，工单有了变更：%(changes)s。请查看后再提交。") % {"changes": _("；").join(news)}
    )


def _changes_since(
    ticket: Ticket, version: int, wanted: set[str] | None, *, actor: Any
) -> list[tuple[dt.datetime, str]]:
    """The changes to ``wanted`` fields made after ``version``, oldest first, each in plain words."""
    found: list[tuple[dt.datetime, str]] = []
    events = (
        AuditEvent.objects.filter(
            content_type__app_label="tickets", content_type__model="ticket", object_id=str(ticket.pk)
        )
        .exclude(action__in=(AuditAction.VIEW_PII, AuditAction.CREATE))
        .order_by("-id")[: ticket.version - version]
    )
    for event in events:
        changes = event.changes if isinstance(event.changes, dict) else {}
        made = changes.get("version")
        if isinstance(made, list) and len(made) == 2 and isinstance(made[1], int) and made[1] <= version:
            continue
        for name, pair in changes.items():
            if name in ("version", "status_category", "search_text") or (
                wanted is not None and name not in wanted
            ):
                continue
            if isinstance(pair, list) and len(pair) == 2:
                found.append((event.at, _change_in_words(event.actor_label, event.at, name, pair)))
    if wanted is None or "messages" in wanted:
        others = ticket.messages.filter(ticket_version__gt=version).select_related("author")
        if isinstance(actor, User):
            others = others.exclude(author=actor)
        for message in others.order_by("id"):
            found.append((message.created_at, _message_in_words(message)))
    return sorted(found, key=lambda item: item[0])


def _value_in_words(name: str, value: Any) -> str:
    if value in (None, "", [], {}):
        return "—"
    if name == "status":
        status = Status.objects.filter(name=str(value)).first()
        if status is not None:
            return (
                status.name_en if status.name_en and (get_language() or "").startswith("en") else status.name
            )
    try:
        choices = dict(getattr(Ticket._meta.get_field(name), "flatchoices", None) or [])
    except FieldDoesNotExist:
        choices = {}
    if value in choices:
        return str(choices[value])
    if isinstance(value, dict):
        return _("、").join(f"{k}：{v}" for k, v in value.items())
    if isinstance(value, list):
        return _("、").join(str(v) for v in value) or "—"
    return str(value)


def _change_in_words(who: str, at: dt.datetime, name: str, pair: list[Any]) -> str:
    """ "王芳 在 10:42 把状态从 处理中 改为 待客户回复"."""
    try:
        label = str(getattr(Ticket._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        label = {"tags": _("标签"), "waybills": _("运单号")}.get(name, name)
    return _("%(who)s 在 %(time)s 把%(field)s从 %(old)s 改为 %(new)s") % {
        "who": who,
        "time": timezone.localtime(at).strftime("%H:%M"),
        "field": label,
        "old": _value_in_words(name, pair[0]),
        "new": _value_in_words(name, pair[1]),
    }


def _message_in_words(message: Message) -> str:
    params = {
        "who": str(message.author) if message.author else _("客户"),
        "time": timezone.localtime(message.created_at).strftime("%H:%M"),
    }
    if message.author_kind == AuthorKind.CUSTOMER:
        return _("客户 在 %(time)s 发来了新消息") % params
    if message.visibility == Visibility.INTERNAL:
        return _("%(who)s 在 %(time)s 添加了内部备注") % params
    return _("%(who)s 在 %(time)s 回复了客户") % params
