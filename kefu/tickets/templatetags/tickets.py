"""Template helpers of the ticket pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def lookup(mapping: Any, key: str) -> Any:
    """``values|lookup:name`` for a dict or a QueryDict (its last value); empty when missing."""
    if mapping is None:
        return ""
    getter = getattr(mapping, "get", None)
    value = getter(key, "") if getter else ""
    return "" if value is None else value


@register.filter
def field_label(spec: Any) -> str:
    """A custom field's label in the page's language."""
    if spec.label_en and (get_language() or "").startswith("en"):
        return str(spec.label_en)
    return str(spec.label)
