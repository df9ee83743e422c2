"""Template helpers shared by every app."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kefu.core.i18n import pick

register = template.Library()


@register.filter
def localized(obj: Any) -> str:
    """Configuration rows carry ``name`` (zh-hans) and ``name_en``: show the one for the page's language."""
    return pick(getattr(obj, "name", obj), getattr(obj, "name_en", ""))


@lru_cache(maxsize=256)
def _choice_labels(field: Any, language: str) -> dict[Any, str]:
    return {value: str(label) for value, label in field.flatchoices}


@register.filter
def display(obj: Any, field_name: str) -> str:
    """``obj.get_<field>_display()`` for long lists: Django rebuilds (and translates) the whole choice
    list on every call; this reads a table built once per field and language."""
    field = obj._meta.get_field(field_name)
    value = getattr(obj, field.attname)
    return _choice_labels(field, get_language() or "").get(value, str(value))


def _just_now(moment: dt.datetime) -> bool:
    return (timezone.now() - moment).total_seconds() < 60


@register.filter
def age(moment: dt.datetime | None) -> str:
    """How long ago ``moment`` was, in the largest unit (``3 小时`` / ``3 hours``); under a minute:
    ``刚刚`` / ``just now``."""
    if moment is None:
        return "—"
    return _("刚刚") if _just_now(moment) else timesince(moment, depth=1)


@register.filter
def ago(moment: dt.datetime | None) -> str:
    """``3 小时前`` / ``3 hours ago``; under a minute: ``刚刚`` / ``just now``."""
    if moment is None:
        return "—"
    return _("刚刚") if _just_now(moment) else _("%(age)s前") % {"age": timesince(moment, depth=1)}


@register.filter
def joined(values: Any) -> str:
    """A list joined with the page language's separator (、 in Chinese, ", " in English)."""
    return str(_("、")).join(str(v) for v in values)
