"""A ticket's tags: cleaned names, created on first use, added and removed (never overwritten, so
concurrent edits merge)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed
from kefu.tickets.models import Tag, Ticket


def clean_tags(names: Iterable[str]) -> list[str]:
    cleaned = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    for name in cleaned:
        if len(name) > 32:
            raise ValidationFailed.for_field("tags", _("标签不能超过 32 字：%(tag)s") % {"tag": name})
    return cleaned


def tags_named(names: list[str]) -> list[Tag]:
    """The tags called ``names``, creating the missing ones (a concurrent creator is not an error)."""
    if not names:
        return []
    tags = list(Tag.objects.filter(name__in=names))
    if len(tags) < len(names):
        known = {tag.name for tag in tags}
        Tag.objects.bulk_create([Tag(name=n) for n in names if n not in known], ignore_conflicts=True)
        tags = list(Tag.objects.filter(name__in=names))
    return tags


def set_tags(ticket: Ticket, *, add: Iterable[str], remove: Iterable[str]) -> tuple[list[str], list[str]]:
    names = clean_tags(add)
    removed_names = [n.strip() for n in remove if n and n.strip()]
    if not names and not removed_names:
        return [], []
    before = set(ticket.tags.values_list("name", flat=True))
    ticket.tags.add(*tags_named(names))
    ticket.tags.remove(*Tag.objects.filter(name__in=removed_names))
    after = set(ticket.tags.values_list("name", flat=True))
    return sorted(after - before), sorted(before - after)
