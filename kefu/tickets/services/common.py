"""What every ticket write shares: the row locks (one ticket, or several in pk order so two writers
never deadlock), the version bump, the configured default statuses and categories, and the actor as a
user."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import reference
from kefu.core.errors import ValidationFailed
from kefu.tickets import text
from kefu.tickets.enums import AuthorKind, Visibility
from kefu.tickets.models import Category, Message, Status, Ticket


def category_named(code: str) -> Category | None:
    """The active category ``code`` with its default team (cached: kefu.core.reference)."""
    return reference.cached(
        f"category:{code}",
        lambda: Category.objects.select_related("default_team").filter(code=code, is_active=True).first(),
    )


def default_status(category: str) -> Status:
    status = reference.cached(
        f"status:{category}",
        lambda: Status.objects.filter(category=category).order_by("-is_default", "position").first(),
    )
    if status is None:
        raise ValidationFailed.for_field(
            "status", _("没有配置“%(category)s”类别的状态") % {"category": category}
        )
    return status


def check_choice(value: str, choices: Any, name: str, errors: dict[str, list[str]]) -> None:
    if value not in choices.values:
        errors.setdefault(name, []).append(_("取值 %(value)r 无效") % {"value": value})


def touch(ticket: Ticket, fields: list[str]) -> None:
    ticket.version += 1
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=[*fields, "version", "updated_at"])


def versioned(changes: Mapping[str, Any], ticket: Ticket) -> dict[str, Any]:
    """An audit diff with the version it made (after ``touch``), so a conflict check can tell the
    changes after a version from those before it. The timeline does not show it."""
    return {**changes, "version": [ticket.version - 1, ticket.version]}


def lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def lock_many(tickets: Iterable[Ticket]) -> dict[int, Ticket]:
    """Row-lock ``tickets`` in pk order (deadlock-free) and return fresh copies by pk."""
    pks = sorted({t.pk for t in tickets})
    return {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=pks).order_by("pk")}


def user_of(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None


def system_note(ticket: Ticket, body: str) -> Message:
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
