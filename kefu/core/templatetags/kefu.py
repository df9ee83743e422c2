"""Template helpers shared by every app."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def localized(obj: Any) -> str:
    """Configuration rows carry ``name`` (zh-hans) and ``name_en``: show the one for the page's language."""
    name_en = getattr(obj, "name_en", "")
    if name_en and (get_language() or "").startswith("en"):
        return str(name_en)
    return str(getattr(obj, "name", obj))


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
